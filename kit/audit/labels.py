"""Traditional Chinese headers of the audit's tables (English keeps the canonical names)."""

from __future__ import annotations

import pandas as pd

__all__ = ["COLUMN_LABELS", "localise"]

COLUMN_LABELS: dict[str, str] = {
    "month": "月份",
    "unit": "單位",
    "parent": "上級單位",
    "lookups": "查詢筆數",
    "units": "單位數",
    "risk_stratum": "風險層筆數",
    "p_uniform": "隨機層抽中機率",
    "accounts": "帳號數",
    "queriers": "實際查詢人數",
    "suspicious": "可疑查詢",
    "flagged": "有異常標記",
    "unexplained": "無合理事由",
    "explained": "有合理事由",
    "headcount": "在職員警數",
    "officers_in_service": "在職員警數",
    "lookups_per_account": "每帳號查詢數",
    "share": "占比",
    "unexplained_share": "無合理事由比率",
    "rank": "排名",
    "z_per_account": "每帳號查詢量z值",
    "user": "使用者帳號",
    "rank_in_unit": "單位內排名",
    "unit_median": "單位中位數",
    "z_in_unit": "單位內z值",
    "hour": "時",
    "previous_lookups": "上月查詢筆數",
    "change": "增減",
    "change_ratio": "本月／上月",
    "reason": "理由",
    "closer_audit": "特定機關",
    "chosen": "抽中",
    "p_unit": "單位抽中機率",
    "rate": "抽查比率",
    "lookup_quota": "應抽筆數",
    "risk_taken": "風險優先筆數",
    "uniform_taken": "隨機抽樣筆數",
    "officer_quota": "應抽員警數",
    "officer_id": "員警編號",
    "stratum": "抽樣原因",
    "p_within": "單位內抽中機率",
    "sampled": "抽中",
    "unit_chosen": "單位受抽",
    "lookup_id": "查詢編號",
    "risk": "風險層級",
    "inclusion_probability": "抽中機率",
    "path": "檔案",
    "kinds": "資料種類",
    "sha256": "SHA-256",
    "status": "狀態",
}
"""Canonical column → Chinese header; flag codes (``ODD_HOURS``…) stay as they are."""


def localise(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return ``frame`` with Chinese headers (``zh-TW``) or unchanged (``en``)."""
    if lang == "en":
        return frame
    renamed = {c: COLUMN_LABELS[c] for c in frame.columns if c in COLUMN_LABELS}
    renamed |= {
        c: c.removesuffix("_share") + " 比率"
        for c in frame.columns
        if c.endswith("_share") and c not in COLUMN_LABELS and c.removesuffix("_share").isupper()
    }
    return frame.rename(columns=renamed)
