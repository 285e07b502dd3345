"""policybot: tells a team in chat when a platform they build on changes the rules."""

__version__ = "0.1.0"
