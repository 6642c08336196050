"""The audit worksheet: the facts an auditor checks for each sampled lookup.

One row per sampled lookup (§六(一)4): when, which account and who really
queried, the unit, the system, the subject (masked), the stated purpose, the
duty at that time (勤務分配表), the register status (出入登記簿), the work-log
entries within 4 hours (工作紀錄簿), the kit's explanations and flags, why the
lookup was sampled and its inclusion probability — then empty columns for
the auditor's conclusion (合規 / 不合規 / 待查), note, signature and date.
:func:`write_worksheet` exports it as CSV and as XLSX (frozen header, a
drop-down list on the conclusion, formulas neutralised) to be filled in and
kept for a year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.audit.frames import kind_frame
from kit.export import neutralise_formulas, write_csv
from kit.mask import Masker
from kit.schema import HANDHELD_PREFIX, SYSTEMS, TIMEZONE

__all__ = [
    "CONCLUSIONS",
    "WORKSHEET_HEADERS",
    "audit_worksheet",
    "masked_subjects",
    "system_of",
    "worksheet_for_report",
    "write_worksheet",
]

WORKLOG_WINDOW = pd.Timedelta(hours=4)
"""Work-log entries within this time of a lookup are shown (as EXPL_WORKLOG reads them)."""
WORKLOG_SHOWN = 3
"""At most this many work-log entries are quoted per lookup (the count says how many)."""

CONCLUSIONS: dict[str, tuple[str, ...]] = {
    "zh-TW": ("合規", "不合規", "待查"),
    "en": ("compliant", "non-compliant", "to check"),
}
"""The values the auditor's conclusion column accepts, per language."""

WORKSHEET_HEADERS: dict[str, str] = {
    "no": "序號",
    "lookup_id": "查詢編號",
    "time": "作業時間",
    "unit": "單位",
    "user": "使用者帳號",
    "actual_user": "實際查詢者",
    "actual_unit": "實際查詢單位",
    "system": "系統",
    "operation": "作業種類",
    "subjects": "查詢對象(遮蔽)",
    "conditions": "查詢條件(遮蔽)",
    "purpose": "用途",
    "duty": "當時勤務",
    "register": "出入登記",
    "worklog": "前後4小時工作紀錄",
    "explanations": "說明依據",
    "flags": "異常標記",
    "severity": "嚴重度",
    "source": "來源列",
    "stratum": "抽樣原因",
    "risk": "風險層級",
    "inclusion_probability": "抽中機率",
    "conclusion": "稽核結論",
    "note": "說明",
    "auditor": "稽核人員簽章",
    "audit_date": "稽核日期",
}
"""Canonical worksheet columns and their Traditional Chinese headers."""

_TEXT: dict[str, dict[str, str]] = {
    "zh-TW": {
        "risk": "風險優先",
        "uniform": "隨機抽樣",
        "no_roster": "勤務表無資料",
        "off": "不在勤務時段",
        "no_register": "登記簿無資料",
        "in": "在所",
        "out": "外出",
        "entries": "筆",
    },
    "en": {
        "risk": "risk first",
        "uniform": "random",
        "no_roster": "no roster data",
        "off": "no shift at that time",
        "no_register": "no register data",
        "in": "in station",
        "out": "out",
        "entries": "entries",
    },
}


RISK_WORDS: dict[str, str] = {
    "suspicious": "可疑",
    "flagged": "有異常標記",
    "unexplained": "無合理事由",
    "none": "無",
}
"""Chinese names of the risk tiers (:data:`kit.audit.frames.RISK_TIERS`)."""


def _text(lang: str) -> dict[str, str]:
    return _TEXT["en" if lang == "en" else "zh-TW"]


