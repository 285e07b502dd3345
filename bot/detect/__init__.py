"""The detect stage: facts of two checks in, the changes they mean out. Repositories
(:mod:`.repo`), organisations (:mod:`.org`), feeds (:mod:`.feed`), and a watch's own health
(failing, recovered, gone once or for sure: :mod:`.health`). Pure; imports the pure packages
below it.
"""
