"""What a report notebook reviews: the data, the assessment and the masker, in one object.

:func:`open_investigation` (one officer) and :func:`open_subject_review`
(everyone who looked up some subjects) load the period from the store with
the context the rules need, assess it, and return a :class:`Review` that the
notebook cells hand to the views and to the table builders below. Nothing
here displays anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from kit.bundle.manifest import write_facts
from kit.bundle.report import check_lang
from kit.errors import BundleError, ConfigError
from kit.frames import isin
from kit.mask import Masker

if TYPE_CHECKING:
    from kit.views import FilesInProgress, ResultInProgress

CONTEXT_MARGIN = timedelta(days=31)
"""Loaded before and after the period: baselines and repeats look back 30 days,
communications after a lookup are read up to 30 days later (DOMAIN.md "context")."""

HEADERS: dict[str, dict[str, str]] = {
    "path": {"zh-TW": "檔案", "en": "path"},
    "kinds": {"zh-TW": "資料種類", "en": "kinds"},
    "encoding": {"zh-TW": "編碼", "en": "encoding"},
    "sha256": {"zh-TW": "SHA-256", "en": "sha256"},
    "rows_read": {"zh-TW": "讀取列數", "en": "rows_read"},
    "rows_loaded": {"zh-TW": "載入列數", "en": "rows_loaded"},
    "rows_rejected": {"zh-TW": "剔除列數", "en": "rows_rejected"},
    "duplicates": {"zh-TW": "重複列數", "en": "duplicates"},
    "measure": {"zh-TW": "項目", "en": "measure"},
    "value": {"zh-TW": "數值", "en": "value"},
    "code": {"zh-TW": "代碼", "en": "code"},
    "severity": {"zh-TW": "嚴重度", "en": "severity"},
    "rule": {"zh-TW": "規則", "en": "rule"},
    "lookups": {"zh-TW": "查詢筆數", "en": "lookups"},
}

MEASURES: dict[str, dict[str, str]] = {
    "lookups": {"zh-TW": "查詢筆數", "en": "lookups in scope"},
    "suspicious": {"zh-TW": "可疑查詢", "en": "suspicious lookups"},
    "flagged": {"zh-TW": "有異常標記之查詢", "en": "lookups with a flag"},
    "explained": {"zh-TW": "有合理事由之查詢", "en": "lookups with an explanation"},
    "unexplained": {"zh-TW": "無合理事由之查詢", "en": "lookups without an explanation"},
    "subjects": {"zh-TW": "被查詢對象數", "en": "distinct subjects"},
    "communications": {"zh-TW": "標記之通聯", "en": "flagged communications"},
    "not_checked": {"zh-TW": "因缺資料未能檢核之規則", "en": "rules not checked for want of data"},
}


@dataclass(frozen=True)
class Review:
    """The subject of one bundle: what was loaded, how it was assessed, how it is masked.

    Attributes
    ----------
    kind
        ``investigation`` (one officer) or ``subject`` (who looked these up).
    store
        The opened store.
    dataset
        What the views show: the lookups in scope (query log and subjects
        restricted to them) with every other kind whole.
    context
        The period with context margins, every officer (the rules compare
        peers); the assessment was made on it.
    assessment
        The assessment restricted to the lookups in scope.
    masker
        Masks every identifier (the request's own identifiers stay in full).

    """

    kind: str
    store: Any
    dataset: Any
    assessment: Any
    masker: Masker
    lang: str
    reveal: bool
    start: str | None
    end: str | None
    officer: str | None = None
    ids: tuple[str, ...] = ()
    subject_keys: tuple[tuple[str, str], ...] = field(default=())
    context: Any = None

    @property
    def target(self) -> str:
        """The officer ID, or the identifiers reviewed as the request wrote them."""
        return self.officer if self.officer is not None else "、".join(self.ids)

    @property
    def officers(self) -> tuple[str, ...]:
        """The officers whose lookups are in scope (querier or account)."""
        lookups = self.assessment.lookups
        if self.officer is not None:
            return (self.officer,)
        actual = lookups["actual_user"].astype("string").fillna("")
        who = actual.where(actual != "", lookups["user"].astype("string"))
        return tuple(sorted(set(who.dropna().astype(str))))


def _open_store(data: str | None, store: str | None) -> Any:
    from kit.bundle.make import resolve_store
    from kit.store import open_store

    if (data is None) == (store is None):
        raise ConfigError("give exactly one of data (a data folder) or store (a kit store)")
    return open_store(resolve_store(Path(store if store is not None else str(data))))


def _in_scope(dataset: Any, lookups: pd.DataFrame) -> Any:
    """Return the dataset with its query log and subjects restricted to these lookups.

    The views then work on (and number pseudonyms over) the lookups in scope
    only, not on the whole agency loaded as context for the rules.
    """
    wanted = lookups["lookup_id"]
    return dataclasses.replace(
        dataset,
        query_log=dataset.query_log[isin(dataset.query_log["lookup_id"], wanted)],
        subjects=dataset.subjects[isin(dataset.subjects["lookup_id"], wanted)],
    )


def _load(store: Any, start: str | None, end: str | None) -> Any:
    from kit.store import load_dataset

    return load_dataset(
        store, start, end, margin_before=CONTEXT_MARGIN, margin_after=CONTEXT_MARGIN
    )


def open_investigation(
    *,
    data: str | None = None,
    store: str | None = None,
    officer: str,
    start: str | None = None,
    end: str | None = None,
    reveal: bool = False,
    lang: str = "zh-TW",
) -> Review:
    """Load and assess one officer's lookups for the period.

    Raises
    ------
    BundleError
        The officer is neither in the officer list nor in the query log.

    """
    from kit.assess import assess

    check_lang(lang)
    opened = _open_store(data, store)
    dataset = _load(opened, start, end)
    officer = str(officer).strip()
    listed = dataset.officers["officer_id"].astype("string").eq(officer).any()
    log = dataset.query_log
    in_log = (
        log["user"].astype("string").eq(officer) | log["actual_user"].astype("string").eq(officer)
    ).any()
    if not listed and not in_log:
        raise BundleError(
            f"officer {officer} is neither in the officer list nor in the query log: check the ID"
        )
    assessment = assess(dataset, start, end, officers=[officer])
    return Review(
        kind="investigation",
        store=opened,
        dataset=_in_scope(dataset, assessment.lookups),
        context=dataset,
        assessment=assessment,
        masker=Masker(reveal=reveal),
        lang=lang,
        reveal=reveal,
        start=start,
        end=end,
        officer=officer,
    )


def open_subject_review(
    *,
    data: str | None = None,
    store: str | None = None,
    ids: Sequence[str],
    start: str | None = None,
    end: str | None = None,
    reveal: bool = False,
    lang: str = "zh-TW",
) -> Review:
    """Load and assess every lookup of the given subjects in the period, by anyone.

    The identifiers may be written in any form (``ABC-1234``, ``abc1234``);
    they are shown in full in the bundle, every other identifier is masked
    unless ``reveal``.
    """
    from kit.assess import assess
    from kit.store import lookups_by_subject, subject_keys

    check_lang(lang)
    if isinstance(ids, str):
        ids = [ids]
    if not ids:
        raise ConfigError("give at least one identifier to review")
    opened = _open_store(data, store)
    keys = sorted({key for identifier in ids for key in subject_keys(str(identifier))})
    found = [lookups_by_subject(opened, str(identifier), start, end) for identifier in ids]
    hits = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    wanted = set(hits["lookup_id"].astype(str)) if not hits.empty else set()
    dataset = _load(opened, start, end)
    actual = hits["actual_user"].astype("string").fillna("") if not hits.empty else None
    queriers = (
        sorted(set(actual.where(actual != "", hits["user"].astype("string")).dropna().astype(str)))
        if actual is not None
        else []
    )
    assessment = assess(dataset, start, end, officers=queriers or None)
    in_scope = assessment.lookups["lookup_id"].astype(str).isin(wanted)
    lookups = assessment.lookups[in_scope].reset_index(drop=True)
    evidence = assessment.evidence[assessment.evidence["lookup_id"].astype(str).isin(wanted)]
    restricted = dataclasses.replace(
        assessment, lookups=lookups, evidence=evidence.reset_index(drop=True)
    )
    return Review(
        kind="subject",
        store=opened,
        dataset=_in_scope(dataset, lookups),
        context=dataset,
        assessment=restricted,
        masker=Masker(reveal=reveal, revealed=[value for _, value in keys]),
        lang=lang,
        reveal=reveal,
        start=start,
        end=end,
        ids=tuple(str(i) for i in ids),
        subject_keys=tuple(keys),
    )


def _localise(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns={k: v[lang] for k, v in HEADERS.items()})


def sources_table(review: Review) -> pd.DataFrame:
    """Return the input files: path, kinds, encoding, SHA-256 and row counts."""
    files = review.dataset.report.files
    table = pd.DataFrame(
        {
            "path": [f.path for f in files],
            "kinds": [";".join(f.kinds) for f in files],
            "encoding": [f.encoding or "" for f in files],
            "sha256": [f.sha256 for f in files],
            "rows_read": [f.count("rows_read") for f in files],
            "rows_loaded": [f.count("rows_loaded") for f in files],
            "rows_rejected": [f.count("rows_rejected") for f in files],
            "duplicates": [f.count("duplicates") for f in files],
        }
    )
    return _localise(table.sort_values("path", kind="stable").reset_index(drop=True), review.lang)


def checks_not_run(review: Review) -> list[str]:
    """Return the codes of the rules that could not be checked for some lookups in scope."""
    checks = review.assessment.checks
    return sorted(checks.loc[checks["not_checked"] > 0, "code"].astype(str))


def findings_summary(review: Review) -> pd.DataFrame:
    """Return the headline counts of the review (one row per measure)."""
    lookups = review.assessment.lookups
    flags = lookups["flags"].astype("string").fillna("")
    explanations = lookups["explanations"].astype("string").fillna("")
    subjects = review.dataset.subjects
    in_scope = subjects[isin(subjects["lookup_id"], lookups["lookup_id"])]
    counts = {
        "lookups": len(lookups),
        "suspicious": int(lookups["suspicious"].astype(bool).sum()),
        "flagged": int((flags != "").sum()),
        "explained": int((explanations != "").sum()),
        "unexplained": int((explanations == "").sum()),
        "subjects": int(in_scope[["entity", "value"]].drop_duplicates().shape[0]),
        "communications": len(review.assessment.communications),
        "not_checked": len(checks_not_run(review)),
    }
    table = pd.DataFrame(
        {
            "measure": [MEASURES[k][review.lang] for k in counts],
            "value": list(counts.values()),
        }
    )
    return _localise(table, review.lang)


def flag_summary(review: Review) -> pd.DataFrame:
    """Return each flag raised in scope: code, severity, rule text, number of lookups."""
    from kit.assess import REGISTRY

    evidence = review.assessment.evidence
    flags = evidence[evidence["kind"] == "flag"]
    counts = flags.groupby("code")["lookup_id"].nunique()
    codes = [code for code in REGISTRY if code in counts.index]
    severities = [REGISTRY[c].severity for c in codes]
    table = pd.DataFrame(
        {
            "code": codes,
            "severity": [s.value if s is not None else "" for s in severities],
            "rule": [REGISTRY[c].rule for c in codes],
            "lookups": [int(counts[c]) for c in codes],
        }
    )
    return _localise(table, review.lang)


EVIDENCE_TABLES: tuple[str, ...] = ("lookups", "evidence", "subjects", "communications")

GRAPH_FILE = "graph.graphml"
"""The bundle's link graph for Gephi (the whole graph, masked)."""
"""The tables printed in the report's evidence section (all are written to ``tables/``)."""


def evidence_tables(review: Review) -> dict[str, pd.DataFrame]:
    """Return the bundle's tables by file name (headers in the review's language).

    ``lookups`` is the per-count table (one numbered row per lookup in
    scope); ``evidence`` the records each flag and explanation rests on;
    ``subjects`` who looked each subject up; ``communications`` those that
    followed lookups or were flagged; ``sources`` the input files with their
    SHA-256; ``method`` the method and limitations (checks not run,
    parameters, versions).
    """
    from kit.views import (
        communications_table,
        evidence_table,
        lookup_table,
        method_table,
        subject_summary,
    )
    from kit.views.export import paused_garbage_collector

    masker, lang = review.masker, review.lang
    # The masker's name pattern and the tables make many small objects at once.
    with paused_garbage_collector():
        return {
            "lookups": lookup_table(review.dataset, review.assessment, masker=masker, lang=lang),
            "evidence": evidence_table(review.assessment, masker=masker, lang=lang),
            "subjects": subject_summary(
                review.dataset, review.assessment, masker=masker, lang=lang
            ),
            "communications": communications_table(
                review.dataset, review.assessment, masker=masker, lang=lang
            ),
            "sources": sources_table(review),
            "method": method_table(
                review.dataset, review.assessment, parameters_of(review), masker=masker, lang=lang
            ),
        }


def review_graph(review: Review) -> nx.MultiDiGraph:
    """Return the link graph of the review (the officer's, or the subjects')."""
    from kit.views import link_graph
    from kit.views.export import paused_garbage_collector

    # networkx keeps a few dicts per node and edge: no heap rescans while it builds.
    with paused_garbage_collector():
        if review.kind == "investigation":
            return link_graph(
                review.dataset,
                review.assessment,
                officers=[str(review.officer)],
                start=review.start,
                end=review.end,
            )
        # Who looked these subjects up reaches beyond the lookups found by their own
        # identifiers (a plate that belongs to the person): the graph reads the context.
        return link_graph(
            review.context if review.context is not None else review.dataset,
            review.assessment,
            subjects=[f"{entity}:{value}" for entity, value in review.subject_keys],
            start=review.start,
            end=review.end,
        )


def start_review_graph(review: Review) -> ResultInProgress[nx.MultiDiGraph]:
    """Start building :func:`review_graph` in a child process; return at once.

    The report notebooks call this as soon as the review is open, so the
    link graph (which masks nothing: it needs nothing the report's views
    change) is built on the machine's other core while the evidence tables
    are made; ``.result()`` returns the graph. Returns a
    :class:`kit.views.ResultInProgress`.
    """
    from kit.views import compute_in_child

    return compute_in_child(lambda: review_graph(review))


def parameters_of(review: Review) -> dict[str, object]:
    """Return the review's parameters, for the method table."""
    return {
        "kind": review.kind,
        "officer": review.officer,
        "ids": list(review.ids),
        "start": review.start,
        "end": review.end,
        "reveal": review.reveal,
        "lang": review.lang,
    }


def start_bundle_tables(tables: dict[str, pd.DataFrame], bundle_dir: str | Path = ".") -> Any:
    """Start writing ``tables/*.csv`` and ``tables/evidence.xlsx`` in a child process.

    The report notebooks call this as soon as the tables are final, so the
    files are written on the machine's other core while the figures are
    drawn; :func:`write_bundle_files` joins the writer (pass it as
    ``tables_written``). Returns a :class:`kit.views.FilesInProgress`.
    """
    from kit.views import start_export_tables

    return start_export_tables(tables, Path(bundle_dir) / "tables")


def start_graph_file(
    review: Review, graph: nx.MultiDiGraph, bundle_dir: str | Path = "."
) -> FilesInProgress:
    """Start writing ``graph.graphml`` in a child process, its labels masked here.

    The report notebooks call this as soon as the link graph is built, so the
    file is written on the machine's other core while the report goes on;
    :func:`write_bundle_files` joins the writer (pass it as ``graph_written``).
    Returns a :class:`kit.views.FilesInProgress`.
    """
    from kit.views import start_graphml

    return start_graphml(graph, Path(bundle_dir) / GRAPH_FILE, masker=review.masker)


def write_bundle_files(
    review: Review,
    tables: dict[str, pd.DataFrame],
    graph: nx.MultiDiGraph,
    bundle_dir: str | Path = ".",
    *,
    case_dir: str | Path | None = None,
    tables_written: Any = None,
    graph_written: Any = None,
) -> list[Path]:
    """Write ``tables/*.csv``, ``tables/evidence.xlsx``, ``graph.graphml`` and ``facts.json``.

    ``facts.json`` carries what the manifest records of the run (inputs with
    their SHA-256, row counts, checks not run, masking mode); the bundle
    maker folds it into ``manifest.json``. With a case folder (``kit case
    new``), its annotation history is copied in too (``annotations.jsonl``).
    With ``tables_written`` (from :func:`start_bundle_tables`) or
    ``graph_written`` (from :func:`start_graph_file`), those files are not
    written again: their writer is waited for.
    """
    from kit.views import export_tables, write_graphml

    folder = Path(bundle_dir)
    written = (
        tables_written.wait()
        if tables_written is not None
        else export_tables(tables, folder / "tables")
    )
    written += (
        graph_written.wait()
        if graph_written is not None
        else [write_graphml(graph, folder / GRAPH_FILE, masker=review.masker)]
    )
    if case_dir is not None:
        from kit.case import copy_history

        written.append(copy_history(case_dir, folder))
    inputs = [
        {"path": f.path, "sha256": f.sha256, "kinds": list(f.kinds), "status": f.status}
        for f in review.dataset.report.files
    ]
    written.append(
        write_facts(
            folder,
            inputs=inputs,
            row_counts={name: len(frame) for name, frame in tables.items()},
            checks_not_run=checks_not_run(review),
            masking={
                "mode": "revealed" if review.reveal else "masked",
                "identifiers_of_the_request_in_full": len(review.subject_keys),
            },
        )
    )
    return written


def who_looked_up(review: Review) -> Callable[[str, str], pd.DataFrame]:
    """Return the explorer's pivot: everyone in the store who looked a subject up (masked)."""
    from kit.store import lookups_by_subject

    def pivot(entity: str, value: str) -> pd.DataFrame:
        found = lookups_by_subject(review.store, value, review.start, review.end, entity=entity)
        actual = found["actual_user"].astype("string").fillna("")
        return pd.DataFrame(
            {
                "time": found["time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                "querier": actual.where(actual != "", found["user"].astype("string")),
                "unit": found["unit"].astype("string"),
                "operation": found["operation"].astype("string"),
                "purpose": review.masker.text_series(found["purpose"]),
                "lookup_id": found["lookup_id"].astype("string"),
            }
        )

    return pivot


SEVERITY_COLOURS: dict[str, str] = {
    "none": "#9e9e9e",
    "low": "#4c78a8",
    "medium": "#f2a541",
    "high": "#e4572e",
    "critical": "#a4161a",
}


def subject_timeline_figure(review: Review) -> Any:
    """Return the subject review's timeline (:func:`subject_timeline_spec`) as a Plotly figure."""
    import plotly.graph_objects as go

    return go.Figure(subject_timeline_spec(review))


def subject_timeline_spec(review: Review) -> dict[str, Any]:
    """Return the lookups of a subject review over time, one row per querier, as Plotly JSON data.

    Markers are coloured by severity; hover text holds the querier, time,
    masked subjects, flags and explanations, all HTML-escaped (Plotly reads
    a few tags in hover text). Times are Taipei wall-clock time.
    """
    import html

    from kit.views._template import figure_spec, trace

    lookups = review.assessment.lookups.sort_values(["time", "lookup_id"], kind="stable")
    actual = lookups["actual_user"].astype("string").fillna("")
    querier = actual.where(actual != "", lookups["user"].astype("string")).fillna("")
    subjects = review.dataset.subjects
    wanted = subjects[subjects["lookup_id"].isin(lookups["lookup_id"])].drop_duplicates(
        ["lookup_id", "entity", "value"]
    )
    shown = wanted.assign(
        shown=review.masker.show_series(wanted["entity"], wanted["value"]).fillna("")
    )
    per_lookup = shown.groupby("lookup_id")["shown"].agg("; ".join)
    times = pd.to_datetime(lookups["time"], format="ISO8601", utc=True).dt.tz_convert("Asia/Taipei")
    hover = (
        querier
        + "<br>"
        + times.dt.strftime("%Y-%m-%d %H:%M").astype("string")
        + "<br>"
        + lookups["lookup_id"].map(per_lookup).fillna("").astype("string").map(html.escape)
        + "<br>"
        + lookups["flags"].astype("string").fillna("").map(html.escape)
        + "<br>"
        + lookups["explanations"].astype("string").fillna("").map(html.escape)
    )
    # Plotly's date axes show wall-clock text as written (an offset would be misread).
    wall = times.dt.strftime("%Y-%m-%d %H:%M:%S")
    severity = lookups["severity"].astype("string").fillna("none")
    traces = []
    for level, colour in SEVERITY_COLOURS.items():
        chosen = severity == level
        if not chosen.any():
            continue
        traces.append(
            trace(
                "scatter",
                x=wall[chosen].to_numpy(dtype=object),
                y=querier[chosen].map(html.escape).to_numpy(dtype=object),
                mode="markers",
                name=level,
                marker={"color": colour, "size": 9},
                hovertext=hover[chosen].to_numpy(dtype=object),
                hoverinfo="text",
            )
        )
    layout = {
        "height": max(300, 60 + 28 * max(1, querier.nunique())),
        "xaxis": {"rangeslider": {"visible": True}, "type": "date"},
        "yaxis": {"type": "category"},
        "legend": {"title": {"text": "severity"}},
        "margin": {"l": 90, "r": 20, "t": 30, "b": 30},
    }
    return figure_spec(traces, layout)


def explorer_for(review: Review, *, enabled: bool = True) -> Any:
    """Return the interactive explorer's widget, or nothing when not ``enabled``.

    The report notebooks pass their ``explorer`` parameter, which the bundle
    maker sets to ``False``: under Papermill no widget is shown.
    """
    from kit.bundle.explorer import explorer

    if not enabled:
        return None
    return explorer(
        review.assessment.lookups,
        masker=review.masker,
        lang=review.lang,
        who_looked_up=who_looked_up(review),
    ).widget
