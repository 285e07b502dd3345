"""The detect stage: facts of two checks in, the changes they mean out. Repositories
(:mod:`.repo`), organisations (:mod:`.org`), feeds (:mod:`.feed`). Pure; imports the pure
packages below it.
"""
