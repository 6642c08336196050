"""Building blocks of the report notebooks: cover, section headings, tables, figures.

A report cell calls one of these and shows what it returns; everything here
returns objects with ``_repr_html_`` / ``_repr_mimebundle_``, so the same
cell works in JupyterLab, under Papermill and in tests. Text from the data
reaches the page only through :func:`table_html` (pandas escapes every cell
and header) or :func:`html.escape`; nothing is pasted into HTML unescaped.

Figures are shown with Plotly's own mimetype only (JupyterLab draws it), with
their stable ``div`` id (``kit-figure-1``…) in the output's metadata; the
exporter turns each into HTML once (:func:`figure_html`): plotly.js is inlined
with the first figure only, MathJax is never requested, and two runs give the
same page. The notebook thus carries each figure once and plotly.js not at all.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.bundle.manifest import HASH_SLOT, kit_version
from kit.errors import ConfigError
from kit.frames import escape_markup
from kit.startup import settle_report_kernel

LANGS: tuple[str, ...] = ("zh-TW", "en")

REPORT_MAX_ROWS = 2000
"""Rows of one table printed in the report at most; the CSV in ``tables/`` is always complete."""

PRINTED_FIRST: dict[str, str] = {
    "lookups": "suspicious",
    "evidence": "kind",
    "subjects": "suspicious_lookups",
    "communications": "flags",
}
"""The column that marks the rows a capped table prints first (:func:`printed_first`)."""

SECTIONS: dict[str, dict[str, str]] = {
    "scope": {"zh-TW": "調查範圍與授權", "en": "Scope and authority"},
    "sources": {"zh-TW": "資料來源與完整性", "en": "Data sources and integrity"},
    "summary": {"zh-TW": "調查結果摘要", "en": "Summary of findings"},
    "timeline": {"zh-TW": "時間軸", "en": "Timeline"},
    "graph": {"zh-TW": "關聯圖", "en": "Link graph"},
    "evidence": {"zh-TW": "證據表", "en": "Evidence tables"},
    "method": {"zh-TW": "方法與限制", "en": "Method and limitations"},
}
"""The report's sections, in order, with their headings per language."""

TITLES: dict[str, dict[str, str]] = {
    "investigation": {"zh-TW": "員警查詢紀錄調查報告", "en": "Officer lookup investigation"},
    "subject": {"zh-TW": "當事人查詢紀錄清查報告", "en": "Subject access review"},
}

LABELS: dict[str, dict[str, str]] = {
    "case_ref": {"zh-TW": "案號", "en": "Case reference"},
    "investigator": {"zh-TW": "調查人員", "en": "Investigator"},
    "officer": {"zh-TW": "受調查員警", "en": "Officer investigated"},
    "subjects": {"zh-TW": "清查對象", "en": "Subjects reviewed"},
    "period": {"zh-TW": "期間", "en": "Period"},
    "masking": {"zh-TW": "識別資料", "en": "Identifiers"},
    "masked": {
        "zh-TW": "遮蔽（以代號區別不同對象）",
        "en": "masked (pseudonyms keep subjects apart)",
    },
    "revealed": {"zh-TW": "完整顯示", "en": "shown in full"},
    "kit": {"zh-TW": "工具版本", "en": "Kit version"},
    "manifest": {"zh-TW": "清單雜湊值 (manifest.json SHA-256)", "en": "Manifest SHA-256"},
    "verify": {
        "zh-TW": "以 kit verify 本資料夾 --expect 上列雜湊值 驗證本報告及所附檔案未經變更。",
        "en": "Check that this report and its files are unaltered with "
        "kit verify BUNDLE_DIR --expect HASH.",
    },
    "none": {"zh-TW": "（未提供）", "en": "(not given)"},
    "open_start": {"zh-TW": "資料起始", "en": "start of the data"},
    "open_end": {"zh-TW": "資料結束", "en": "end of the data"},
    "rows_first": {
        "zh-TW": "本表優先列出可疑查詢、旗標或有旗標之通聯（{k:,} 列），其餘依原順序列至上限。",
        "en": "This table prints first the rows with a suspicious lookup, a flag or a flagged "
        "communication ({k:,} of them), then the others in order up to the limit.",
    },
    "rows_more": {
        "zh-TW": "另有 {n:,} 列未列於報告內，完整內容見 {file}（雜湊值列於清單）。",
        "en": "{n:,} more rows are not printed here; the complete table is {file} "
        "(its hash is in the manifest).",
    },
    "empty": {"zh-TW": "（無資料）", "en": "(none)"},
}

