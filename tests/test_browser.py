"""The exported reports in headless Chromium, with every network request blocked and counted.

Chromium is Debian's (``make system-deps``); Playwright only drives it (no
browser download). The bundles come from ``test_notebooks.py``'s session
fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_notebooks import (  # noqa: F401  (session fixtures shared with the notebook tests)
    sample_investigation,
    sample_subject,
    tiny_investigation,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


@dataclass
class Opened:
    page: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def open_report(browser: Any, bundle: Path, *, width: int = 1280) -> Opened:
    url = (bundle / "index.html").resolve().as_uri()
    page = browser.new_page(viewport={"width": width, "height": 900})
    opened = Opened(page)

    def route(request_route: Any) -> None:
        if request_route.request.url == url:
            request_route.continue_()
        else:
            opened.blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.kit-figure .plotly-graph-div'))"
        ".every(el => el._fullLayout !== undefined)",
        timeout=30000,
    )
    return opened


def _figures_drawn(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.kit-figure .plotly-graph-div')).map(el => ({
            id: el.id,
            svg: el.querySelectorAll('.main-svg').length,
            points: (el.calcdata || []).reduce((n, trace) => n + trace.length, 0),
        }))"""
    )


def _check_offline_and_drawn(opened: Opened, figures: int) -> None:
    assert opened.blocked == []
    assert opened.errors == []
    drawn = _figures_drawn(opened.page)
    assert len(drawn) == figures
    assert [d["id"] for d in drawn] == [f"kit-figure-{n}" for n in range(1, figures + 1)]
    assert all(d["svg"] > 0 and d["points"] > 0 for d in drawn), drawn


def _lookup_rows(page: Any) -> int:
    return page.evaluate(
        """() => {
            const caption = Array.from(document.querySelectorAll('.kit-caption'))
                .find(p => p.textContent.trim() === 'tables/lookups.csv');
            let el = caption.nextElementSibling;
            return el.querySelectorAll('tbody tr').length;
        }"""
    )


def _csv_rows(bundle: Path, name: str) -> int:
    import pandas as pd

    return len(pd.read_csv(bundle / "tables" / f"{name}.csv", encoding="utf-8-sig", dtype=str))


def test_injected_script_does_not_run(browser: Any, tiny_investigation: Path) -> None:  # noqa: F811
    opened = open_report(browser, tiny_investigation)
    page = opened.page
    _check_offline_and_drawn(opened, figures=3)
    # Hover over every figure: hover labels are drawn from the data too.
    hovered = 0
    for drag in page.locator(".kit-figure .nsewdrag").all():
        drag.scroll_into_view_if_needed()
        box = drag.bounding_box()
        for i in range(1, 24):
            for j in range(1, 6):
                page.mouse.move(box["x"] + box["width"] * i / 24, box["y"] + box["height"] * j / 6)
                hovered += page.locator(".hoverlayer .hovertext").count()
    assert hovered > 0
    assert page.evaluate("window.__pwned") is None
    text = page.inner_text("body")
    assert "<script>window.__pwned=1</script>" in text
    assert 'onerror="window.__pwned=2"' in text
    assert _lookup_rows(page) == _csv_rows(tiny_investigation, "lookups")
    assert opened.errors == [] and opened.blocked == []
    page.close()


def test_sample_investigation_offline(browser: Any, sample_investigation: Path) -> None:  # noqa: F811
    opened = open_report(browser, sample_investigation)
    _check_offline_and_drawn(opened, figures=3)
    rows = _csv_rows(sample_investigation, "lookups")
    assert _lookup_rows(opened.page) == min(rows, 2000) > 0
    opened.page.close()


def test_sample_subject_offline(browser: Any, sample_subject: Path) -> None:  # noqa: F811
    opened = open_report(browser, sample_subject)
    _check_offline_and_drawn(opened, figures=2)
    assert _lookup_rows(opened.page) == _csv_rows(sample_subject, "lookups") > 0
    opened.page.close()


def test_print_layout_fits_a4(browser: Any, tiny_investigation: Path) -> None:  # noqa: F811
    # A4 is 210 mm wide; with 12 mm margins the printable width is 186 mm = 703 CSS px.
    opened = open_report(browser, tiny_investigation, width=703)
    page = opened.page
    page.emulate_media(media="print")
    overflow = page.evaluate(
        """() => Array.from(document.querySelectorAll('table.kit-table'))
            .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length"""
    )
    assert overflow == 0
    breaks = page.evaluate(
        """() => Array.from(document.querySelectorAll('.celltag_section'))
            .map(el => getComputedStyle(el).breakBefore)"""
    )
    assert breaks and set(breaks) == {"page"}
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= len(breaks) + 1
    page.close()


def test_wide_tables_scroll_on_screen_instead_of_splitting_words(
    browser: Any,
    sample_investigation: Path,  # noqa: F811
) -> None:
    # 26 columns in 1200 px: each cell keeps at least a few characters' width (the table
    # scrolls sideways in its output area) and a word is not split across lines
    opened = open_report(browser, sample_investigation, width=1280)
    page = opened.page
    narrowest = page.evaluate(
        """() => Math.min(...Array.from(
            document.querySelectorAll('table.kit-table tbody tr:first-child td'))
            .map(td => td.getBoundingClientRect().width))"""
    )
    font = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('table.kit-table td')).fontSize)"
    )
    assert narrowest >= 4.5 * font - 1
    lines = page.evaluate(
        """() => Array.from(document.querySelectorAll('table.kit-table td'))
            .filter(td => /^[A-Z_]{8,}$/.test(td.textContent.trim())).slice(0, 50)
            .map(td => { const r = document.createRange(); r.selectNodeContents(td);
                         return r.getClientRects().length; })"""
    )
    assert lines and set(lines) == {1}  # VOLUME_SPIKE on one line, not V/OL/UM…
    page.close()
