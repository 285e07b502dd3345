"""Alert composition and timing: what an alert says (:mod:`.compose`), who hears of it (mutes,
minimum severity: :mod:`.audience`), when it may go out (quiet hours, digests: :mod:`.timing`)
and how held alerts are folded into one digest (:mod:`.digest`). Pure; imports :mod:`bot.domain`.
"""
