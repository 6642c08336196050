"""The bundle's manifest: what is in it, what it was made from, and its own hash.

The hash shown on the report's cover must be the SHA-256 of the final
``manifest.json``, and the manifest must cover the report. Both hold with
this scheme (also written into every manifest under ``hash_scheme``):

1. The notebook runs and writes ``notebook.ipynb``, the tables and the
   graph. The report is exported as ``index.html`` with the hash slot
   :data:`HASH_SLOT` where the manifest hash goes (the cover, the print
   header).
2. ``manifest.json`` lists the SHA-256 of every bundle file as it is at this
   point — ``index.html`` still holding the hash slot — and of every input
   file. Its own SHA-256 ``H`` is computed from its bytes.
3. Every hash slot in ``index.html`` is replaced by ``H`` ("sealing").

To check a bundle (:func:`kit.bundle.verify.verify`): compute ``H`` from
``manifest.json``; hash every listed file, and for ``index.html`` (marked
``"sealed": true``) hash its text with every occurrence of ``H`` replaced by
the hash slot. A changed byte anywhere, in the report, the tables or the
manifest, makes a hash differ.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from kit.schema import TIMEZONE

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
REPORT_NAME = "index.html"
NOTEBOOK_NAME = "notebook.ipynb"
FACTS_NAME = "facts.json"
"""Written by the notebook (inputs, row counts, checks); folded into the manifest, then removed."""

FORMAT = "kit-evidence-bundle/1"
HASH_SLOT = "KIT-MANIFEST-SHA256-PENDING-" + "0" * 36
"""Stands in the report for the manifest hash until the bundle is sealed (64 characters)."""

HASH_SCHEME = (
    "files[].sha256 is the SHA-256 of each bundle file; for the file marked sealed "
    "(index.html) it is the SHA-256 of the UTF-8 text with every occurrence of this "
    "manifest's own SHA-256 replaced by the hash slot '" + HASH_SLOT + "'. The SHA-256 "
    "of manifest.json's bytes is the bundle hash shown on the report's cover; "
    "manifest.sig, when present, is an Ed25519 signature of manifest.json's bytes "
    "(base64)."
)

VARIES_BETWEEN_RUNS: tuple[str, ...] = (
    "manifest.json: created_at, run_seconds",
    "index.html: the manifest hash on the cover and in the print header",
    "manifest.sig: differs whenever manifest.json differs",
)
"""What may differ between two runs on the same inputs with the same parameters."""

LIBRARIES: tuple[str, ...] = (
    "pandas",
    "pyarrow",
    "duckdb",
    "numpy",
    "networkx",
    "plotly",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "openpyxl",
    "xlsxwriter",
    "cryptography",
)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_sealed(path: Path, manifest_hash: str) -> str:
    """Return the SHA-256 of a sealed report with its manifest hash put back to the hash slot."""
    text = path.read_text(encoding="utf-8")
    return hashlib.sha256(text.replace(manifest_hash, HASH_SLOT).encode("utf-8")).hexdigest()


def library_versions() -> dict[str, str]:
    """Return the installed versions of the libraries a bundle depends on."""
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def kit_version() -> str:
    """Return the kit's version (``unknown`` when run from a plain checkout)."""
    try:
        return metadata.version("kit")
    except metadata.PackageNotFoundError:
        return "unknown"


def bundle_files(bundle_dir: Path) -> list[str]:
    """Return the bundle's files (posix paths, sorted), without the manifest and signature."""
    skip = {MANIFEST_NAME, SIGNATURE_NAME}
    return sorted(
        path.relative_to(bundle_dir).as_posix()
        for path in bundle_dir.rglob("*")
        if path.is_file() and path.relative_to(bundle_dir).as_posix() not in skip
    )


def build_manifest(
    bundle_dir: Path,
    *,
    kind: str,
    parameters: Mapping[str, object],
    facts: Mapping[str, object],
    created_at: str,
    run_seconds: float,
) -> dict[str, object]:
    """Return the manifest of a bundle whose report still holds the hash slot.

    Parameters
    ----------
    bundle_dir
        The bundle folder.
    kind
        ``investigation`` or ``subject``.
    parameters
        The parameters the notebook ran with.
    facts
        What the notebook recorded: ``inputs`` (path, SHA-256 … of every
        input file), ``row_counts``, ``checks_not_run``, ``masking``.
    created_at
        ISO time the bundle was made.
    run_seconds
        How long making it took.

    """
    files = []
    for name in bundle_files(bundle_dir):
        path = bundle_dir / name
        entry: dict[str, object] = {
            "path": name,
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
        }
        if name == REPORT_NAME:
            entry["sealed"] = True
        files.append(entry)
    return {
        "format": FORMAT,
        "kind": kind,
        "hash_scheme": HASH_SCHEME,
        "hash_slot": HASH_SLOT,
        "varies_between_runs": list(VARIES_BETWEEN_RUNS),
        "created_at": created_at,
        "run_seconds": round(run_seconds, 3),
        "timezone": TIMEZONE,
        "kit_version": kit_version(),
        "libraries": library_versions(),
        "kernel": "kit",
        "parameters": dict(parameters),
        "masking": facts.get("masking", {}),
        "inputs": facts.get("inputs", []),
        "row_counts": facts.get("row_counts", {}),
        "checks_not_run": facts.get("checks_not_run", []),
        "files": files,
    }


def manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    """Return the canonical bytes of a manifest (sorted keys, UTF-8, final newline)."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode(
        "utf-8"
    )


def write_manifest(bundle_dir: Path, manifest: Mapping[str, object]) -> str:
    """Write ``manifest.json`` and return its SHA-256 (the bundle hash)."""
    data = manifest_bytes(manifest)
    (bundle_dir / MANIFEST_NAME).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def seal_report(bundle_dir: Path, manifest_hash: str) -> int:
    """Put the manifest hash into the report in place of the hash slot; return how many."""
    report = bundle_dir / REPORT_NAME
    if not report.exists():
        return 0
    text = report.read_text(encoding="utf-8")
    count = text.count(HASH_SLOT)
    report.write_text(text.replace(HASH_SLOT, manifest_hash), encoding="utf-8")
    return count


def read_facts(bundle_dir: Path, *, remove: bool = True) -> dict[str, object]:
    """Read what the notebook recorded in ``facts.json`` (and remove the file)."""
    path = bundle_dir / FACTS_NAME
    if not path.exists():
        return {}
    facts: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    if remove:
        path.unlink()
    return facts


def write_facts(
    bundle_dir: Path,
    *,
    inputs: Sequence[Mapping[str, object]],
    row_counts: Mapping[str, int],
    checks_not_run: Sequence[str],
    masking: Mapping[str, object],
) -> Path:
    """Record, from inside the notebook, what the manifest needs to know of the run."""
    path = bundle_dir / FACTS_NAME
    facts = {
        "inputs": [dict(item) for item in inputs],
        "row_counts": {str(k): int(v) for k, v in row_counts.items()},
        "checks_not_run": sorted({str(c) for c in checks_not_run}),
        "masking": dict(masking),
    }
    path.write_text(json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=2), "utf-8")
    return path
