"""The printed report: real bundles printed to PDF by headless Chromium, read back page by page.

The investigator prints from the browser, so what counts is the report's CSS
``@page`` rules: A4 pages, the case reference and the manifest hash at the top
of every page, the page number at the bottom, each report section from a new
page, and no table wider than the page. Chromium prints with the network
blocked, as in ``test_browser.py``; the PDF's text and its positions are read
with pdfminer.six and NFKC-normalised (the CJK font maps some characters to
their Kangxi radical forms, and Latin text comes with ligatures such as "ﬁ").
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, browser, open_report  # noqa: F401  (module fixture)
from test_notebooks import (  # noqa: F401  (session fixtures shared with the notebook tests)
    sample_subject,
    tiny_investigation,
)

from kit.bundle.report import SECTIONS
from kit.bundle.verify import verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]

MM = 72 / 25.4
A4_POINTS = (210 * MM, 297 * MM)
"""A4 in PDF points (595.28 x 841.89)."""
MARGINS = {"top": 18 * MM, "right": 12 * MM, "bottom": 16 * MM, "left": 12 * MM}
"""The report's ``@page`` margins (templates/kit_report/report.css)."""
SLACK = 1.5
"""Points of tolerance on positions (rounding in Chromium's PDF output)."""


@dataclass(frozen=True)
class Line:
    """One line of text on a printed page, with its box in points (origin bottom left)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass(frozen=True)
class PrintedPage:
    """A page of the PDF: its size and its lines of text, split by where they sit."""

    number: int
    width: float
    height: float
    lines: tuple[Line, ...]

    def _squeezed(self, lines: list[Line]) -> str:
        return re.sub(r"\s+", "", "".join(line.text for line in lines))

    @property
    def header(self) -> str:
        """Text in the top margin, without white space."""
        return self._squeezed([ln for ln in self.lines if ln.y0 >= self.height - MARGINS["top"]])

    @property
    def footer(self) -> str:
        """Text in the bottom margin, without white space."""
        return self._squeezed([ln for ln in self.lines if ln.y1 <= MARGINS["bottom"]])

    @property
    def body(self) -> list[Line]:
        """Lines of the page's content area, top first."""
        inside = [
            ln
            for ln in self.lines
            if MARGINS["bottom"] < ln.y1 and ln.y0 < self.height - MARGINS["top"]
        ]
        return sorted(inside, key=lambda ln: (-ln.y1, ln.x0))


def read_pdf(pdf: bytes) -> list[PrintedPage]:
    """Return the pages of a PDF with every line of text and its position."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextLine

    # pdfminer logs a warning for each font Chromium embeds without a bounding box.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    def lines_of(item: Any) -> list[Line]:
        if isinstance(item, LTTextLine):
            text = unicodedata.normalize("NFKC", item.get_text()).strip()
            return [Line(item.x0, item.y0, item.x1, item.y1, text)]
        if hasattr(item, "__iter__"):
            return [line for child in item for line in lines_of(child)]
        return []

    return [
        PrintedPage(number, layout.width, layout.height, tuple(lines_of(layout)))
        for number, layout in enumerate(extract_pages(io.BytesIO(pdf), laparams=LAParams()), 1)
    ]


def print_report(browser: Any, bundle: Path) -> list[PrintedPage]:  # noqa: F811
    """Open the bundle's report offline, print it on A4 as the browser would, read the PDF."""
    opened = open_report(browser, bundle)
    # The page's own @page rules decide size and margins, as when printing from the browser.
    pdf = opened.page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert opened.blocked == [] and opened.errors == []
    opened.page.close()
    assert pdf.startswith(b"%PDF")
    return read_pdf(pdf)


def page_label(lang: str, number: int, total: int) -> str:
    """The page number as the report prints it (white space removed, NFKC as read back)."""
    label = f"第{number}頁，共{total}頁" if lang == "zh-TW" else f"page{number}of{total}"
    return unicodedata.normalize("NFKC", label)


def check_printed(
    pages: list[PrintedPage], *, case_ref: str, manifest_hash: str, lang: str
) -> None:
    """Every check of the printed report (see the module docstring)."""
    assert len(pages) > 1
    for page in pages:
        assert abs(page.width - A4_POINTS[0]) < SLACK and abs(page.height - A4_POINTS[1]) < SLACK
        assert case_ref.replace(" ", "") in page.header, page.number
        assert manifest_hash in page.header, page.number
        assert page_label(lang, page.number, len(pages)) in page.footer, (page.number, page.footer)
        # Nothing, tables included, runs past the printable width of the page.
        right = page.width - MARGINS["right"] + SLACK
        wide = [ln for ln in page.body if ln.x1 > right or ln.x0 < MARGINS["left"] - SLACK]
        assert wide == [], (page.number, wide[:3])
    # Each section starts a new page: its heading is the first line of the page's content.
    starts = []
    for number, key in enumerate(SECTIONS, start=1):
        heading = f"{number}.{SECTIONS[key][lang]}".replace(" ", "")
        found = [p for p in pages if any(heading in ln.text.replace(" ", "") for ln in p.body)]
        assert len(found) == 1, (heading, [p.number for p in found])
        first = found[0].body[0].text.replace(" ", "")
        assert first.startswith(heading), (heading, found[0].number, first)
        starts.append(found[0].number)
    assert starts == sorted(starts) and starts[0] > 1  # the cover has a page of its own


def test_printed_investigation_is_a4_with_header_numbers_and_sections(
    browser: Any,  # noqa: F811
    tiny_investigation: Path,  # noqa: F811
) -> None:
    pages = print_report(browser, tiny_investigation)
    result = verify(tiny_investigation)
    check_printed(
        pages, case_ref="檢112偵字第1234號", manifest_hash=result.manifest_hash, lang="zh-TW"
    )


def test_printed_subject_review_in_english(browser: Any, sample_subject: Path) -> None:  # noqa: F811
    pages = print_report(browser, sample_subject)
    result = verify(sample_subject)
    check_printed(pages, case_ref="REQ-7", manifest_hash=result.manifest_hash, lang="en")


def test_print_rules_of_the_report_win_over_jupyterlabs(
    browser: Any,  # noqa: F811
    tiny_investigation: Path,  # noqa: F811
) -> None:
    # JupyterLab's own table rules (fixed layout, screen font size) must not override the
    # report's print rules: columns sized to their content, small print.
    opened = open_report(browser, tiny_investigation, width=703)
    opened.page.emulate_media(media="print")
    styles = opened.page.evaluate(
        """() => Array.from(document.querySelectorAll('table.kit-table'))
            .map(t => [getComputedStyle(t).tableLayout, getComputedStyle(t).fontSize])"""
    )
    opened.page.close()
    assert styles and {layout for layout, _ in styles} == {"auto"}
    assert all(abs(float(size.removesuffix("px")) - 6.5 * 96 / 72) < 0.05 for _, size in styles)
