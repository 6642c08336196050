"""The one mapping of evidence-table headers: canonical English name → Traditional Chinese.

Tables are built with canonical English column names; :func:`localise` turns
them into the Chinese headers (the default for people) or leaves them as
they are (``lang="en"``). A column without an entry keeps its English name.
"""

from __future__ import annotations

import pandas as pd

from kit.errors import ConfigError

__all__ = ["HEADERS", "LANGS", "localise"]

LANGS: tuple[str, ...] = ("zh-TW", "en")

HEADERS: dict[str, str] = {
    "number": "編號",
    "time": "時間",
    "end": "結束時間",
    "user": "使用帳號",
    "actual_user": "實際查詢者",
    "querier": "查詢者",
    "unit": "單位",
    "actual_unit": "實際查詢單位",
    "ip": "IP",
    "device": "設備",
    "system": "系統",
    "operation": "作業種類",
    "subjects": "查詢對象",
    "conditions": "查詢條件",
    "purpose": "用途",
    "case_no": "案號",
    "duty": "當時勤務",
    "register": "出入登記狀態",
    "explanations": "解釋",
    "flags": "旗標",
    "severity": "嚴重程度",
    "score": "分數",
    "suspicious": "可疑",
    "not_checked": "未能檢核",
    "contact_after": "查詢後30分鐘內通聯",
    "identifiers_sent": "送出查得資料之訊息",
    "source_file": "來源檔案",
    "source_line": "來源列",
    "lookup_id": "查詢識別碼",
    "subject": "對象",
    "entity": "識別類型",
    "lookups": "查詢次數",
    "first": "首次",
    "last": "最後",
    "officers": "查詢員警",
    "suspicious_lookups": "可疑查詢數",
    "officer_id": "員警編號",
    "own_phone": "本機號碼",
    "counterpart": "對方",
    "counterpart_name": "對方名稱",
    "direction": "方向",
    "type": "類型",
    "content": "內容",
    "rests_on": "依據紀錄",
    "preceding_lookup": "先前查詢",
    "minutes_after": "查詢後分鐘數",
    "code": "代碼",
    "kind": "種類",
    "reason": "理由",
    "section": "項目",
    "item": "細目",
    "value": "內容",
}
"""Canonical English column name → Traditional Chinese header."""


def localise(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return the table with headers in ``lang`` (``zh-TW`` or ``en``).

    Raises
    ------
    kit.errors.ConfigError
        For a language other than those of :data:`LANGS`.

    """
    if lang not in LANGS:
        raise ConfigError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    if lang == "en":
        return table
    return table.rename(columns={c: HEADERS.get(c, c) for c in table.columns})
