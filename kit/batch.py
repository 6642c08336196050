"""``kit batch REQUEST.yaml``: every item of a court or prosecutor request, in parallel.

Each item (an officer, or subjects to review) becomes one evidence bundle
made by its own process (``python -m kit investigate|subject|audit …``), at most ``jobs`` at a
time, each with an overall time limit and one thread per numeric library so
items do not fight over cores. A kernel that fails to start is retried once;
any other failure is recorded (the item keeps its partial notebook and an
``error.txt``) and the other items still run. Re-running the same request
skips the items a previous run finished whose bundle still verifies.
The batch writes ``DIR/index.html`` (every item with status and link, all
text escaped) and ``DIR/batch_manifest.json``. The request format is
documented in ``templates/request.example.yaml``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kit.errors import ConfigError
from kit.schema import TIMEZONE

DEFAULT_ITEM_TIMEOUT = 3600.0
"""Seconds one item may take in all (kernel start, run, export) before it is stopped."""

BATCH_MANIFEST = "batch_manifest.json"
INDEX = "index.html"
ERROR_FILE = "error.txt"
EXIT_KERNEL = 3

ITEM_KINDS = ("officer", "subject", "audit")
ITEM_KEYS = {"officer", "subject", "audit", "from", "to", "unit", "seed", "lang", "investigator"}
REQUEST_KEYS = {"request_no", "requested_by", "reveal", "lang", "investigator", "items"}


@dataclass(frozen=True)
class BatchItem:
    """One item of a request."""

    number: int
    kind: str
    target: tuple[str, ...]
    start: str | None = None
    end: str | None = None
    unit: str | None = None
    lang: str = "zh-TW"
    investigator: str | None = None
    seed: int | None = None

    @property
    def name(self) -> str:
        """Folder name of the item (never holds an identifier of a person)."""
        if self.kind == "officer":
            safe = "".join(ch for ch in self.target[0] if ch.isascii() and ch.isalnum())
            return f"{self.number:02d}-officer-{safe or 'x'}"
        if self.kind == "audit":
            safe = "".join(
                ch for ch in self.target[0] if ch.isascii() and (ch.isalnum() or ch == "-")
            )
            return f"{self.number:02d}-audit-{safe or 'x'}"
        return f"{self.number:02d}-subject"

    def fingerprint(self, request: BatchRequest) -> str:
        """Return a hash of everything that determines this item's bundle."""
        spec = {**asdict(self), "reveal": request.reveal, "case_ref": request.request_no}
        text = json.dumps(spec, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BatchRequest:
    """A request file: its reference, who asked, the mode, the items."""

    request_no: str | None
    requested_by: str | None
    reveal: bool
    items: tuple[BatchItem, ...]
    sha256: str


@dataclass
class ItemResult:
    """What happened to one item."""

    name: str
    kind: str
    target: list[str]
    fingerprint: str
    status: str = "pending"
    seconds: float = 0.0
    attempts: int = 0
    manifest_hash: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """The outcome of a batch."""

    out_dir: Path
    items: tuple[ItemResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every item is done (made now or skipped as already done)."""
        return all(item.status in ("done", "skipped") for item in self.items)

    @property
    def failed(self) -> tuple[ItemResult, ...]:
        """The items that failed."""
        return tuple(item for item in self.items if item.status == "failed")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _item(number: int, raw: object, defaults: Mapping[str, Any]) -> BatchItem:
    where = f"item {number}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} of the request is not a mapping of keys to values")
    unknown = sorted(set(map(str, raw)) - ITEM_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    kinds = [k for k in ITEM_KINDS if k in raw]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of officer, subject or audit")
    kind = kinds[0]
    value = raw[kind]
    values = [str(v) for v in value] if isinstance(value, list) else [_text(value) or ""]
    if not values or not all(v.strip() for v in values):
        raise ConfigError(f"{where}: the {kind} is empty")
    lang = str(raw.get("lang", defaults.get("lang") or "zh-TW"))
    if lang not in ("zh-TW", "en"):
        raise ConfigError(f"{where}: lang must be zh-TW or en")
    return BatchItem(
        number=number,
        kind=kind,
        target=tuple(v.strip() for v in values),
        start=_text(raw.get("from")),
        end=_text(raw.get("to")),
        unit=_text(raw.get("unit")),
        lang=lang,
        investigator=_text(raw.get("investigator", defaults.get("investigator"))),
        seed=_seed(raw.get("seed"), where),
    )


def _seed(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: seed must be a whole number")
    return value


def load_request(path: Path) -> BatchRequest:
    """Read and check a request file (format: ``templates/request.example.yaml``).

    Raises
    ------
    ConfigError
        The file is not valid YAML or an item is malformed (the message names
        the item and key, never its value).

    """
    import yaml

    data = path.read_bytes()
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"the request is not valid UTF-8 YAML ({type(error).__name__})", file=str(path)
        ) from error
    if not isinstance(document, Mapping) or not isinstance(document.get("items"), list):
        raise ConfigError("the request needs a list of items under 'items:'", file=str(path))
    unknown = sorted(set(map(str, document)) - REQUEST_KEYS)
    if unknown:
        raise ConfigError(f"unknown request key(s) {', '.join(unknown)}", file=str(path))
    if not document["items"]:
        raise ConfigError("the request lists no items", file=str(path))
    items = tuple(_item(n, raw, document) for n, raw in enumerate(document["items"], start=1))
    return BatchRequest(
        request_no=_text(document.get("request_no")),
        requested_by=_text(document.get("requested_by")),
        reveal=bool(document.get("reveal", False)),
        items=items,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def item_command(item: BatchItem, request: BatchRequest, store: Path, out: Path) -> list[str]:
    """Return the ``kit`` command that makes one item's bundle in its own process."""
    command = [sys.executable, "-m", "kit"]
    if item.kind == "audit":
        command += ["audit", "--month", item.target[0]]
        if item.unit:
            command += ["--unit", item.unit]
        if item.seed is not None:
            command += ["--seed", str(item.seed)]
        if item.investigator:
            command += ["--auditor", item.investigator]
    else:
        if item.kind == "officer":
            command += ["investigate", "--officer", item.target[0]]
        else:
            command += ["subject"]
            for identifier in item.target:
                command += ["--id", identifier]
        if item.start:
            command += ["--from", item.start]
        if item.end:
            command += ["--to", item.end]
        if request.request_no:
            command += ["--case-ref", request.request_no]
        if item.investigator:
            command += ["--investigator", item.investigator]
    command += ["--store", str(store), "--out", str(out), "--lang", item.lang]
    if request.reveal:
        command.append("--reveal")
    return command


def item_environment() -> dict[str, str]:
    """Return the environment of an item process: one thread per numeric library."""
    from kit.bundle.run import THREAD_LIMITS

    env = {**os.environ, **THREAD_LIMITS, "JUPYTER_PLATFORM_DIRS": "1"}
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env


def _run_process(command: list[str], *, timeout: float, cwd: Path) -> tuple[int | None, str]:
    """Run a command in its own process group; kill the whole group on timeout."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=item_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, ""
    lines = [line for line in (err or "").splitlines() if line.startswith("kit: error:")]
    message = lines[-1].removeprefix("kit: error:").strip() if lines else ""
    if process.returncode == 0:
        # The last line a bundle command prints is "manifest SHA-256: <hash>".
        message = (out or "").split()[-1] if (out or "").strip() else ""
    return process.returncode, message


def _previous(out_dir: Path) -> dict[str, dict[str, Any]]:
    path = out_dir / BATCH_MANIFEST
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {str(item["name"]): item for item in document.get("items", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def _already_done(item_dir: Path, result: ItemResult, previous: Mapping[str, Any] | None) -> bool:
    from kit.bundle.verify import verify

    if not previous or previous.get("status") not in ("done", "skipped"):
        return False
    if previous.get("fingerprint") != result.fingerprint or not previous.get("manifest_hash"):
        return False
    if not (item_dir / "manifest.json").is_file():
        return False
    return verify(item_dir, expect=str(previous["manifest_hash"])).ok


def _run_item(
    item: BatchItem,
    request: BatchRequest,
    store: Path,
    out_dir: Path,
    result: ItemResult,
    timeout: float,
) -> ItemResult:
    began = time.monotonic()
    item_dir = out_dir / item.name
    for attempt in (1, 2):
        if item_dir.exists():
            shutil.rmtree(item_dir)
        result.attempts = attempt
        code, message = _run_process(
            item_command(item, request, store, item_dir), timeout=timeout, cwd=out_dir
        )
        if code == EXIT_KERNEL and attempt == 1:
            continue
        break
    result.seconds = round(time.monotonic() - began, 3)
    if code == 0:
        result.status = "done"
        result.manifest_hash = message
        result.error = None
        return result
    result.status = "failed"
    if code is None:
        result.error = f"stopped after the item time limit of {timeout:g} s"
    elif code == EXIT_KERNEL:
        result.error = f"the Jupyter kernel did not start (twice): {message}"
    else:
        result.error = message or f"the item process exited with status {code}"
    item_dir.mkdir(parents=True, exist_ok=True)
    (item_dir / ERROR_FILE).write_text(result.error + "\n", encoding="utf-8")
    return result


def _write_index(out_dir: Path, request: BatchRequest, results: list[ItemResult]) -> Path:
    esc = html.escape
    rows = []
    for item in results:
        link = (
            f'<a href="{esc(item.name)}/index.html">{esc(item.name)}</a>'
            if item.status in ("done", "skipped")
            else esc(item.name)
        )
        rows.append(
            "<tr>"
            f"<td>{link}</td><td>{esc(item.kind)}</td><td>{esc(', '.join(item.target))}</td>"
            f'<td class="status-{esc(item.status)}">{esc(item.status)}</td>'
            f"<td>{item.seconds:.1f}</td><td><code>{esc(item.manifest_hash or '')}</code></td>"
            f"<td>{esc(item.error or '')}</td></tr>"
        )
    page = f"""<!DOCTYPE html>
<html lang="zh-TW"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{esc(request.request_no or "kit batch")}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
.status-failed {{ background: #f8d0d0; }} .status-done, .status-skipped {{ background: #d8f0d8; }}
</style></head><body>
<h1>{esc(request.request_no or "")}</h1>
<p>{esc(request.requested_by or "")}</p>
<p>request SHA-256 <code>{esc(request.sha256)}</code></p>
<table><thead><tr><th>item</th><th>kind</th><th>target</th><th>status</th><th>seconds</th>
<th>manifest SHA-256</th><th>error</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    path = out_dir / INDEX
    path.write_text(page, encoding="utf-8")
    return path


def _write_manifest(
    out_dir: Path,
    request: BatchRequest,
    results: list[ItemResult],
    *,
    store: Path,
    jobs: int,
    started: str,
) -> Path:
    document = {
        "format": "kit-batch/1",
        "request_no": request.request_no,
        "requested_by": request.requested_by,
        "request_sha256": request.sha256,
        "reveal": request.reveal,
        "store": str(store),
        "jobs": jobs,
        "started_at": started,
        "finished_at": datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        "items": [asdict(r) for r in results],
    }
    path = out_dir / BATCH_MANIFEST
    path.write_text(
        json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8"
    )
    return path


def _print_progress(done: int, total: int, result: ItemResult) -> None:
    detail = f" — {result.error}" if result.error else ""
    print(
        f"[{done}/{total}] {result.name}: {result.status} ({result.seconds:.1f} s){detail}",
        file=sys.stderr,
        flush=True,
    )


def run_batch(
    request_path: str | Path,
    source: str | Path,
    out_dir: str | Path,
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_ITEM_TIMEOUT,
    progress: Callable[[int, int, ItemResult], None] = _print_progress,
) -> BatchResult:
    """Make one bundle per item of a request, ``jobs`` at a time.

    Parameters
    ----------
    request_path
        The request file (YAML, see ``templates/request.example.yaml``).
    source
        A store or a data folder (ingested once into its cache store first).
    out_dir
        The batch folder: one sub-folder per item, ``index.html`` and
        ``batch_manifest.json``. Re-running into the same folder skips the
        items already done whose bundle still verifies.
    jobs
        Items run at the same time (default: the number of cores).
    timeout
        Seconds one item may take in all; it is stopped after that.
    progress
        Called after each item with (items finished, items in all, result).

    Returns
    -------
    BatchResult
        Every item's status; ``.ok`` is false when any item failed.

    """
    from kit.accesslog import append_access
    from kit.bundle.make import resolve_store

    started = datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds")
    request = load_request(Path(request_path))
    store = resolve_store(source).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    previous = _previous(out)
    results: dict[int, ItemResult] = {}
    pending: list[BatchItem] = []
    for item in request.items:
        result = ItemResult(
            name=item.name,
            kind=item.kind,
            target=list(item.target),
            fingerprint=item.fingerprint(request),
        )
        earlier = previous.get(item.name)
        if _already_done(out / item.name, result, earlier):
            result.status = "skipped"
            result.manifest_hash = str(earlier["manifest_hash"]) if earlier else None
            results[item.number] = result
        else:
            results[item.number] = result
            pending.append(item)
    finished = len(request.items) - len(pending)
    for number in sorted(results):
        if results[number].status == "skipped":
            progress(finished, len(request.items), results[number])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_run_item, item, request, store, out, results[item.number], timeout)
            for item in pending
        ]
        for future in as_completed(futures):
            finished += 1
            progress(finished, len(request.items), future.result())
    ordered = [results[n] for n in sorted(results)]
    _write_index(out, request, ordered)
    _write_manifest(out, request, ordered, store=store, jobs=workers, started=started)
    append_access(
        store,
        "batch",
        {"request": str(request_path), "request_sha256": request.sha256, "jobs": workers},
        outputs=[str(out)],
        manifest_hashes=[r.manifest_hash for r in ordered if r.manifest_hash],
    )
    return BatchResult(out, tuple(ordered))
