"""Evidence pages: a signed web page for every change and every watched target (issue 17).

``links`` signs and checks capability URLs (pure), ``queries`` reads what a page shows from
the store, ``pages`` turns it into view models and HTML (pure), ``site`` serves them from the
ops server (aiohttp)."""
