"""Canonical names of the data contract (``shared/spec/DATA.md``), in one place.

Every stage after loading speaks in these names. A loaded table is a pandas
DataFrame whose columns are, in order:

1. the canonical columns of its kind (:data:`KINDS`), every one present even
   when the source file lacked an optional column (then all-missing);
2. for each *identifier field* (:attr:`Column.identifier`), two companions:
   ``<col>_entity`` (the entity kind, see :class:`Entity`) and ``<col>_raw``
   (the text as in the source, before NFKC); the canonical column itself holds
   the canonical identifier value (``plate`` ``ABC1234``);
3. for each *free-text field that may carry identifiers*
   (:attr:`Column.keep_raw`), ``<col>_raw`` with the original text (the
   canonical column holds the NFKC-normalised, trimmed text);
4. the kind's derived columns (:data:`DERIVED`);
5. unknown extra columns of the source, under their NFKC-normalised header;
6. the provenance columns :data:`PROVENANCE`.

Value types: text columns use pandas' string dtype; times are timezone-aware
(:data:`TIMEZONE`, microsecond resolution); dates are ``datetime.date`` values
in an Arrow ``date32`` column; list cells are Arrow ``list<string>``; unit
names are NFKC-normalised with 臺 folded to 台.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TIMEZONE = "Asia/Taipei"
"""All times are Asia/Taipei local time (+08:00, no DST since 1979)."""

TIME_DTYPE = "datetime64[us, Asia/Taipei]"
"""The pandas dtype of every time column."""

PROVENANCE: tuple[str, ...] = ("source_file", "source_line", "source_sha256")
"""Provenance columns on every loaded row.

``source_file`` is the path relative to the data folder, ``/``-separated;
``source_line`` is the 1-based physical line on which the record starts (the
header is line 1) as text, or ``Sheet!row`` for XLSX; ``source_sha256`` is the
hex SHA-256 of the whole file.
"""


class Entity(StrEnum):
    """Kinds of identifier (DATA.md, "Identifiers")."""

    PERSON_ID = "person_id"
    PLATE = "plate"
    ACCOUNT = "account"
    PHONE = "phone"
    LINE_ID = "line_id"
    BUSINESS_ID = "business_id"
    NAME = "name"


class ColumnType(StrEnum):
    """How a column's cells are parsed."""

    TEXT = "text"
    TIME = "time"
    DATE = "date"
    CLOCK = "clock"
    LIST = "list"


@dataclass(frozen=True)
class Column:
    """One column of a kind: canonical name, Chinese header, parsing rules."""

    canonical: str
    header: str
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    identifier: bool = False
    """A single identifier, keyed or not: stored canonical, with ``_entity`` and ``_raw``."""
    keep_raw: bool = False
    """Free text that may carry identifiers: the original kept in ``<col>_raw``."""
    aliases: tuple[str, ...] = ()
    """Other header spellings accepted besides ``header`` and ``canonical``."""