def system_of(operation: pd.Series) -> pd.Series:
    """Return the system (DOMAIN.md) of each operation: its family, ``M-Police-`` removed."""
    bare = operation.astype("string").fillna("").str.removeprefix(HANDHELD_PREFIX)
    conditions = [bare.str.startswith(s).to_numpy(dtype=bool) for s in SYSTEMS]
    fallback = bare.str.split("-", n=1).str[0]
    chosen = np.select(conditions, list(SYSTEMS), default="")
    return pd.Series(chosen, index=operation.index, dtype="string").where(chosen != "", fallback)


def masked_subjects(lookups: pd.DataFrame, masker: Masker) -> pd.Series:
    """Return each lookup's subjects (``kind:value;…``) shown through ``masker``, ``、``-joined.

    Subjects are registered with the masker in the order of ``lookups`` (pass
    them time-ordered so pseudonyms follow time).
    """
    subjects = lookups["subjects"].astype("string").fillna("")
    pairs = subjects.str.split(";").explode()
    pairs = pairs[pairs.fillna("").str.contains(":", regex=False)]
    if pairs.empty:
        return pd.Series("", index=lookups.index, dtype="string")
    parts = pairs.str.split(":", n=1)
    shown = masker.show_series(parts.str[0], parts.str[1])
    joined = shown.groupby(level=0, sort=False).agg("、".join)
    return joined.reindex(lookups.index).fillna("").astype("string")


def _querier(frame: pd.DataFrame) -> pd.Series:
    user = frame["user"].astype("string")
    if "actual_user" not in frame.columns:
        return user
    actual = frame["actual_user"].astype("string")
    return actual.where(actual.fillna("").str.len() > 0, user)


def _clock(times: pd.Series) -> pd.Series:
    return times.dt.tz_convert(TIMEZONE).dt.strftime("%H:%M").astype("string")


def _duty(keys: pd.DataFrame, roster: pd.DataFrame, lang: str) -> pd.Series:
    words = _text(lang)
    result = pd.Series(words["no_roster"], index=keys.index, dtype="string")
    needed = {"officer_id", "start", "end", "duty"}
    if roster.empty or not needed <= set(roster.columns):
        return result
    lo, hi = keys["time"].min() - pd.Timedelta(days=2), keys["time"].max() + pd.Timedelta(days=1)
    shifts = roster.loc[(roster["start"] >= lo) & (roster["start"] <= hi), list(needed)]
    shifts = shifts.assign(officer_id=shifts["officer_id"].astype("string"))
    joined = keys.reset_index().merge(shifts, left_on="querier", right_on="officer_id")
    day = keys["time"].dt.tz_convert(TIMEZONE).dt.date
    has_day = joined["start"].dt.tz_convert(TIMEZONE).dt.date == joined["index"].map(day)
    rostered = set(joined.loc[has_day, "index"])
    result[result.index.isin(rostered)] = words["off"]
    covering = joined[(joined["start"] <= joined["time"]) & (joined["time"] < joined["end"])]
    if len(covering):
        label = (
            covering["duty"].astype("string")
            + " "
            + _clock(covering["start"])
            + "–"
            + _clock(covering["end"])
        )
        shown = label.groupby(covering["index"]).agg("；".join)
        result.loc[shown.index] = shown.astype("string")
    return result


def _register(keys: pd.DataFrame, register: pd.DataFrame, lang: str) -> pd.Series:
    words = _text(lang)
    result = pd.Series(words["no_register"], index=keys.index, dtype="string")
    if register.empty or not {"officer_id", "out_time"} <= set(register.columns):
        return result
    rows = register.assign(officer_id=register["officer_id"].astype("string"))
    if "in_time" not in rows.columns:
        rows["in_time"] = pd.NaT
    known = keys["querier"].isin(set(rows["officer_id"]))
    result[known] = words["in"]
    joined = keys.reset_index().merge(rows, left_on="querier", right_on="officer_id")
    inside = (joined["out_time"] <= joined["time"]) & (
        joined["in_time"].isna() | (joined["time"] < joined["in_time"])
    )
    out = joined.loc[inside.fillna(False).astype(bool)]
    if len(out):
        back = _clock(out["in_time"]).fillna("…")
        label = words["out"] + " " + _clock(out["out_time"]) + "–" + back
        if "reason" in out.columns:
            label = label + " " + out["reason"].astype("string").fillna("")
        if "devices" in out.columns:
            devices = pc.binary_join(pa.array(out["devices"], type=pa.list_(pa.string())), ",")
            label = (
                label
                + " "
                + pd.Series(devices.to_pandas(), index=out.index, dtype="string").fillna("")
            )
        shown = label.str.strip().groupby(out["index"]).agg("；".join)
        result.loc[shown.index] = shown.astype("string")
    return result


