"""An interactive explorer of lookups for JupyterLab (ipywidgets).

Filter an assessment's lookups by period, flag and subject, and pivot from a
subject to everyone who looked it up. It is a convenience for the
investigator at the screen: everything of evidential weight is also in the
report's static tables, and the report notebooks do not show the explorer
under Papermill (``explorer=False``). Subjects are shown only through the
bundle's :class:`kit.mask.Masker`; every table is rendered escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from kit.bundle.report import check_lang, table_html
from kit.mask import Masker

ALL = "*"
ANY_FLAG = "+"

TEXT: dict[str, dict[str, str]] = {
    "start": {"zh-TW": "起", "en": "From"},
    "end": {"zh-TW": "迄", "en": "To"},
    "flag": {"zh-TW": "標記", "en": "Flag"},
    "subject": {"zh-TW": "對象", "en": "Subject"},
    "all": {"zh-TW": "（全部）", "en": "(all)"},
    "any_flag": {"zh-TW": "（任一標記）", "en": "(any flag)"},
    "pivot": {"zh-TW": "誰查詢過此對象", "en": "Who looked this up"},
    "count": {"zh-TW": "符合筆數：{n}", "en": "Matching lookups: {n}"},
}

SHOWN_COLUMNS: tuple[str, ...] = (
    "time",
    "querier",
    "unit",
    "operation",
    "purpose",
    "subject",
    "flags",
    "explanations",
    "severity",
    "lookup_id",
)
"""Columns of the explorer's table (canonical names)."""


def _code_set(series: pd.Series) -> list[str]:
    """Return the distinct codes of a column of ``;``-separated codes, sorted."""
    codes = series.astype("string").fillna("").str.split(";").explode()
    return sorted(str(c) for c in codes[codes.fillna("").str.len() > 0].unique())


def _has_code(series: pd.Series, code: str) -> pd.Series:
    """Return whether each ``;``-separated cell holds ``code``."""
    cells = ";" + series.astype("string").fillna("") + ";"
    return cells.str.contains(f";{code};", regex=False).astype(bool)


def explorer_rows(lookups: pd.DataFrame, *, masker: Masker) -> pd.DataFrame:
    """Return one row per (lookup, subject) with masked subjects, for filtering.

    Parameters
    ----------
    lookups
        ``Assessment.lookups`` (the ``kit screen`` columns).
    masker
        The bundle's masker: the only way subjects are shown.

    """
    frame = lookups.reset_index(drop=True)
    times = pd.to_datetime(frame["time"], format="ISO8601", utc=True).dt.tz_convert("Asia/Taipei")
    actual = frame["actual_user"].astype("string")
    querier = actual.where(actual.fillna("").str.len() > 0, frame["user"].astype("string"))
    base = pd.DataFrame(
        {
            "time": times,
            "date": times.dt.date,
            "querier": querier,
            "unit": frame["unit"].astype("string"),
            "operation": frame["operation"].astype("string"),
            "purpose": frame["purpose"].astype("string"),
            "flags": frame["flags"].astype("string").fillna(""),
            "explanations": frame["explanations"].astype("string").fillna(""),
            "severity": frame["severity"].astype("string"),
            "lookup_id": frame["lookup_id"].astype("string"),
            "subject_key": frame["subjects"].astype("string").fillna("").str.split(";"),
        }
    )
    rows = base.explode("subject_key", ignore_index=True)
    key = rows["subject_key"].astype("string")
    key = key.mask(key.fillna("").str.len() == 0)
    parts = key.str.split(":", n=1, expand=True)
    if parts.shape[1] < 2:
        parts = pd.DataFrame({0: key, 1: pd.Series(pd.NA, index=key.index, dtype="string")})
    rows["entity"] = parts[0].astype("string")
    rows["value"] = parts[1].astype("string")
    rows["subject"] = masker.show_series(rows["entity"], rows["value"]).fillna("")
    return rows


