"""Case folders: one working folder per suspect (issue 8).

::

    CASE_DIR/
      case.yaml                       reference, investigator, officer, period,
                                      where the data is, when the case was opened
      officer_investigation.ipynb     the officer notebook, parameters injected,
                                      ready to open in JupyterLab or run
      annotations.jsonl               the annotation history (see annotations.py)
      reviews/                        review spreadsheets exported for the case,
                                      with the IDs each one holds (exports.jsonl)

``case.yaml`` is plain YAML, readable without the kit. Creating a case never
overwrites an existing one: the annotations are part of the evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kit.case.annotations import (
    ANNOTATIONS_FILE,
    STATUSES,
    CaseError,
    annotations_path,
    current_annotations,
    history,
    now_iso,
    orphan_annotations,
    review_counts,
)

CASE_FILE = "case.yaml"
NOTEBOOK_FILE = "officer_investigation.ipynb"
REVIEWS_DIR = "reviews"
REPORT_DIR = "report"
KERNEL_NAME = "kit"
CASE_FORMAT = 1
"""Version of the case folder layout, written into ``case.yaml``."""


def officer_notebook() -> Path:
    """Return the path of the kit's officer notebook (``notebooks/officer_investigation.ipynb``)."""
    return Path(__file__).resolve().parents[2] / "notebooks" / NOTEBOOK_FILE


@dataclass(frozen=True)
class Case:
    """A case as recorded in ``case.yaml``; ``path`` is the case folder."""

    path: Path
    reference: str
    officer: str
    investigator: str | None
    start: str | None
    end: str | None
    data: str | None
    store: str | None
    created: str
    notebook: str = NOTEBOOK_FILE
    format: int = CASE_FORMAT

    @property
    def annotations(self) -> Path:
        """The case's annotation history file."""
        return self.path / ANNOTATIONS_FILE

    def parameters(self) -> dict[str, Any]:
        """Return the notebook parameters of this case (also for ``kit investigate --case``)."""
        return {
            "data": self.data,
            "store": self.store,
            "officer": self.officer,
            "start": self.start,
            "end": self.end,
            "case_ref": self.reference,
            "investigator": self.investigator,
            "case_dir": str(self.path),
        }

    def to_yaml(self) -> str:
        """Return the text of ``case.yaml``."""
        fields = asdict(self)
        fields.pop("path")
        return yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)


