"""What a user may ask: the one grammar shared by every front end, the validation of what is
watched, the scope of a channel (design §6 invariant 9), watch lists and presets. Imports the
store for scoping only.
"""
