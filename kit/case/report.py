"""The case's annotations in an evidence bundle: review columns and review counts.

The officer notebook calls these with its ``case_dir`` parameter; with
``case_dir=None`` (no case) they change nothing, so the notebook needs no
branch of its own::

    tables = review_tables(tables, case_dir, lang=lang)
    report.table(review_summary(review.assessment.lookups, case_dir, lang=lang))
    copy_history(case_dir, bundle_dir)      # when case_dir is set
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kit.case.annotations import annotate_lookups, review_counts

REVIEWED_TABLES: tuple[str, ...] = ("lookups", "evidence")
"""The bundle tables that gain the review columns."""

REVIEW_MEASURES: dict[str, dict[str, str]] = {
    "lookups": {"zh-TW": "可疑查詢(審閱範圍)", "en": "suspicious lookups (to review)"},
    "reviewed": {"zh-TW": "已審閱", "en": "reviewed"},
    "confirmed": {"zh-TW": "確認違失", "en": "confirmed misconduct"},
    "explained": {"zh-TW": "已說明(保留並標示)", "en": "explained (kept, marked)"},
    "not_relevant": {"zh-TW": "無關", "en": "not relevant"},
    "unreviewed": {"zh-TW": "未審閱", "en": "unreviewed"},
}
"""Rows of :func:`review_summary`, per language."""

SUMMARY_HEADERS: dict[str, tuple[str, str]] = {
    "zh-TW": ("項目", "數值"),
    "en": ("measure", "value"),
}
"""Headers of :func:`review_summary`, as in the bundle's findings summary."""


def review_tables(
    tables: Mapping[str, pd.DataFrame], case_dir: Path | str | None, *, lang: str = "zh-TW"
) -> dict[str, pd.DataFrame]:
    """Add the review columns to the bundle's lookup and evidence tables.

    Parameters
    ----------
    tables
        The bundle tables by name (``lookups``, ``evidence`` …), headers in ``lang``.
    case_dir
        The case folder, or ``None`` (the tables are returned unchanged).
    lang
        The tables' language: the lookup ID column is ``lookup_id`` or its
        localised header, and the review columns are added in that language.

    Returns
    -------
    dict
        The tables, ``lookups`` and ``evidence`` with status, note, reason,
        investigator and date of the review in force (no row dropped).

    """
    out = dict(tables)
    if case_dir is None:
        return out
    from kit.views.headers import HEADERS

    for name in REVIEWED_TABLES:
        table = out.get(name)
        if table is None:
            continue
        key = "lookup_id" if "lookup_id" in table.columns else HEADERS["lookup_id"]
        out[name] = annotate_lookups(table, case_dir, key=key, lang=lang)
    return out


def review_summary(
    lookups: pd.DataFrame, case_dir: Path | str | None, *, lang: str = "zh-TW"
) -> pd.DataFrame:
    """Return the review counts of the suspicious lookups as a two-column table.

    Parameters
    ----------
    lookups
        The assessment's lookup table (``kit screen`` columns, ``suspicious`` boolean).
    case_dir
        The case folder, or ``None`` (an empty table).
    lang
        ``zh-TW`` or ``en``.

    Returns
    -------
    pandas.DataFrame
        ``measure`` and ``value`` (項目 and 數值 in Chinese, as in the
        findings summary): suspicious, reviewed, confirmed, explained, not relevant,
        unreviewed.

    """
    measure, value = SUMMARY_HEADERS[lang]
    if case_dir is None:
        return pd.DataFrame({measure: pd.Series(dtype="string"), value: pd.Series(dtype="int64")})
    counts = review_counts(lookups, case_dir)
    return pd.DataFrame(
        {
            measure: [REVIEW_MEASURES[k][lang] for k in REVIEW_MEASURES],
            value: [counts[k] for k in REVIEW_MEASURES],
        }
    )
