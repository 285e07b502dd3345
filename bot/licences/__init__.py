"""Licence knowledge: identifiers to ScanCode categories and a ranking, and the reading of whole
licence texts. Pure; imports :mod:`bot.domain` and :mod:`bot.text`.
"""