SCOPE_TEXT: dict[str, dict[str, str]] = {
    "investigation": {
        "zh-TW": "本報告依案號 {case_ref} 之調閱，審查員警 {target} 於 {period} 期間之全部"
        "查詢紀錄：每筆查詢之勤務、出入登記、案件與舉發等佐證，以及查詢後之通聯。"
        "每項結果均註明所依據之原始檔案及列號。",
        "en": "At the request {case_ref}, this report reviews every lookup by officer "
        "{target} in {period}: the duty, register, case and ticket records behind "
        "each, and the communications that followed. Every finding names the source "
        "file and line it rests on.",
    },
    "subject": {
        "zh-TW": "本報告依案號 {case_ref} 之調閱，清查 {period} 期間查詢 {target} 之全部"
        "紀錄：由何人、何時、以何用途查詢，及其勤務佐證與異常標記。",
        "en": "At the request {case_ref}, this report lists everyone who looked up "
        "{target} in {period}: who, when, with which stated purpose, the records "
        "that explain each lookup and the flags raised.",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if the reports support it, else raise :class:`ConfigError`."""
    if lang not in LANGS:
        raise ConfigError(f"language {lang!r} is not supported: use one of {', '.join(LANGS)}")
    return lang


PAGE_NUMBER_TEXT: dict[str, tuple[str, str, str]] = {
    "zh-TW": ("第 ", " 頁，共 ", " 頁"),
    "en": ("page ", " of ", ""),
}
"""The printed page number, around the page's number and the page count, per language."""


def page_number_content(lang: str) -> str:
    """Return the CSS ``content`` of the printed page number (``page 3 of 12``) in ``lang``."""
    before, between, after = PAGE_NUMBER_TEXT.get(lang, PAGE_NUMBER_TEXT["en"])
    return (
        f"{css_string(before)} counter(page) {css_string(between)} counter(pages)"
        f" {css_string(after)}"
    )


def css_string(text: str) -> str:
    """Return ``text`` as a quoted CSS string, every non-alphanumeric character escaped."""
    escaped = "".join(
        ch if (ch.isascii() and ch.isalnum()) or ch == " " else f"\\{ord(ch):06x}" for ch in text
    )
    return f'"{escaped}"'


def _float_text(value: float) -> str:
    """Return a float as a report table shows it: six decimals, trailing zeros dropped."""
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def cell_texts(series: pd.Series) -> list[str]:
    """Return a column's cells as escaped HTML text, missing values empty, spaces trimmed.

    Text is escaped (``&``, ``<``, ``>``) in one vectorised pass; numbers,
    booleans and times are written as pandas shows them (floats with up to six
    decimals, ``2.0``, ``0.1``).
    """
    missing = series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        texts = ["" if gone else _float_text(v) for v, gone in zip(values, missing, strict=True)]
        return texts
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        raw = series.astype("object").to_numpy()
        return ["" if gone else str(v) for v, gone in zip(raw, missing, strict=True)]
    text = series.astype("string").fillna("")
    array = pa.array(text.to_numpy(dtype=object), type=pa.large_string())
    array = pc.utf8_trim_whitespace(array)
    array = escape_markup(array)
    out: list[str] = array.to_pylist()
    return out


def _html_table(frame: pd.DataFrame) -> str:
    """Return a frame as the report's ``<table>``: pandas' ``to_html`` markup, one line per row.

    (pandas indents every cell on its own line: a quarter of a 10,000-lookup
    report's table markup was that indentation.)
    """
    head = "".join(f"<th>{html.escape(str(c), quote=False)}</th>" for c in frame.columns)
    columns = [cell_texts(frame[c]) for c in frame.columns] if len(frame.columns) else []
    rows = [
        "<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>\n"
        for row in zip(*columns, strict=True)
    ]
    return (
        '<table class="dataframe kit-table">\n<thead>\n<tr style="text-align: right;">'
        f"{head}</tr>\n</thead>\n<tbody>\n{''.join(rows)}</tbody>\n</table>"
    )


def printed_first(name: str, frame: pd.DataFrame) -> pd.Series | None:
    """Return which rows of a bundle table a capped report prints first, or ``None``.

    Lookups that are suspicious, evidence rows that are flags (not
    explanations), subjects with a suspicious lookup, flagged communications:
    with ``REPORT_MAX_ROWS`` rows printed of 10,000, the flagged rows late in
    the period must not be the ones left to the CSV. The column is found by
    its English name or its Chinese header.
    """
    from kit.views.headers import HEADERS

    canonical = PRINTED_FIRST.get(name)
    if canonical is None:
        return None
    column = next((c for c in (canonical, HEADERS.get(canonical)) if c in frame.columns), None)
    if column is None:
        return None
    values = frame[column]
    if canonical == "kind":
        return (values.astype("string") == "flag").fillna(False).astype(bool)
    if canonical == "flags":
        return (values.astype("string").fillna("").str.strip() != "").astype(bool)
    if canonical == "suspicious_lookups":
        return (pd.to_numeric(values, errors="coerce").fillna(0) > 0).astype(bool)
    text = values.astype("string").str.lower()
    return text.isin(["true", "1"]).fillna(False).astype(bool)


def _capped(frame: pd.DataFrame, max_rows: int, first: pd.Series | None) -> pd.DataFrame:
    """Return at most ``max_rows`` rows: those of ``first`` before the others, in table order."""
    if first is None:
        return frame.head(max_rows)
    marked = first.to_numpy(dtype=bool)
    order = np.concatenate([np.flatnonzero(marked), np.flatnonzero(~marked)])[:max_rows]
    return frame.iloc[np.sort(order)]


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    max_rows: int | None = None,
    file_name: str | None = None,
    lang: str = "zh-TW",
    first: pd.Series | None = None,
) -> str:
    """Render a table as escaped HTML (every cell and header escaped).

    Parameters
    ----------
    frame
        The table; missing values are shown empty.
    caption
        A caption (escaped).
    max_rows
        Print at most this many rows, with a note saying where the rest is.
    file_name
        The bundle file holding the complete table (named in that note).
    lang
        Language of the note.
    first
        Rows (a boolean mask) printed before the others when the table is
        capped (:func:`printed_first`); the table's order is kept.

    """
    capped = max_rows is not None and len(frame) > max_rows
    shown = _capped(frame, max_rows, first) if capped and max_rows is not None else frame
    parts = []
    if caption:
        parts.append(f'<p class="kit-caption"><strong>{html.escape(caption)}</strong></p>')
    if frame.empty:
        parts.append(f'<p class="kit-note">{html.escape(LABELS["empty"][lang])}</p>')
        return "\n".join(parts)
    parts.append(_html_table(shown))
    if len(shown) < len(frame):
        note = LABELS["rows_more"][lang].format(
            n=len(frame) - len(shown), file=file_name or "tables/"
        )
        if first is not None:
            k = int(first.to_numpy(dtype=bool).sum())
            note += ("" if lang == "zh-TW" else " ") + LABELS["rows_first"][lang].format(k=k)
        parts.append(f'<p class="kit-note">{html.escape(note)}</p>')
    return "\n".join(parts)


@dataclass(frozen=True)
class Html:
    """A piece of the report, already escaped; shows itself in Jupyter."""

    text: str

    def __repr__(self) -> str:
        return f"<report HTML, {len(self.text)} characters>"

    def _repr_html_(self) -> str:
        return self.text


PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
"""Plotly's own output mimetype (drawn by JupyterLab's Plotly extension)."""

FIGURE_METADATA = "kit_figure"
"""Output metadata key of a report figure: its ``div_id`` and whether it carries plotly.js."""

FIGURE_CONFIG: dict[str, object] = {"displaylogo": False, "responsive": True}
"""plotly.js configuration of every report figure."""


def figure_html(figure: Any, *, div_id: str, plotlyjs: bool) -> str:
    """Return a report figure as HTML: its ``div`` (id ``div_id``) and drawing script.

    The markup is that of ``plotly.io.to_html(full_html=False)``, written here
    for a figure given as its JSON form (as a notebook holds it): on its first
    call Plotly's own function loads some 80 modules (0.15 s) that the
    exporting process does not otherwise need. A figure object, or JSON that
    is not strict (a NaN), still goes through Plotly.

    Parameters
    ----------
    figure
        A Plotly figure, or its JSON form as a dict (as a notebook holds it).
    div_id
        The stable id of the figure's ``div``.
    plotlyjs
        Inline plotly.js before the figure (the report's first figure only).

    """
    try:
        div = _figure_div(figure, div_id=div_id, plotlyjs=plotlyjs)
    except (TypeError, ValueError, AttributeError):
        import plotly.io as pio

        div = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=plotlyjs,
            include_mathjax=False,
            div_id=div_id,
            config=dict(FIGURE_CONFIG),
            validate=False,
        )
    return f'<div class="kit-figure">{div}</div>'


