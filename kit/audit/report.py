"""Presentation of the monthly-audit and self-review reports: cover, headings, text, figures.

Built on the bundle's escaped building blocks (:func:`kit.bundle.report.table_html`,
``Html``, ``FigureOutput``): text from the data reaches the page only through
``html.escape`` or pandas' escaping table writer. The manifest hash on the
cover is the bundle's hash slot, replaced when the bundle is sealed.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from kit.bundle.manifest import kit_version
from kit.bundle.report import LABELS as COVER_LABELS
from kit.bundle.report import FigureOutput, Html, check_lang, cover_html, figure_output, table_html
from kit.startup import settle_report_kernel

__all__ = ["AUDIT_SECTIONS", "AuditReport", "hours_figure", "volume_figure"]

AUDIT_SECTIONS: dict[str, dict[str, str]] = {
    "scope": {"zh-TW": "稽核範圍與依據", "en": "Scope and rules"},
    "sources": {"zh-TW": "資料來源與完整性", "en": "Data sources and integrity"},
    "statistics": {
        "zh-TW": "異常查詢統計（數量、時間、對象）",
        "en": "Statistics: volume, time, subject",
    },
    "ranking": {"zh-TW": "單位與帳號查詢量排名", "en": "Ranking of units and accounts"},
    "sample": {"zh-TW": "本月抽樣", "en": "This month's sample"},
    "worksheet": {"zh-TW": "稽核工作底稿", "en": "The audit worksheet"},
    "method": {"zh-TW": "方法與限制", "en": "Method and limitations"},
}
"""Sections of the monthly-audit report, in order."""

SELF_SECTIONS: dict[str, dict[str, str]] = {
    "scope": {"zh-TW": "查閱範圍", "en": "Scope"},
    "lookups": {"zh-TW": "本人查詢紀錄", "en": "My lookups"},
    "method": {"zh-TW": "說明", "en": "Notes"},
}
"""Sections of the self-review report."""

TITLES = {
    "audit": {"zh-TW": "警政資訊系統查詢紀錄每月稽核報告", "en": "Monthly audit of lookups"},
    "self_review": {"zh-TW": "員警本人查詢紀錄", "en": "My own lookup log"},
}

SHARED_COVER_LABELS = (
    "period",
    "masking",
    "masked",
    "revealed",
    "kit",
    "manifest",
    "none",
    "verify",
)

LABELS: dict[str, dict[str, str]] = {
    "month": {"zh-TW": "稽核月份", "en": "Month"},
    "unit": {"zh-TW": "受稽核單位", "en": "Units audited"},
    "all_units": {"zh-TW": "全部單位", "en": "all units"},
    "auditor": {"zh-TW": "稽核人員", "en": "Auditor"},
    "seed": {"zh-TW": "抽樣種子", "en": "Sampling seed"},
    "officer": {"zh-TW": "員警", "en": "Officer"},
    # The cover's shared wording is the investigation reports' own.
    **{key: COVER_LABELS[key] for key in SHARED_COVER_LABELS},
    "lookups": {"zh-TW": "查詢筆數", "en": "lookups"},
    "suspicious": {"zh-TW": "可疑", "en": "suspicious"},
    "hour": {"zh-TW": "時", "en": "hour"},
    "unit_axis": {"zh-TW": "單位", "en": "unit"},
}


class AuditReport:
    """The presentation of one audit or self-review report.

    Parameters
    ----------
    kind
        ``audit`` or ``self_review``.
    lang
        ``zh-TW`` (default) or ``en``.
    reveal
        Whether identifiers are shown in full (stated on the cover).

    """

    def __init__(self, *, kind: str = "audit", lang: str = "zh-TW", reveal: bool = False) -> None:
        settle_report_kernel()
        self.kind = kind if kind in TITLES else "audit"
        self.lang = check_lang(lang)
        self.reveal = reveal
        self._figures = 0

    def label(self, key: str) -> str:
        """Return a label in the report's language."""
        return LABELS[key][self.lang]

    def heading(self, section: str) -> Html:
        """Return the numbered heading of a section."""
        sections = AUDIT_SECTIONS if self.kind == "audit" else SELF_SECTIONS
        number = list(sections).index(section) + 1
        title = html.escape(sections[section][self.lang])
        return Html(f'<h2 class="kit-section" id="section-{section}">{number}. {title}</h2>')

    def cover(self, rows: list[tuple[str, object]], *, header: str = "") -> Html:
        """Return the cover: title, the (label key, value) rows, masking mode, manifest hash."""
        shown = [(self.label(key), value) for key, value in rows]
        shown += [
            (self.label("masking"), self.label("revealed" if self.reveal else "masked")),
            (self.label("kit"), kit_version()),
        ]
        none = self.label("none")
        return cover_html(
            title=TITLES[self.kind][self.lang],
            rows=[(name, none if value in (None, "") else value) for name, value in shown],
            lang=self.lang,
            header=header,
            manifest_label=self.label("manifest"),
            note=self.label("verify"),
        )

    def text(self, *paragraphs: str) -> Html:
        """Return paragraphs of plain text (escaped)."""
        return Html("\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs))

    def table(
        self,
        frame: pd.DataFrame,
        *,
        caption: str | None = None,
        max_rows: int | None = None,
        file_name: str | None = None,
    ) -> Html:
        """Return a table as escaped HTML (see :func:`kit.bundle.report.table_html`)."""
        return Html(
            table_html(
                frame, caption=caption, max_rows=max_rows, file_name=file_name, lang=self.lang
            )
        )

    def figure(self, figure: Any) -> FigureOutput:
        """Return a Plotly figure for display; the first one carries plotly.js inline."""
        self._figures += 1
        return figure_output(figure, number=self._figures, prefix="kit-audit-figure")


def volume_figure(volume_by_unit: pd.DataFrame, *, lang: str = "zh-TW", top: int = 30) -> go.Figure:
    """Return a bar chart of lookups per unit (the ``top`` units), suspicious ones stacked."""
    table = volume_by_unit.sort_values("lookups", ascending=False).head(top)
    ordinary = table["lookups"] - table["suspicious"]
    figure = go.Figure(
        [
            go.Bar(x=table["unit"], y=ordinary, name=LABELS["lookups"][lang]),
            go.Bar(x=table["unit"], y=table["suspicious"], name=LABELS["suspicious"][lang]),
        ]
    )
    figure.update_layout(
        barmode="stack",
        height=420,
        margin={"l": 40, "r": 10, "t": 30, "b": 140},
        xaxis_title=LABELS["unit_axis"][lang],
        yaxis_title=LABELS["lookups"][lang],
    )
    return figure


def hours_figure(lookups_by_hour: pd.DataFrame, *, lang: str = "zh-TW") -> go.Figure:
    """Return a bar chart of the month's lookups by hour of day, with ODD_HOURS and OFF_DUTY."""
    figure = go.Figure(
        [
            go.Bar(
                x=lookups_by_hour["hour"],
                y=lookups_by_hour["lookups"],
                name=LABELS["lookups"][lang],
            ),
            go.Bar(x=lookups_by_hour["hour"], y=lookups_by_hour["OFF_DUTY"], name="OFF_DUTY"),
        ]
    )
    figure.update_layout(
        barmode="overlay",
        height=360,
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        xaxis_title=LABELS["hour"][lang],
        yaxis_title=LABELS["lookups"][lang],
    )
    return figure
