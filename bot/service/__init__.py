"""The executor: runs commands against the store, the sources, the checker and the dispatcher. The
only API front ends (CLI, Slack, Discord) use.
"""
