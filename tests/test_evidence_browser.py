"""The evidence pages in a real browser (Debian's Chromium, driven by Playwright; no browser is
ever downloaded): a licence change, a pricing change and a feed alert, on a phone-sized
viewport and a desktop one. Fails on any console error (a CSP violation is one) and on a page
wider than the phone's screen; screenshots go to tests/artifacts/ for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Clock, skip_unless_ci
from tests.evidence_harness import feed_alert, licence_change, pricing_change, world

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("name", "scenario"),
    [("licence", licence_change), ("pricing", pricing_change), ("feed", feed_alert)],
)
async def test_evidence_pages_render_cleanly_in_chromium(
    name: str, scenario: object, tmp_path: Path, clock: Clock
) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        skip_unless_ci(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")
    ARTIFACTS.mkdir(exist_ok=True)
    async with world(tmp_path, clock) as w, playwright_api.async_playwright() as pw:
        path = await scenario(w)  # type: ignore[operator]
        base = str(w.client.make_url("/")).rstrip("/")
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for label, width, height in (("phone", 375, 812), ("desktop", 1280, 900)):
                page = await browser.new_page(viewport={"width": width, "height": height})
                errors: list[str] = []
                page.on(
                    "console",
                    lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
                )
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                for which, url in (("change", path), ("target", None)):
                    if url is None:  # follow the page's own link to the timeline
                        await page.click("nav.crumbs a >> nth=0")
                        await page.wait_for_load_state("load")
                    else:
                        response = await page.goto(base + url)
                        assert response is not None and response.status == 200
                    assert await page.locator("h1").count() == 1
                    assert await page.locator("main").count() == 1
                    wide = await page.evaluate(
                        "document.documentElement.scrollWidth > window.innerWidth"
                    )
                    await page.screenshot(
                        path=str(ARTIFACTS / f"{name}-{which}-{label}.png"), full_page=True
                    )
                    assert not wide, f"{name} {which} page overflows a {width} px viewport"
                assert not errors, f"console errors on the {name} pages: {errors}"
                await page.close()
        finally:
            await browser.close()