def _iso_date(value: date | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise CaseError(f"{text!r} is not a date: write YYYY-MM-DD (2023-10-05)") from None


def _absolute(path: Path | str | None, what: str) -> str | None:
    if path is None:
        return None
    resolved = Path(path).expanduser().resolve()
    if not resolved.exists():
        raise CaseError(f"the {what} does not exist: check the path", file=str(resolved))
    return str(resolved)


def prepare_notebook(
    template: Path, output: Path, parameters: dict[str, Any], *, kernel_name: str = KERNEL_NAME
) -> Path:
    """Write ``template`` to ``output`` with ``parameters`` injected, without running it.

    Papermill's ``prepare_only`` mode: the result opens in JupyterLab with the
    case's parameters in the ``injected-parameters`` cell.
    """
    import papermill

    papermill.execute_notebook(
        str(template),
        str(output),
        parameters=parameters,
        prepare_only=True,
        kernel_name=kernel_name,
        language="python",
        progress_bar=False,
    )
    return output


def notebook_parameters(template: Path, case: Case) -> dict[str, Any]:
    """Return the parameters to inject: the case's, for the names the notebook declares.

    A notebook declaring ``case_dir`` gets the case folder (it is how it finds
    the annotations); one that writes report files (``bundle_dir``) writes
    them under ``CASE_DIR/report``.
    """
    import nbformat
    from papermill.translators import PythonTranslator

    notebook = nbformat.read(template, as_version=4)
    declared = {
        parameter.name
        for cell in notebook.cells
        if "parameters" in cell.metadata.get("tags", [])
        for parameter in PythonTranslator.inspect(cell)
    }
    values = case.parameters()
    values["bundle_dir"] = str(case.path / REPORT_DIR)
    return {k: v for k, v in values.items() if k in declared}


def new_case(
    case_dir: Path | str,
    *,
    officer: str,
    start: date | str | None = None,
    end: date | str | None = None,
    data: Path | str | None = None,
    store: Path | str | None = None,
    case_ref: str | None = None,
    investigator: str | None = None,
    notebook: Path | str | None = None,
) -> Case:
    """Create a case folder for one officer.

    Parameters
    ----------
    case_dir
        The folder to create (it may exist only if empty).
    officer
        The officer under investigation (``TC04521``).
    start, end
        The period (``YYYY-MM-DD``, ``end`` inclusive); ``None`` for all data.
    data, store
        Where the data is: a data folder or a store (at most one; stored as
        an absolute path).
    case_ref
        The case reference (default: the folder name).
    investigator
        Who opens the case.
    notebook
        The notebook to prepare (default: the kit's officer notebook).

    Returns
    -------
    Case
        The case written to ``case_dir/case.yaml``.

    Raises
    ------
    CaseError
        When the folder already holds a case or files, both ``data`` and
        ``store`` are given, a path does not exist or a date is invalid.

    """
    folder = Path(case_dir).expanduser().resolve()
    if (folder / CASE_FILE).exists():
        raise CaseError("a case already exists here; open it instead", file=str(folder))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CaseError("the case folder must be new or empty", file=str(folder))
    if data is not None and store is not None:
        raise CaseError("give the data folder or the store, not both")
    if not str(officer or "").strip():
        raise CaseError("the officer is required")
    template = Path(notebook) if notebook is not None else officer_notebook()
    if not template.is_file():
        raise CaseError("the officer notebook is missing from the kit", file=str(template))
    start_text, end_text = _iso_date(start), _iso_date(end)
    if start_text and end_text and end_text < start_text:
        raise CaseError(f"the period ends ({end_text}) before it starts ({start_text})")
    case = Case(
        path=folder,
        reference=case_ref or folder.name,
        officer=str(officer).strip(),
        investigator=investigator,
        start=start_text,
        end=end_text,
        data=_absolute(data, "data folder"),
        store=_absolute(store, "store"),
        created=now_iso(),
    )
    created_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        prepare_notebook(template, folder / NOTEBOOK_FILE, notebook_parameters(template, case))
        (folder / REVIEWS_DIR).mkdir()
        annotations_path(folder).touch()
        (folder / CASE_FILE).write_text(case.to_yaml(), encoding="utf-8")
    except BaseException:
        for leftover in (folder / NOTEBOOK_FILE, folder / CASE_FILE, annotations_path(folder)):
            leftover.unlink(missing_ok=True)
        if (folder / REVIEWS_DIR).is_dir():
            (folder / REVIEWS_DIR).rmdir()
        if created_folder:
            folder.rmdir()
        raise
    return case


def load_case(case_dir: Path | str) -> Case:
    """Read a case folder's ``case.yaml``.

    Raises
    ------
    CaseError
        When the folder holds no case or ``case.yaml`` is not one.

    """
    folder = Path(case_dir).expanduser().resolve()
    path = folder / CASE_FILE
    if not path.is_file():
        raise CaseError(
            "not a case folder (no case.yaml): create one with kit case new", file=str(folder)
        )
    try:
        fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CaseError(f"case.yaml is not valid YAML ({error})", file=str(path)) from None
    if not isinstance(fields, dict) or not fields.get("officer"):
        raise CaseError("case.yaml names no officer", file=str(path))
    known = set(Case.__dataclass_fields__) - {"path"}
    values = {k: v for k, v in fields.items() if k in known}
    values["reference"] = str(values.get("reference") or folder.name)
    values["officer"] = str(values["officer"])
    values["created"] = str(values.get("created") or "")
    for optional in ("investigator", "data", "store"):
        values.setdefault(optional, None)
    for bound in ("start", "end"):
        values[bound] = _iso_date(values.get(bound))
    return Case(path=folder, **values)


@dataclass(frozen=True)
class CaseData:
    """A case's data, loaded once: the assessment of its officer and period, and the dataset."""

    assessment: Any
    dataset: Any


DATASET_MARGIN = timedelta(days=1)
"""Records read beyond the period from a store, so the lookups at its edges show their duty."""


def case_data(case: Case | Path | str) -> CaseData:
    """Load the case's data and assess its officer over its period.

    Reads the store or data folder named in ``case.yaml`` (this is the slow
    part of a case summary, so :func:`list_cases` only does it when asked).

    Raises
    ------
    CaseError
        When the case names no data, or the data is no longer where it was.

    """
    found = case if isinstance(case, Case) else load_case(case)
    start = date.fromisoformat(found.start) if found.start else None
    end = date.fromisoformat(found.end) if found.end else None
    dataset: Any
    source: Any
    if found.store is not None and Path(found.store).exists():
        from kit.store import load_dataset, open_store

        source = open_store(Path(found.store))
        dataset = load_dataset(
            source,
            start,
            end,
            officers=[found.officer],
            margin_before=DATASET_MARGIN,
            margin_after=DATASET_MARGIN,
        )
    elif found.data is not None and Path(found.data).exists():
        from kit.load import load_folder

        source = dataset = load_folder(Path(found.data))
    else:
        raise CaseError(
            "the case's data is not available: check data/store in case.yaml",
            file=str(found.path / CASE_FILE),
        )
    from kit.assess import assess

    return CaseData(assess(source, start, end, officers=[found.officer]), dataset)


def case_lookups(case: Case | Path | str) -> pd.DataFrame:
    """Return the lookup table (``kit screen`` columns) of the case's officer and period."""
    return pd.DataFrame(case_data(case).assessment.lookups)


def _annotation_counts(case_dir: Path) -> dict[str, int]:
    statuses = current_annotations(case_dir)["status"].value_counts()
    counts = {"annotated": int(statuses.sum())}
    for status in STATUSES[1:]:
        counts[status] = int(statuses.get(status, 0))
    return counts


def show_case(case_dir: Path | str, *, progress: bool = True) -> dict[str, Any]:
    """Summarise one case.

    Parameters
    ----------
    case_dir
        The case folder.
    progress
        Also assess the case's data to count the suspicious lookups reviewed
        so far, and the annotations whose lookup is no longer in the data.

    Returns
    -------
    dict
        The fields of ``case.yaml``, ``case_dir``, the annotation counts in
        force (``annotated``, ``confirmed``, ``explained``, ``not_relevant``),
        ``history_entries``, and with ``progress`` ``data_available`` and,
        when the data is there, ``suspicious``, ``reviewed``, ``unreviewed``
        and ``orphans``.

    """
    case = load_case(case_dir)
    summary: dict[str, Any] = {"case_dir": str(case.path)}
    summary.update({k: v for k, v in asdict(case).items() if k != "path"})
    summary.update(_annotation_counts(case.path))
    summary["history_entries"] = len(history(case.path))
    if not progress:
        return summary
    try:
        lookups = case_lookups(case)
    except CaseError:
        summary["data_available"] = False
        return summary
    counts = review_counts(lookups, case.path)
    summary.update(
        data_available=True,
        suspicious=counts["lookups"],
        reviewed=counts["reviewed"],
        unreviewed=counts["unreviewed"],
        orphans=len(orphan_annotations(case.path, lookups["lookup_id"])),
    )
    return summary


def list_cases(root: Path | str, *, progress: bool = False) -> pd.DataFrame:
    """Summarise every case folder directly under ``root``, one row each.

    Cheap by default: only ``case.yaml`` and the annotation history are read.
    With ``progress=True`` each case's data is assessed as in :func:`show_case`.
    """
    base = Path(root).expanduser()
    folders = sorted(p.parent for p in base.glob(f"*/{CASE_FILE}"))
    rows = [show_case(folder, progress=progress) for folder in folders]
    columns = [
        "case_dir",
        "reference",
        "officer",
        "investigator",
        "start",
        "end",
        "created",
        "annotated",
        *STATUSES[1:],
        "history_entries",
    ]
    if progress:
        columns += ["data_available", "suspicious", "reviewed", "unreviewed", "orphans"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame
