"""``kit batch``: a request's items as isolated processes, failures isolated, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_notebooks import TINY_OFFICER, tiny_store

from kit.batch import BatchRequest, item_command, load_request, run_batch
from kit.bundle import verify
from kit.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

REQUEST = f"""
request_no: 檢112偵字第1234號<script>x</script>
requested_by: 臺灣臺中地方檢察署
reveal: false
items:
  - officer: {TINY_OFFICER}
    from: 2023-08-01
    to: 2023-08-10
  - officer: TC99999
  - subject: A123456789
    to: 2023-08-31
  - audit: 2023-08
    unit: 第一分局
"""


def _request(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "request.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_request_is_valid() -> None:
    request = load_request(REPO / "templates" / "request.example.yaml")
    assert [i.kind for i in request.items] == ["officer", "subject", "subject", "audit"]
    assert request.items[2].target == ("ABC-1234", "0912345678")
    assert request.items[0].start == "2023-01-01" and request.reveal is True
    assert [i.name for i in request.items][:3] == ["01-officer-TC04521", "02-subject", "03-subject"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("items: []", "no items"),
        ("items:\n  - officer: X\n    subject: Y", "exactly one"),
        ("items:\n  - officer: X\n    colour: red", "unknown key"),
        ("request: 1\nitems:\n  - officer: X", "unknown request key"),
        ("items: [", "YAML"),
        ("items:\n  - officer: X\n    lang: fr", "lang"),
    ],
)
def test_bad_requests_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_request(_request(tmp_path, text))


def test_item_command_runs_the_bundle_module(tmp_path: Path) -> None:
    request = load_request(_request(tmp_path, REQUEST))
    assert isinstance(request, BatchRequest)
    command = item_command(request.items[2], request, tmp_path / "s", tmp_path / "o")
    assert command[1:4] == ["-m", "kit", "subject"]
    assert command[command.index("--id") + 1] == "A123456789"
    assert "--reveal" not in command
    assert command[command.index("--to") + 1] == "2023-08-31"


@pytest.mark.slow
def test_batch_isolates_failures_and_resumes(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tiny_store(tmp_path_factory)
    request = _request(tmp_path, REQUEST)
    out = tmp_path / "batch"
    result = run_batch(request, store, out, jobs=2, timeout=600)
    status = {item.name: item.status for item in result.items}
    assert status == {
        "01-officer-TC04521": "done",
        "02-officer-TC99999": "failed",
        "03-subject": "done",
        "04-audit-2023-08": "done",
    }
    assert not result.ok
    failed = {item.name: item.error or "" for item in result.failed}
    assert (
        "TC99999" in failed["02-officer-TC99999"] and "check the ID" in failed["02-officer-TC99999"]
    )
    # the failed item keeps its partial notebook and an error entry
    assert (out / "02-officer-TC99999" / "notebook.ipynb").is_file()
    assert (out / "02-officer-TC99999" / "error.txt").is_file()
    for name in ("01-officer-TC04521", "03-subject", "04-audit-2023-08"):
        assert verify(out / name).ok
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="01-officer-TC04521/index.html"' in page
    manifest = json.loads((out / "batch_manifest.json").read_text(encoding="utf-8"))
    assert [i["status"] for i in manifest["items"]] == ["done", "failed", "done", "done"]
    assert manifest["items"][0]["manifest_hash"] == verify(out / "01-officer-TC04521").manifest_hash
    progress = capsys.readouterr().err
    assert "[4/4]" in progress and "02-officer-TC99999: failed" in progress

    # Re-running skips what is done and verified, and retries the rest; a tampered
    # bundle does not verify, so it is made again.
    (out / "03-subject" / "tables" / "lookups.csv").write_text("x", encoding="utf-8")
    again = run_batch(request, store, out, jobs=2, timeout=600)
    assert [i.status for i in again.items] == ["skipped", "failed", "done", "skipped"]
    assert again.items[0].manifest_hash == result.items[0].manifest_hash
    assert verify(out / "03-subject").ok
    assert "01-officer-TC04521: skipped" in capsys.readouterr().err


def test_a_kernel_that_fails_to_start_is_retried_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kit.batch as batch

    request = load_request(_request(tmp_path, REQUEST))
    calls: list[list[str]] = []
    answers = iter([(batch.EXIT_KERNEL, "no kernel"), (0, "ab" * 32)])

    def fake(command: list[str], *, timeout: float, cwd: Path) -> tuple[int | None, str]:
        calls.append(command)
        return next(answers)

    monkeypatch.setattr(batch, "_run_process", fake)
    item = request.items[0]
    result = batch.ItemResult(item.name, item.kind, list(item.target), item.fingerprint(request))
    done = batch._run_item(item, request, tmp_path / "s", tmp_path, result, timeout=5)
    assert done.status == "done" and done.attempts == 2 and len(calls) == 2
    assert done.manifest_hash == "ab" * 32


def test_an_item_over_its_time_limit_is_stopped(tmp_path: Path) -> None:
    import sys
    import time

    from kit.batch import _run_process

    began = time.monotonic()
    code, _ = _run_process(
        [sys.executable, "-c", "import time; time.sleep(60)"], timeout=1, cwd=tmp_path
    )
    assert code is None and time.monotonic() - began < 30