_SCRIPT_SAFE = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("/", "\\u002f"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
"""What Plotly escapes in the JSON it writes into a ``<script>`` (so no ``</script>``
or line separator in the data can end the script)."""


def _script_safe(text: str) -> str:
    for character, escaped in _SCRIPT_SAFE:
        if character in text:
            text = text.replace(character, escaped)
    return text


def _script_json(value: object) -> str:
    """Return strict JSON for a ``<script>``; TypeError or ValueError if it is not plain JSON."""
    return _script_safe(
        json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    )


def _div_size(value: object) -> str:
    return (
        f"{value}px"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else str(value)
    )


def _figure_div(figure: Any, *, div_id: str, plotlyjs: bool) -> str:
    """``plotly.io.to_html(full_html=False)`` of a figure's JSON form (see :func:`figure_html`)."""
    if not isinstance(figure, dict) or figure.get("frames"):
        raise TypeError("not the JSON form of a figure without frames")
    layout = figure.get("layout", {})
    template = layout.get("template", {}).get("layout", {})
    width = _div_size(layout.get("width", template.get("width", "100%")))
    height = _div_size(layout.get("height", template.get("height", "100%")))
    script = (
        f'if (document.getElementById("{div_id}")) {{Plotly.newPlot("{div_id}", '
        f"{_script_json(figure.get('data', []))}, {_script_json(layout)}, "
        f"{json.dumps(FIGURE_CONFIG)})}}"
    )
    load = (
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script>{plotly_js()}</script>"
        if plotlyjs
        else ""
    )
    return (
        f'<div style="height:{height}; width:{width};">{load}'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        f"<script>window.PLOTLYENV=window.PLOTLYENV || {{}};{script};</script></div>"
    )


@cache
def plotly_js() -> str:
    """Return the plotly.js bundle of the installed Plotly (read once per process)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@dataclass(frozen=True)
class FigureOutput:
    """A Plotly figure of a report, shown with Plotly's mimetype and its place in the report.

    Attributes
    ----------
    figure_json
        The figure as Plotly JSON.
    div_id
        The stable id of its ``div`` in the exported page.
    plotlyjs
        Whether the exported page inlines plotly.js with this figure (the first).

    """

    figure_json: str
    div_id: str
    plotlyjs: bool

    def __repr__(self) -> str:
        return "<report figure>"

    @property
    def html(self) -> str:
        """The figure as the exported report shows it (see :func:`figure_html`)."""
        return figure_html(json.loads(self.figure_json), div_id=self.div_id, plotlyjs=self.plotlyjs)

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        data = {PLOTLY_MIMETYPE: json.loads(self.figure_json), "text/plain": repr(self)}
        return data, {FIGURE_METADATA: {"div_id": self.div_id, "plotlyjs": self.plotlyjs}}


def figure_output(figure: Any, *, number: int, prefix: str = "kit-figure") -> FigureOutput:
    """Return figure ``number`` of a report (plotly.js goes with the first only) as JSON.

    The div id is ``{prefix}-{number}``, so the page is the same from run to run.
    """
    return FigureOutput(
        figure_json=figure_json(figure),
        div_id=f"{prefix}-{number}",
        plotlyjs=number == 1,
    )


def _plain_json(value: object) -> object:
    """``json.dumps`` default: NumPy arrays and scalars as Plotly writes them, nothing else."""
    if isinstance(value, np.ndarray) and value.dtype.kind not in "mM":
        return value.tolist()  # whatever an object array holds is checked in its turn
    if isinstance(value, np.generic) and value.dtype.kind not in "mMO":
        return value.item()
    raise TypeError(f"not plain JSON: {type(value).__name__}")


def figure_json(figure: Any) -> str:
    """Return a figure as Plotly JSON (what ``plotly.io.to_json(validate=False)`` gives).

    A figure's data (the ``*_spec`` functions of :mod:`kit.views`: dicts,
    lists, text, numbers and NumPy arrays of them) is written directly: the
    first call of Plotly's own function loads some 75 modules (a sixth of a
    second in every report kernel). Anything else (a figure object, a date
    array, a NaN, which Plotly writes as ``null``) still goes through Plotly.
    The text is the same, byte for byte.
    """
    if isinstance(figure, dict):
        try:
            text = json.dumps(figure, default=_plain_json, separators=(",", ":"), allow_nan=False)
            return _script_safe(text)
        except (TypeError, ValueError):
            pass
    import plotly.io as pio

    return str(pio.to_json(figure, validate=False))


def _period_text(start: object, end: object, lang: str) -> str:
    first = str(start) if start not in (None, "") else LABELS["open_start"][lang]
    last = str(end) if end not in (None, "") else LABELS["open_end"][lang]
    return f"{first} – {last}"


def cover_html(
    *,
    title: str,
    rows: Sequence[tuple[str, object]],
    lang: str,
    header: str,
    manifest_label: str,
    note: str,
) -> Html:
    """Return a report cover: title, (label, value) rows, and the manifest hash slot.

    Every text is escaped. The manifest hash is written as :data:`HASH_SLOT`,
    on the cover and in the print header of every page (with ``header``, the
    case reference, on the left), and replaced when the bundle is sealed; the
    foot of every printed page numbers it in the report's language.
    """
    cells = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    style = (
        "<style>@page { @top-left { content: "
        + css_string(header)
        + '; font-size: 8pt; color: #444; } @top-right { content: "SHA-256 '
        + HASH_SLOT
        + '"; font-size: 6pt; color: #666; } @bottom-right { content: '
        + page_number_content(lang)
        + "; font-size: 8pt; color: #444; } }</style>"
    )
    return Html(
        f'{style}\n<div class="kit-cover" lang="{lang}">\n<h1>{html.escape(title)}</h1>\n'
        f"<table>\n{cells}\n<tr><th>{html.escape(manifest_label)}</th>"
        f'<td><code class="kit-manifest-hash">{HASH_SLOT}</code></td></tr>\n</table>\n'
        f'<p class="kit-note">{html.escape(note)}</p>\n</div>'
    )


class Report:
    """The presentation of one bundle: language, cover facts, figure numbering.

    Parameters
    ----------
    kind
        ``investigation`` or ``subject``.
    lang
        ``zh-TW`` (default) or ``en``.
    case_ref, investigator
        Shown on the cover and (case reference) at the top of every printed page.
    reveal
        Whether identifiers are shown in full (stated on the cover).

    """

    def __init__(
        self,
        *,
        kind: str,
        lang: str = "zh-TW",
        case_ref: str | None = None,
        investigator: str | None = None,
        reveal: bool = False,
    ) -> None:
        if kind not in TITLES:
            raise ConfigError(f"report kind {kind!r} is unknown: use one of {', '.join(TITLES)}")
        settle_report_kernel()
        self.kind = kind
        self.lang = check_lang(lang)
        self.case_ref = case_ref
        self.investigator = investigator
        self.reveal = reveal
        self._figures = 0

    def label(self, key: str) -> str:
        """Return a cover label in the report's language."""
        return LABELS[key][self.lang]

    def heading(self, section: str) -> Html:
        """Return the numbered heading of a section (:data:`SECTIONS`)."""
        number = list(SECTIONS).index(section) + 1
        title = html.escape(SECTIONS[section][self.lang])
        return Html(f'<h2 class="kit-section" id="section-{section}">{number}. {title}</h2>')

    def cover(self, *, target: str, start: object = None, end: object = None) -> Html:
        """Return the cover: title, case, target, period, masking mode and the manifest hash.

        The manifest hash is written as :data:`kit.bundle.manifest.HASH_SLOT`
        and replaced when the bundle is sealed.
        """
        none = self.label("none")
        target_key = "officer" if self.kind == "investigation" else "subjects"
        rows = [
            (self.label("case_ref"), self.case_ref or none),
            (self.label("investigator"), self.investigator or none),
            (self.label(target_key), target),
            (self.label("period"), _period_text(start, end, self.lang)),
            (self.label("masking"), self.label("revealed" if self.reveal else "masked")),
            (self.label("kit"), kit_version()),
        ]
        return cover_html(
            title=TITLES[self.kind][self.lang],
            rows=rows,
            lang=self.lang,
            header=self.case_ref or "",
            manifest_label=self.label("manifest"),
            note=self.label("verify"),
        )

    def scope(self, *, target: str, start: object = None, end: object = None) -> Html:
        """Return the scope-and-authority paragraph."""
        text = SCOPE_TEXT[self.kind][self.lang].format(
            case_ref=self.case_ref or self.label("none"),
            target=target,
            period=_period_text(start, end, self.lang),
        )
        return Html(f"<p>{html.escape(text)}</p>")

    def text(self, paragraph: str) -> Html:
        """Return a paragraph of plain text (escaped)."""
        return Html(f"<p>{html.escape(paragraph)}</p>")

    def table(
        self,
        frame: pd.DataFrame,
        *,
        caption: str | None = None,
        max_rows: int | None = None,
        file_name: str | None = None,
        skip_empty: bool = False,
    ) -> Html:
        """Return a table as escaped HTML (see :func:`table_html`); nothing if empty and asked."""
        if skip_empty and frame.empty:
            return Html("")
        return Html(
            table_html(
                frame, caption=caption, max_rows=max_rows, file_name=file_name, lang=self.lang
            )
        )

    def tables(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        names: Sequence[str] | None = None,
        max_rows: int | None = None,
    ) -> Html:
        """Return several tables (``names`` of them, default all), captioned with their files."""
        chosen = {n: tables[n] for n in names} if names is not None else dict(tables)
        parts = [
            table_html(
                frame,
                caption=f"tables/{name}.csv",
                max_rows=max_rows,
                file_name=f"tables/{name}.csv",
                lang=self.lang,
                first=printed_first(name, frame)
                if max_rows is not None and len(frame) > max_rows
                else None,
            )
            for name, frame in chosen.items()
        ]
        return Html("\n".join(parts))

    def figure(self, figure: Any) -> FigureOutput:
        """Return a Plotly figure for display, numbered in order of appearance.

        The first figure carries plotly.js inline; later ones rely on it.
        """
        self._figures += 1
        return figure_output(figure, number=self._figures)