def _worklog(keys: pd.DataFrame, worklog: pd.DataFrame, masker: Masker, lang: str) -> pd.Series:
    result = pd.Series("", index=keys.index, dtype="string")
    if worklog.empty or not {"officer_id", "time", "content"} <= set(worklog.columns):
        return result
    entries = worklog[["officer_id", "time", "content"]].rename(columns={"time": "log_time"})
    entries = entries.assign(officer_id=entries["officer_id"].astype("string"))
    joined = keys.reset_index().merge(entries, left_on="querier", right_on="officer_id")
    near = (joined["log_time"] - joined["time"]).abs() <= WORKLOG_WINDOW
    joined = joined.loc[near].sort_values(["index", "log_time"], kind="stable")
    if joined.empty:
        return result
    joined["shown"] = _clock(joined["log_time"]) + " " + masker.text_series(joined["content"])
    counts = joined.groupby("index").size()
    quoted = joined.groupby("index").head(WORKLOG_SHOWN).groupby("index")["shown"].agg("；".join)
    more = counts.reindex(quoted.index)
    suffix = np.where(
        more > WORKLOG_SHOWN, "（" + more.astype(str) + _text(lang)["entries"] + "）", ""
    )
    result.loc[quoted.index] = (quoted + suffix).astype("string")
    return result


def audit_worksheet(
    sample: Any,
    assessment: Any,
    dataset: Any,
    *,
    masker: Masker,
    lang: str = "zh-TW",
) -> pd.DataFrame:
    """Return the worksheet of a monthly sample: one row per sampled lookup.

    Parameters
    ----------
    sample
        The :class:`~kit.audit.sample.AuditSample` of the month.
    assessment
        The ``Assessment`` the sample was drawn from (unused columns of the
        sample's lookups are read from it when missing there).
    dataset
        The ``Dataset`` (its ``duty_roster``, ``register`` and ``worklog``).
    masker
        Masks subjects, conditions and work-log text; pseudonyms are assigned
        in time order.
    lang
        ``"zh-TW"`` (Chinese headers, default) or ``"en"`` (canonical names).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`WORKSHEET_HEADERS`, the last four empty for the auditor.

    """
    lookups = sample.lookups
    source = getattr(assessment, "lookups", assessment)
    if isinstance(source, pd.DataFrame) and "subjects" not in lookups.columns:
        extra = source.set_index("lookup_id")
        lookups = lookups.join(
            extra[[c for c in extra.columns if c not in lookups]], on="lookup_id"
        )
    lookups = lookups.sort_values(["time", "lookup_id"], kind="stable").reset_index(drop=True)
    words = _text(lang)
    keys = pd.DataFrame({"querier": _querier(lookups), "time": lookups["time"]})

    def column(name: str) -> pd.Series:
        if name in lookups.columns:
            return lookups[name].astype("string")
        return pd.Series(pd.NA, index=lookups.index, dtype="string")

    if "subjects" in lookups.columns:
        subjects = masked_subjects(lookups, masker)
    else:
        subjects = pd.Series("", index=lookups.index, dtype="string")
    sheet = pd.DataFrame(
        {
            "no": np.arange(1, len(lookups) + 1, dtype=np.int64),
            "lookup_id": column("lookup_id"),
            "time": lookups["time"].dt.strftime("%Y-%m-%d %H:%M:%S").astype("string"),
            "unit": column("unit"),
            "user": column("user"),
            "actual_user": column("actual_user"),
            "actual_unit": column("actual_unit"),
            "system": system_of(column("operation")),
            "operation": column("operation"),
            "subjects": subjects,
            "conditions": masker.text_series(column("conditions")),
            "purpose": column("purpose"),
            "duty": _duty(keys, kind_frame(dataset, "duty_roster"), lang),
            "register": _register(keys, kind_frame(dataset, "register"), lang),
            "worklog": _worklog(keys, kind_frame(dataset, "worklog"), masker, lang),
            "explanations": column("explanations").fillna(""),
            "flags": column("flags").fillna(""),
            "severity": column("severity"),
            "source": column("source_file").fillna("") + ":" + column("source_line").fillna(""),
            "stratum": lookups["stratum"].map({"risk": words["risk"], "uniform": words["uniform"]}),
            "risk": column("risk").replace(RISK_WORDS) if lang != "en" else column("risk"),
            "inclusion_probability": lookups["inclusion_probability"].astype(float).round(6),
            "conclusion": pd.Series("", index=lookups.index, dtype="string"),
            "note": pd.Series("", index=lookups.index, dtype="string"),
            "auditor": pd.Series("", index=lookups.index, dtype="string"),
            "audit_date": pd.Series("", index=lookups.index, dtype="string"),
        }
    )
    sheet["stratum"] = sheet["stratum"].astype("string")
    text = [c for c in sheet.columns if pd.api.types.is_string_dtype(sheet[c])]
    sheet[text] = sheet[text].fillna("")
    if lang != "en":
        sheet = sheet.rename(columns=WORKSHEET_HEADERS)
    return sheet


