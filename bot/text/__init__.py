"""Text handling shared by the fetch and detect stages: HTML to normalised lines, feed bytes to
entries, content sniffing, user regexes on RE2, bounded line diffs and the figures of a pricing
page. Pure; imports only :mod:`bot.domain`.
"""
