"""The Chinese and canonical headers of each kind, as DATA.md lists them.

Kept here on purpose (the generator is the test oracle and imports nothing
else of the kit).  Each entry: canonical name, Chinese header, value type
(``text``, ``time``, ``date``, ``clock``).
"""

from __future__ import annotations

KIND_COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "query_log": (
        ("time", "作業時間", "time"),
        ("unit", "單位", "text"),
        ("user", "使用者", "text"),
        ("ip", "IP", "text"),
        ("operation", "作業種類", "text"),
        ("conditions", "查詢條件", "text"),
        ("actual_user", "實際查詢者", "text"),
        ("actual_unit", "實際查詢單位", "text"),
        ("purpose", "用途", "text"),
        ("result", "查詢結果", "text"),
        ("device", "設備", "text"),
        ("case_no", "案號", "text"),
    ),
    "officers": (
        ("officer_id", "員警編號", "text"),
        ("name", "姓名", "text"),
        ("person_id", "身分證號", "text"),
        ("unit", "單位", "text"),
        ("title", "職稱", "text"),
        ("phone", "手機", "text"),
        ("start_date", "到職日", "date"),
        ("end_date", "離職日", "date"),
    ),
    "duty_roster": (
        ("date", "日期", "date"),
        ("officer_id", "員警編號", "text"),
        ("unit", "單位", "text"),
        ("start", "起", "clock"),
        ("end", "迄", "clock"),
        ("duty", "勤務", "text"),
    ),
    "register": (
        ("officer_id", "員警編號", "text"),
        ("out_time", "出所時間", "time"),
        ("in_time", "返所時間", "time"),
        ("reason", "事由", "text"),
        ("equipment", "領用裝備", "text"),
    ),
    "worklog": (
        ("time", "時間", "time"),
        ("officer_id", "員警編號", "text"),
        ("content", "工作內容", "text"),
        ("case_no", "案號", "text"),
    ),
    "cases": (
        ("case_no", "案號", "text"),
        ("category", "案類", "text"),
        ("opened", "受理時間", "time"),
        ("closed", "結案時間", "time"),
        ("officers", "承辦員警", "text"),
        ("parties", "關係人", "text"),
    ),
    "tickets": (
        ("ticket_no", "舉發單號", "text"),
        ("time", "舉發時間", "time"),
        ("officer_id", "舉發員警", "text"),
        ("plate", "車牌號碼", "text"),
        ("person_id", "違規人身分證號", "text"),
        ("violation", "違規事實", "text"),
    ),
    "police_vehicles": (
        ("plate", "車牌號碼", "text"),
        ("category", "類別", "text"),
        ("unit", "使用單位", "text"),
    ),
    "relations": (
        ("officer_id", "員警編號", "text"),
        ("relation", "關係", "text"),
        ("identifier", "關係人識別", "text"),
        ("name", "姓名", "text"),
    ),
    "communications": (
        ("time", "時間", "time"),
        ("officer_id", "員警編號", "text"),
        ("own_phone", "本機號碼", "text"),
        ("counterpart", "對方", "text"),
        ("counterpart_name", "對方名稱", "text"),
        ("direction", "方向", "text"),
        ("type", "類型", "text"),
        ("content", "內容", "text"),
    ),
    "watchlist": (
        ("identifier", "識別", "text"),
        ("category", "類別", "text"),
        ("note", "說明", "text"),
    ),
    "operations": (
        ("operation_no", "行動編號", "text"),
        ("name", "名稱", "text"),
        ("planned", "規劃時間", "time"),
        ("executed", "執行時間", "time"),
        ("targets", "對象", "text"),
        ("officers", "知悉員警", "text"),
    ),
    "identities": (
        ("identifier", "識別", "text"),
        ("belongs_to", "所屬", "text"),
        ("link", "關係", "text"),
        ("source", "來源", "text"),
    ),
    "units": (("unit", "單位", "text"), ("parent", "上級單位", "text"), ("level", "層級", "text")),
}
"""Columns of every kind: (canonical, Chinese header, type)."""

SLOTS = tuple(f"{h:02d}-{h + 2:02d}" for h in range(0, 24, 2))
"""Wide-form roster slot headers ``00-02`` ... ``22-24``."""
SHORT_SLOTS = tuple(f"{h}-{h + 2}" for h in range(0, 24, 2))
"""The short spelling ``0-2`` ... ``22-24``."""
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def header_names(kind: str, canonical: list[str], style: str) -> list[str]:
    """Return the header cells of a file.

    Parameters
    ----------
    kind : str
        The kind.
    canonical : list of str
        Canonical names of the columns written (wide-roster slots pass through).
    style : str
        ``zh`` (Chinese), ``en`` (canonical), ``mixed`` (alternating, with
        spaces and full-width forms).

    """
    chinese = {c: h for c, h, _ in KIND_COLUMNS[kind]}
    out = []
    for i, name in enumerate(canonical):
        zh = chinese.get(name, name)
        if style == "en":
            out.append(name)
        elif style == "zh":
            out.append(zh)
        else:
            cell = zh if i % 2 == 0 else name
            if i % 3 == 1:
                cell = f" {cell} "
            if name == "ip" or (i % 4 == 3 and cell.isascii()):
                cell = cell.translate(FULL_WIDTH)
            out.append(cell)
    return out
