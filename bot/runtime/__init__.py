"""A long-running process: the scheduler loop, the ops HTTP server (health, metrics, Hub webhooks,
evidence pages), and the single-runner lock.
"""