REPORT_COLUMNS: tuple[str, ...] = (
    "no",
    "time",
    "unit",
    "user",
    "actual_user",
    "system",
    "subjects",
    "purpose",
    "duty",
    "register",
    "flags",
    "stratum",
    "inclusion_probability",
)
"""The worksheet columns printed in the report (the files hold every column)."""


def worksheet_for_report(worksheet: pd.DataFrame, lang: str = "zh-TW") -> pd.DataFrame:
    """Return the worksheet narrowed to :data:`REPORT_COLUMNS`, for printing in the report."""
    names = [WORKSHEET_HEADERS[c] if lang != "en" else c for c in REPORT_COLUMNS]
    return worksheet[[n for n in names if n in worksheet.columns]]


def write_worksheet(
    worksheet: pd.DataFrame, out_dir: Path, *, stem: str = "audit_worksheet", lang: str = "zh-TW"
) -> tuple[Path, Path]:
    """Write the worksheet as CSV (UTF-8 with BOM) and XLSX; return both paths.

    The XLSX has a bold frozen header, an auto-filter, a drop-down list of
    :data:`CONCLUSIONS` on the conclusion column, and every text cell written
    as text (cells starting like a formula are prefixed with ``'``).
    """
    out_dir = Path(out_dir)
    csv_path = write_csv(worksheet, out_dir / f"{stem}.csv")
    xlsx_path = out_dir / f"{stem}.xlsx"
    safe = neutralise_formulas(worksheet)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(
        xlsx_path, engine="xlsxwriter", engine_kwargs={"options": options}
    ) as writer:
        safe.to_excel(writer, index=False, sheet_name="worksheet")
        sheet = writer.sheets["worksheet"]
        rows, columns = safe.shape
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(rows, 1), columns - 1)
        sheet.set_column(0, columns - 1, 16)
        header = WORKSHEET_HEADERS["conclusion"] if lang != "en" else "conclusion"
        if header in safe.columns:
            at = list(safe.columns).index(header)
            choices = CONCLUSIONS["en" if lang == "en" else "zh-TW"]
            sheet.data_validation(
                1, at, max(rows, 1), at, {"validate": "list", "source": list(choices)}
            )
    return csv_path, xlsx_path
