"""The deliver stage: outbox rows to chat posts, with leases, retries and quiet-hour/digest holds.
I/O; imports :mod:`bot.store` and the channel senders it is given.
"""
