"""Versions of a pricing-and-terms page that differ by the noise real sites produce, and the real
changes that must still be found. Test data for ``test_page_noise.py``.

``render(state, seed)`` builds one version: ``state`` is what the page says (prices, plans,
limits, terms sentences); ``seed`` varies only noise: CSRF tokens in hidden inputs, nonces on
script tags, inline JSON state, "updated N minutes ago", cache-busting query strings on assets,
rotating testimonials and ads outside the region that matters, attribute order, comments,
hidden A/B-test blocks, whitespace and line wrapping.
"""

from __future__ import annotations

import hashlib
import json
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace

TESTIMONIALS = [
    "“Policybot saved our launch.” — Ana, CTO",
    "“We sleep better.” — Ravi, legal",
    "“Five stars.” — Mo, indie dev",
    "“Our lawyers love it.” — Jo, GC",
]
ADS = ["Try our new GPU cloud — 20% off!", "Join the webinar on Thursday", "Hiring: SRE ($180k)"]


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    price: str
    note: str


@dataclass(frozen=True, slots=True)
class State:
    plans: tuple[Plan, ...]
    free_limit: str
    annual_saving: str
    terms: tuple[str, ...]


BASE = State(
    plans=(
        Plan("Free", "$0", "for individuals"),
        Plan("Pro", "$20 per seat per month", "for small teams"),
        Plan("Team", "$40 per seat per month", "SSO and audit log"),
        Plan("Enterprise", "Contact sales", "custom contracts"),
    ),
    free_limit="Free includes up to 3 projects and 1,000 API calls per month.",
    annual_saving="Annual billing saves 20% on every paid plan.",
    terms=(
        "You may cancel at any time; the current billing period is not refunded.",
        "We may change these prices with 30 days notice by email.",
        "Usage above your plan is billed at the end of the month.",
    ),
)


def _plan(state: State, name: str, price: str) -> State:
    plans = tuple(replace(p, price=price) if p.name == name else p for p in state.plans)
    return replace(state, plans=plans)


# Each real change, applied on top of the ones before it: (label, change, expected severity).
REAL_CHANGES: list[tuple[str, Callable[[State], State], str]] = [
    ("price", lambda s: _plan(s, "Pro", "$25 per seat per month"), "warning"),
    (
        "plan removed",
        lambda s: replace(s, plans=tuple(p for p in s.plans if p.name != "Team")),
        "warning",
    ),
    (
        "limit",
        lambda s: replace(
            s, free_limit="Free includes up to 3 projects and 500 API calls per month."
        ),
        "warning",
    ),
    (
        "terms sentence",
        lambda s: replace(
            s, terms=(*s.terms, "Accounts that resell access to the service will be closed.")
        ),
        "notice",
    ),
    (
        "percentage",
        lambda s: replace(s, annual_saving="Annual billing saves 15% on every paid plan."),
        "warning",
    ),
]


def _attrs(rng: random.Random, pairs: list[tuple[str, str]]) -> str:
    """Attributes in a random order, with random spacing and quoting."""
    pairs = pairs[:]
    rng.shuffle(pairs)
    out = []
    for name, value in pairs:
        quote = rng.choice(['"', "'"])
        out.append(f"{name}={quote}{value}{quote}")
    return (" " * rng.randint(1, 3)).join(out)


def _wrap(rng: random.Random, text: str, indent: str) -> str:
    """The same sentence wrapped at a random width, as templating engines reflow it."""
    width = rng.randint(20, 90)
    return ("\n" + indent).join(textwrap.wrap(text, width)) or text


def render(state: State, seed: int, *, testimonial_in_main: bool = False) -> str:
    rng = random.Random(seed)
    token = hashlib.sha256(f"csrf{seed}".encode()).hexdigest()
    nonce = hashlib.sha1(f"nonce{seed}".encode()).hexdigest()[:16]
    build = hashlib.md5(f"build{seed}".encode()).hexdigest()[:8]  # test data, not a security use
    quote = TESTIMONIALS[seed % len(TESTIMONIALS)]
    ad = ADS[seed % len(ADS)]
    ind = " " * rng.randint(0, 6)
    rows = "\n".join(
        f"{ind}<tr {_attrs(rng, [('class', 'plan'), ('data-plan', p.name.lower())])}>"
        f"<th>{p.name}</th>\n{ind}  <td>{_wrap(rng, p.price, ind)}</td><td>{p.note}</td></tr>"
        for p in state.plans
    )
    terms = "\n".join(f"{ind}<li>{_wrap(rng, t, ind + '  ')}</li>" for t in state.terms)
    testimonial = f'<blockquote class="testimonial">{quote}</blockquote>'
    app_state = json.dumps({"buildId": build, "session": token[:12], "ts": 1767600000 + seed})
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8"><title>Pricing · Acme</title>
<link {_attrs(rng, [("rel", "stylesheet"), ("href", f"/static/app.css?v={build}")])}>
<script nonce="{nonce}" src="/static/app.js?v={build}"></script>
<script nonce="{nonce}">window.__csrf = "{token}"; dataLayer.push({{"t": {seed}}});</script>
</head>
<body {_attrs(rng, [("class", "page pricing"), ("data-build", build)])}>
<nav><a href="/">Home</a> <a href="/pricing?ref={build}">Pricing</a> <a href="/blog">Blog</a></nav>
<!-- rendered by app-{build} at {seed} -->
<aside class="promo"><div class="ad">{ad}</div>{"" if testimonial_in_main else testimonial}</aside>
<main {_attrs(rng, [("id", "content"), ("class", "container")])}>
{ind}<h1>Pricing</h1>
{ind}<p class="updated">Prices updated {rng.randint(1, 59)} minutes ago</p>
{ind}<img src="/static/hero.png?v={build}" alt="Acme hero {seed}">
{testimonial if testimonial_in_main else ""}
{ind}<section id="pricing">
{ind}<table>
{ind}<thead><tr><th>Plan</th><th>Price</th><th>For</th></tr></thead>
{rows}
{ind}</table>
{ind}<p>{_wrap(rng, state.free_limit, ind)}</p>
{ind}<p>{_wrap(rng, state.annual_saving, ind)}</p>
{ind}<h2>Billing terms</h2>
{ind}<ul>
{terms}
{ind}</ul>
{ind}</section>
{ind}<form method="post" action="/subscribe?v={build}">
{ind}  <input type="hidden" name="csrf_token" value="{token}">
{ind}  <input type="email" name="email" placeholder="you@example.com">
{ind}</form>
{ind}<div style="display: none" class="ab-test">variant {rng.choice("ABCD")} {token[:6]}</div>
{ind}<script type="application/json" id="__NEXT_DATA__" nonce="{nonce}">{app_state}</script>
</main>
<footer>© 2026 Acme · build {build} · <a href="/terms?v={build}">Terms</a></footer>
<noscript><img src="/pixel.gif?id={token[:10]}" alt=""></noscript>
</body></html>
"""