@dataclass(frozen=True)
class Kind:
    """One kind of export of DATA.md."""

    name: str
    title: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Canonical names of the required columns."""
        return tuple(c.canonical for c in self.columns if c.required)

    def column(self, canonical: str) -> Column:
        """Return the column with this canonical name."""
        for c in self.columns:
            if c.canonical == canonical:
                return c
        raise KeyError(canonical)


T, TM, D, CL, L = (
    ColumnType.TEXT,
    ColumnType.TIME,
    ColumnType.DATE,
    ColumnType.CLOCK,
    ColumnType.LIST,
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "query_log",
            "警政日誌",
            (
                Column("time", "作業時間", TM, required=True),
                Column("unit", "單位"),
                Column("user", "使用者", required=True),
                Column("ip", "IP"),
                Column("operation", "作業種類", required=True),
                Column("conditions", "查詢條件", required=True, keep_raw=True),
                Column("actual_user", "實際查詢者"),
                Column("actual_unit", "實際查詢單位"),
                Column("purpose", "用途"),
                Column("result", "查詢結果"),
                Column("device", "設備"),
                Column("case_no", "案號"),
            ),
        ),
        Kind(
            "officers",
            "員警名冊",
            (
                Column("officer_id", "員警編號", required=True),
                Column("name", "姓名", required=True),
                Column("person_id", "身分證號", identifier=True),
                Column("unit", "單位"),
                Column("title", "職稱"),
                Column("phone", "手機", L),
                Column("start_date", "到職日", D),
                Column("end_date", "離職日", D),
            ),
        ),
        Kind(
            "duty_roster",
            "勤務分配表",
            (
                Column("date", "日期", D, required=True),
                Column("officer_id", "員警編號", required=True),
                Column("unit", "單位"),
                Column("start", "起", CL, required=True),
                Column("end", "迄", CL, required=True),
                Column("duty", "勤務", required=True),
            ),
        ),
        Kind(
            "register",
            "員警出入及領用登記簿",
            (
                Column("officer_id", "員警編號", required=True),
                Column("out_time", "出所時間", TM, required=True),
                Column("in_time", "返所時間", TM),
                Column("reason", "事由"),
                Column("equipment", "領用裝備", L),
            ),
        ),
        Kind(
            "worklog",
            "工作紀錄簿",
            (
                Column("time", "時間", TM, required=True),
                Column("officer_id", "員警編號", required=True),
                Column("content", "工作內容", required=True, keep_raw=True),
                Column("case_no", "案號"),
            ),
        ),
        Kind(
            "cases",
            "案件紀錄",
            (
                Column("case_no", "案號", required=True),
                Column("category", "案類"),
                Column("opened", "受理時間", TM, required=True),
                Column("closed", "結案時間", TM),
                Column("officers", "承辦員警", L, required=True),
                Column("parties", "關係人", L, required=True),
            ),
        ),
        Kind(
            "tickets",
            "舉發紀錄",
            (
                Column("ticket_no", "舉發單號", required=True),
                Column("time", "舉發時間", TM, required=True),
                Column("officer_id", "舉發員警", required=True),
                Column("plate", "車牌號碼", required=True, identifier=True),
                Column("person_id", "違規人身分證號", identifier=True),
                Column("violation", "違規事實"),
            ),
        ),
        Kind(
            "police_vehicles",
            "公務車輛",
            (
                Column("plate", "車牌號碼", required=True, identifier=True),
                Column("category", "類別", required=True),
                Column("unit", "使用單位"),
            ),
        ),
        Kind(
            "relations",
            "員警關係人",
            (
                Column("officer_id", "員警編號", required=True),
                Column("relation", "關係", required=True),
                Column("identifier", "關係人識別", required=True, identifier=True),
                Column("name", "姓名"),
            ),
        ),
        Kind(
            "communications",
            "通聯及通訊軟體紀錄",
            (
                Column("time", "時間", TM, required=True),
                Column("officer_id", "員警編號", required=True),
                Column("own_phone", "本機號碼", identifier=True),
                Column("counterpart", "對方", required=True, identifier=True),
                Column("counterpart_name", "對方名稱"),
                Column("direction", "方向", required=True),
                Column("type", "類型"),
                Column("content", "內容", keep_raw=True),
            ),
        ),
        Kind(
            "watchlist",
            "高風險對象",
            (
                Column("identifier", "識別", required=True, identifier=True),
                Column("category", "類別", required=True),
                Column("note", "說明"),
            ),
        ),
        Kind(
            "operations",
            "專案及臨檢行動",
            (
                Column("operation_no", "行動編號", required=True),
                Column("name", "名稱"),
                Column("planned", "規劃時間", TM, required=True),
                Column("executed", "執行時間", TM, required=True),
                Column("targets", "對象", L, required=True),
                Column("officers", "知悉員警", L, required=True),
            ),
        ),
        Kind(
            "identities",
            "身分對照",
            (
                Column("identifier", "識別", required=True, identifier=True),
                Column("belongs_to", "所屬", required=True, identifier=True),
                Column("link", "關係"),
                Column("source", "來源"),
            ),
        ),
        Kind(
            "units",
            "單位階層",
            (
                Column("unit", "單位", required=True),
                Column("parent", "上級單位", required=True),
                Column("level", "層級"),
            ),
        ),
    )
}
"""The fourteen kinds of DATA.md, by canonical name."""

DERIVED: dict[str, tuple[str, ...]] = {
    # lookup_id: stable content hash (DATA.md "Stable lookup IDs");
    # system: operation family without the M-Police- prefix (DOMAIN.md "system");
    # handheld: M-Police- operation or an M- device.
    "query_log": ("lookup_id", "system", "handheld"),
    # The roster after normalisation is always long form: start and end are
    # full times (a shift across midnight ends on the next day), on_duty says
    # whether the duty word is an on-duty word, form is "long" or "wide".
    "duty_roster": ("on_duty", "form"),
    # devices: the handheld device IDs (M-0123) among the equipment.
    "register": ("devices",),
    # counterpart_entity is phone, line_id or name (a name only when neither).
}
"""Columns computed by the loaders, per kind."""

SUBJECT_COLUMNS: tuple[str, ...] = (
    "lookup_id",
    "entity",
    "value",
    "raw",
    "keyed",
    "id_valid",
)
"""Columns of the ``subjects`` view: one row per (lookup, identifier) pair.

``value`` is canonical, ``raw`` the text as typed in the conditions,
``keyed`` whether a key named it, ``id_valid`` the check-digit result for
``person_id`` (missing for other entities).
"""

IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "kind",
    "field",
    "source_file",
    "source_line",
    "entity",
    "value",
    "raw",
    "keyed",
    "id_valid",
)
"""Columns of the ``identifiers`` table: every identifier found in any field
of any kind other than the query log (list cells, free text, single fields),
keyed to its row by provenance (``kind``, ``source_file``, ``source_line``)."""

LEDGER_COLUMNS: tuple[str, ...] = (
    "source_file",
    "source_line",
    "column",
    "status",
    "reason",
    "raw",
)
"""Columns of the reject/warning ledger.

``status`` is ``rejected``, ``warning`` or ``duplicate``."""

ON_DUTY_WORDS: frozenset[str] = frozenset(
    {"值班", "巡邏", "臨檢", "守望", "勤區查察", "備勤", "交通整理", "專案勤務", "刑案偵查", "內勤"}
)
OFF_DUTY_WORDS: frozenset[str] = frozenset({"休假", "輪休", "補休", "公假", "病假", "外宿"})

SYSTEMS: tuple[str, ...] = (
    "戶役政",
    "車籍",
    "駕籍",
    "刑案",
    "通緝",
    "165反詐騙",
    "入出境",
    "失蹤人口",
)
"""Operation families (DOMAIN.md "system")."""

HANDHELD_PREFIX = "M-Police-"
