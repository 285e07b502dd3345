"""The shared vocabulary every stage speaks: targets and their references, changes, alerts, the
typed facts a source produces, and the errors a user may see. Pure; imports nothing else of
policybot.
"""
