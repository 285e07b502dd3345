"""The check stage: tick, claim, fetch through a source, detect, record with the outbox rows in one
transaction. I/O; imports the pure packages, :mod:`bot.sources` and :mod:`bot.store`.
"""
