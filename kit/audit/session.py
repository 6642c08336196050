"""One month's audit in one object: what the notebook opens, shows and writes.

:func:`open_audit` opens the store (or ingests a data folder into its cache
store), assesses the month (``kit.assess.assess`` on the store loads 31-day
context margins itself), reads the previous month's query log for the
month-over-month change, draws the sample, builds the statistics and the
worksheet. :func:`write_audit_files` writes the bundle's ``tables/`` and the
facts the manifest records. Nothing here displays anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kit.audit.frames import kind_frame, month_bounds
from kit.audit.hierarchy import match_unit, unit_parents
from kit.audit.labels import localise
from kit.audit.sample import AuditSample, monthly_sample
from kit.audit.self_review import self_review_table
from kit.audit.statistics import monthly_statistics
from kit.audit.worksheet import audit_worksheet, write_worksheet
from kit.errors import ConfigError
from kit.mask import Masker

__all__ = [
    "MonthlyAudit",
    "audit_tables",
    "method_text",
    "new_seed",
    "open_audit",
    "open_self_review",
    "open_store_or_data",
    "sources_table",
    "write_audit_files",
    "write_self_review_files",
]


def new_seed() -> int:
    """Return a fresh sampling seed (recorded in the report, so the draw can be repeated)."""
    return secrets.randbelow(2**32)


@dataclass(frozen=True)
class MonthlyAudit:
    """The month's audit: inputs, assessment, sample, statistics and worksheet.

    Attributes
    ----------
    month, unit, seed, lang, reveal
        The parameters (``seed`` as drawn when none was given).
    store
        The opened store.
    dataset
        The store's small kinds and the previous month's query log.
    assessment
        The assessment of the month.
    sample, statistics, worksheet
        The results shown and written.
    masker
        Masks every identifier in the worksheet.

    """

    month: str
    unit: str | None
    seed: int
    lang: str
    reveal: bool
    store: Any = field(repr=False)
    dataset: Any = field(repr=False)
    assessment: Any = field(repr=False)
    sample: AuditSample = field(repr=False)
    statistics: dict[str, pd.DataFrame] = field(repr=False)
    worksheet: pd.DataFrame = field(repr=False)
    masker: Masker = field(repr=False)


def open_store_or_data(data: str | None, store: str | None) -> Any:
    """Open ``store``, or the cache store of the data folder ``data`` (ingested first)."""
    from kit.bundle import resolve_store
    from kit.store import open_store

    if (data is None) == (store is None):
        raise ConfigError("give exactly one of data (a data folder) or store (a kit store)")
    return open_store(resolve_store(Path(store if store is not None else str(data))))


def _auditing_unit(store: Any, dataset: Any, first: Any, last: Any, unit: str | None) -> str | None:
    """Return the full name of the auditing unit (``第一分局`` → ``台中市政府警察局第一分局``)."""
    if unit is None:
        return None
    from kit.store import load_dataset

    officers = kind_frame(dataset, "officers")
    names = set(officers["unit"].dropna()) if "unit" in officers.columns else set()
    names |= set(dataset.query_log["unit"].dropna()) if "unit" in dataset.query_log else set()
    if not names:
        month_log = load_dataset(store, first, last).query_log
        names = set(month_log["unit"].dropna()) if "unit" in month_log else set()
    return match_unit(unit, unit_parents(kind_frame(dataset, "units"), sorted(names)))


def open_audit(
    *,
    data: str | None = None,
    store: str | None = None,
    month: str,
    unit: str | None = None,
    seed: int | None = None,
    closer_audit: Sequence[str] = (),
    lang: str = "zh-TW",
    reveal: bool = False,
) -> MonthlyAudit:
    """Assess a month and draw its audit sample.

    Parameters
    ----------
    data, store
        Exactly one: a data folder (ingested into its cache store) or a store.
    month
        ``"YYYY-MM"``.
    unit
        The auditing unit: only units under it are audited (None: all).
    seed
        The sampling seed; None draws one (it is recorded).
    closer_audit
        Units under closer audit (§十四).
    lang
        ``zh-TW`` or ``en`` (worksheet headers and texts).
    reveal
        Show identifiers in full in the worksheet.

    Returns
    -------
    MonthlyAudit

    """
    from kit.assess import assess
    from kit.store import load_dataset

    start, end = month_bounds(month)
    first, last = start.date(), (end - pd.Timedelta(days=1)).date()
    opened = open_store_or_data(data, store)
    before = (start - pd.Timedelta(days=1)).date()
    dataset = load_dataset(opened, before.replace(day=1), before)
    auditing = _auditing_unit(opened, dataset, first, last, unit)
    assessment = assess(opened, first, last, units=[auditing] if auditing else None)
    chosen_seed = new_seed() if seed is None else int(seed)
    sample = monthly_sample(
        assessment,
        dataset,
        month,
        seed=chosen_seed,
        parent_unit=unit,
        closer_audit=closer_audit,
    )
    statistics = monthly_statistics(
        assessment, dataset, month, dataset.query_log, units=sample.units["unit"]
    )
    masker = Masker(reveal=reveal)
    worksheet = audit_worksheet(sample, assessment, dataset, masker=masker, lang=lang)
    return MonthlyAudit(
        month=month,
        unit=sample.parent_unit,
        seed=chosen_seed,
        lang=lang,
        reveal=reveal,
        store=opened,
        dataset=dataset,
        assessment=assessment,
        sample=sample,
        statistics=statistics,
        worksheet=worksheet,
        masker=masker,
    )


def sources_table(dataset: Any, lang: str = "zh-TW") -> pd.DataFrame:
    """Return the input files the store was built from: path, kinds, SHA-256, status."""
    report = getattr(dataset, "report", None)
    files = list(getattr(report, "files", ()))
    table = pd.DataFrame(
        {
            "path": [f.path for f in files],
            "kinds": [";".join(k for k in f.kinds if k) for f in files],
            "sha256": [f.sha256 for f in files],
            "status": [f.status for f in files],
        },
        dtype="string",
    )
    return localise(table, lang)


def audit_tables(audit: MonthlyAudit) -> dict[str, pd.DataFrame]:
    """Return every table of the bundle by file name, headers in the audit's language.

    The statistics and the units and officers of the sample; the worksheet
    is written separately. The whole sampling frame is not written (it has a
    row per lookup of the month): every lookup's inclusion probability is 1
    for the risk stratum (all of it in the worksheet) and
    ``p_unit × p_uniform`` of its unit (``sample_units``) otherwise.
    """
    sample = audit.sample
    tables = dict(audit.statistics)
    tables["sample_units"] = sample.units
    tables["sample_officers"] = sample.officers_sampled.drop(columns=["risk_tier"])
    return {name: localise(frame.round(6), audit.lang) for name, frame in tables.items()}


def open_self_review(
    *,
    data: str | None = None,
    store: str | None = None,
    officer: str,
    start: str | None = None,
    end: str | None = None,
    lang: str = "zh-TW",
) -> tuple[Any, pd.DataFrame]:
    """Load an officer's own lookups (§九) and return ``(dataset, masked table)``.

    Parameters
    ----------
    data, store
        Exactly one: a data folder or a store.
    officer
        The officer ID.
    start, end
        Inclusive period (``YYYY-MM-DD`` or ROC ``YYY/MM/DD``); None: open.
    lang
        ``zh-TW`` or ``en`` headers.

    Returns
    -------
    tuple
        The dataset loaded (the officer's lookups only) and the table of
        :func:`kit.audit.self_review_table`.

    """
    from kit.store import load_dataset

    opened = open_store_or_data(data, store)
    dataset = load_dataset(opened, start, end, officers=[officer])
    table = self_review_table(dataset, officer, start, end, masker=Masker(), lang=lang)
    return dataset, table


def write_self_review_files(
    dataset: Any, table: pd.DataFrame, bundle_dir: str | Path = "."
) -> list[Path]:
    """Write ``tables/my_lookups.csv``, ``tables/evidence.xlsx`` and ``facts.json``."""
    from kit.bundle.manifest import write_facts
    from kit.views import export_tables

    folder = Path(bundle_dir)
    written = export_tables({"my_lookups": table}, folder / "tables")
    files = list(getattr(getattr(dataset, "report", None), "files", ()))
    written.append(
        write_facts(
            folder,
            inputs=[
                {"path": f.path, "sha256": f.sha256, "kinds": list(f.kinds), "status": f.status}
                for f in files
            ],
            row_counts={"my_lookups": len(table)},
            checks_not_run=[],
            masking={"mode": "masked"},
        )
    )
    return written


def method_text(audit: MonthlyAudit) -> list[str]:
    """Return the method-and-limitations paragraphs in the audit's language."""
    s = audit.sample
    if audit.lang == "en":
        return [
            f"Units: at least ⌈units / 5⌉ of the {len(s.units)} units under the auditing unit "
            f"were chosen ({int(s.units['chosen'].sum())}); units under closer audit always, "
            "the others by simple random sampling (§六(一)4, §十四).",
            f"Lookups: in each chosen unit ⌈{s.rate:.0%} × lookups⌉ (twice that under closer "
            "audit), at least a quarter drawn at random from all lookups not taken by risk, the "
            "rest the highest-risk lookups: suspicious, then flagged, then unexplained (§七(一)3).",
            "Officers: per station 1 officer up to 20 in service, else ⌊headcount / 20⌋ + 1 "
            "(§八(二)), drawn the same way.",
            f"Seed {s.seed} (numpy PCG64): the same data and seed give the same sample. Each "
            "lookup's inclusion probability is P(unit) × P(lookup | unit); they sum to the "
            f"expected sample size {s.expected_size:.2f}.",
            "The worksheet (tables/audit_worksheet.xlsx) is filled in by the auditor, reported "
            "to the head of the agency and kept for one year (§六(一)4).",
            "Flags are facts about the data, not verdicts. Leaks outside the logs (cases 7, 9, "
            "10, 11) leave no trace here; rules that lacked records are listed as not checked.",
        ]
    return [
        f"單位：受稽核單位下共 {len(s.units)} 個單位，至少抽查五分之一（無條件進位），本月抽查 "
        f"{int(s.units['chosen'].sum())} 個；特定機關（§十四）必列入，"
        "其餘以簡單隨機抽樣（§六(一)4）。",
        f"紀錄：每一受抽單位抽查其當月查詢筆數之 {s.rate:.0%}（無條件進位；特定機關加倍），其中至少"
        "四分之一自全部紀錄隨機抽出，其餘依風險優先：可疑、異常標記、無合理事由（§七(一)3）。",
        "員警：各所員警 20 人以下抽查 1 人，逾 20 人者為 ⌊人數 ÷ 20⌋ + 1 人（§八(二)），抽法同上。",
        f"抽樣種子 {s.seed}（numpy PCG64）：相同資料與種子得相同樣本。每筆紀錄之抽中機率為 "
        f"P(單位) × P(紀錄 | 單位)，總和為期望樣本數 {s.expected_size:.2f}。",
        "稽核工作底稿（tables/audit_worksheet.xlsx）由稽核人員填寫結論後陳報機關首長，並保存一年（§六(一)4）。",
        "異常標記為資料事實而非結論。洩密行為未留查詢紀錄者（案例 7、9、10、11）本工具無從發現；"
        "因缺資料未能檢核之規則另列。",
    ]


def write_audit_files(audit: MonthlyAudit, bundle_dir: str | Path = ".") -> list[Path]:
    """Write ``tables/*.csv``, ``tables/evidence.xlsx``, the worksheet and ``facts.json``.

    The worksheet is ``tables/audit_worksheet.csv`` and ``.xlsx`` (the XLSX
    with a drop-down list on the conclusion column, to be filled in).
    """
    from kit.bundle.manifest import write_facts
    from kit.views import export_tables

    folder = Path(bundle_dir)
    tables = audit_tables(audit)
    written = export_tables(tables, folder / "tables")
    written += list(write_worksheet(audit.worksheet, folder / "tables", lang=audit.lang))
    checks = getattr(audit.assessment, "checks", pd.DataFrame())
    not_run: list[str] = []
    if {"code", "not_checked"} <= set(checks.columns):
        not_run = [str(c) for c in checks.loc[checks["not_checked"] > 0, "code"]]
    files = list(getattr(getattr(audit.dataset, "report", None), "files", ()))
    written.append(
        write_facts(
            folder,
            inputs=[
                {"path": f.path, "sha256": f.sha256, "kinds": list(f.kinds), "status": f.status}
                for f in files
            ],
            row_counts={
                **{name: len(frame) for name, frame in tables.items()},
                "audit_worksheet": len(audit.worksheet),
            },
            checks_not_run=not_run,
            masking={"mode": "revealed" if audit.reveal else "masked"},
        )
    )
    return written