class LookupExplorer:
    """The explorer: filter widgets, a table of matching lookups, and a pivot.

    Build it with :func:`explorer`; show ``.widget`` in JupyterLab. The
    attributes ``start``, ``end``, ``flag``, ``subject`` (filter widgets),
    ``pivot_button``, ``table`` and ``pivot`` (HTML outputs) can be driven
    from code, which is how the tests use it.
    """

    def __init__(
        self,
        rows: pd.DataFrame,
        *,
        lang: str,
        who_looked_up: Callable[[str, str], pd.DataFrame] | None,
        max_rows: int,
    ) -> None:
        import ipywidgets as widgets

        self.rows = rows
        self.lang = check_lang(lang)
        self.who_looked_up = who_looked_up
        self.max_rows = max_rows
        text = {k: v[self.lang] for k, v in TEXT.items()}
        dates = rows["date"].dropna()
        first: date | None = dates.min() if not dates.empty else None
        last: date | None = dates.max() if not dates.empty else None
        self.start = widgets.DatePicker(description=text["start"], value=first)
        self.end = widgets.DatePicker(description=text["end"], value=last)
        codes = _code_set(rows["flags"])
        self.flag = widgets.Dropdown(
            description=text["flag"],
            options=[(text["all"], ALL), (text["any_flag"], ANY_FLAG), *[(c, c) for c in codes]],
            value=ALL,
        )
        subjects = (
            rows.dropna(subset=["value"])
            .drop_duplicates(["entity", "value"])
            .sort_values(["subject", "entity", "value"])
        )
        self._subject_keys = dict(
            zip(
                subjects["entity"] + ":" + subjects["value"],
                zip(subjects["entity"], subjects["value"], strict=True),
                strict=True,
            )
        )
        keys = subjects["entity"] + ":" + subjects["value"]
        self.subject = widgets.Dropdown(
            description=text["subject"],
            options=[(text["all"], ALL), *zip(subjects["subject"], keys, strict=True)],
            value=ALL,
        )
        self.pivot_button = widgets.Button(description=text["pivot"])
        self.count = widgets.HTML()
        self.table = widgets.HTML()
        self.pivot = widgets.HTML()
        for control in (self.start, self.end, self.flag, self.subject):
            control.observe(self._refresh, names="value")
        self.pivot_button.on_click(self._pivot)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.start, self.end]),
                widgets.HBox([self.flag, self.subject, self.pivot_button]),
                self.count,
                self.table,
                self.pivot,
            ]
        )
        self.widget.add_class("kit-interactive")
        self._refresh()

    def selected(self) -> pd.DataFrame:
        """Return the rows matching the current filters (one per lookup)."""
        rows = self.rows
        keep = pd.Series(True, index=rows.index)
        if self.start.value is not None:
            keep &= rows["date"] >= self.start.value
        if self.end.value is not None:
            keep &= rows["date"] <= self.end.value
        if self.flag.value == ANY_FLAG:
            keep &= rows["flags"] != ""
        elif self.flag.value != ALL:
            keep &= _has_code(rows["flags"], str(self.flag.value))
        if self.subject.value != ALL:
            keep &= (rows["entity"] + ":" + rows["value"]).fillna("") == self.subject.value
        chosen = rows[keep]
        if self.subject.value == ALL:
            named = chosen[chosen["subject"] != ""]
            subjects = named.groupby("lookup_id", sort=False)["subject"].agg("; ".join)
            chosen = chosen.drop_duplicates("lookup_id").assign(
                subject=lambda f: f["lookup_id"].map(subjects).fillna("")
            )
        return chosen.sort_values(["time", "lookup_id"]).loc[:, list(SHOWN_COLUMNS)]

    def _refresh(self, _change: Any = None) -> None:
        chosen = self.selected()
        self.count.value = TEXT["count"][self.lang].format(n=len(chosen))
        shown = chosen.assign(time=chosen["time"].dt.strftime("%Y-%m-%d %H:%M:%S"))
        self.table.value = table_html(shown, max_rows=self.max_rows, lang=self.lang)

    def _pivot(self, _button: Any = None) -> None:
        if self.subject.value == ALL or self.who_looked_up is None:
            self.pivot.value = ""
            return
        entity, value = self._subject_keys[self.subject.value]
        found = self.who_looked_up(entity, value)
        self.pivot.value = table_html(
            found, caption=TEXT["pivot"][self.lang], max_rows=self.max_rows, lang=self.lang
        )


def explorer(
    lookups: pd.DataFrame,
    *,
    masker: Masker,
    lang: str = "zh-TW",
    who_looked_up: Callable[[str, str], pd.DataFrame] | None = None,
    max_rows: int = 500,
) -> LookupExplorer:
    """Return the interactive explorer of an assessment's lookups.

    Parameters
    ----------
    lookups
        ``Assessment.lookups`` (the ``kit screen`` columns).
    masker
        The bundle's masker; subjects are only ever shown through it.
    lang
        ``zh-TW`` or ``en``.
    who_looked_up
        Called with a subject's (entity, canonical value) when the pivot button
        is pressed; returns the table to show (already masked), typically
        everyone in the store who looked that subject up.
    max_rows
        Rows shown at most in each table.

    Returns
    -------
    LookupExplorer
        Show ``.widget`` in JupyterLab.

    """
    return LookupExplorer(
        explorer_rows(lookups, masker=masker),
        lang=lang,
        who_looked_up=who_looked_up,
        max_rows=max_rows,
    )
