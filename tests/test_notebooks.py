"""The report notebooks: their parameters, and real runs under Papermill with the kit kernel.

Bundles are made once per test session and shared with ``test_browser.py``
and ``test_batch.py`` (see :func:`cached_bundle`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

import papermill as pm
import pytest

from kit.bundle import investigate, subject_review, verify
from kit.bundle.make import NOTEBOOKS_DIR
from kit.bundle.manifest import HASH_SLOT

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = REPO / "sample_logs"
EVIL_CONDITIONS = "身分證號=A123456789 <script>window.__pwned=1</script>"
EVIL_PURPOSE = '<img src=x onerror="window.__pwned=2">'
TINY_OFFICER = "TC04521"

QUERY_LOG_HEADER = [
    *("作業時間", "單位", "使用者", "IP", "作業種類"),
    *("查詢條件", "實際查詢者", "實際查詢單位", "用途"),
]

COMMON_PARAMETERS = [
    "data",
    "store",
    "start",
    "end",
    "reveal",
    "lang",
    "case_ref",
    "investigator",
    "bundle_dir",
    "explorer",
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def write_tiny_folder(folder: Path) -> Path:
    """A small data folder (DATA.md) with a lookup whose text carries HTML and a formula."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "員警名冊.csv",
        ["員警編號", "姓名", "身分證號", "單位", "職稱"],
        [
            [TINY_OFFICER, "王大明", "F131104093", "第一分局", "警員"],
            ["TC00002", "李小華", "B123456780", "第一分局", "警員"],
        ],
    )
    roster = []
    lookups = []
    for day in range(1, 11):
        date = f"2023-08-{day:02d}"
        roster.append([date, TINY_OFFICER, "第一分局", "08:00", "16:00", "巡邏"])
        roster.append([date, "TC00002", "第一分局", "08:00", "16:00", "值班"])
        lookups += [
            [f"{date} 10:{day:02d}:00", "第一分局", TINY_OFFICER, "10.0.0.5", "戶役政",
             "身分證號=A123456789", "", "", "偵查犯罪"],
            [f"{date} 22:{day:02d}:00", "第一分局", TINY_OFFICER, "10.0.0.5", "車籍",
             "車牌號碼=ABC-1234", "", "", "查贓"],
            [f"{date} 11:{day:02d}:00", "第一分局", "TC00002", "10.0.0.6", "車籍",
             "車牌號碼=XYZ-5678", "", "", "舉發交通違規"],
        ]  # fmt: skip
    lookups += [
        ["2023-08-05 23:30:00", "第一分局", TINY_OFFICER, "10.0.0.5", "戶役政",
         EVIL_CONDITIONS, "", "", EVIL_PURPOSE],
        ["2023-08-06 12:00:00", "第一分局", "TC00002", "10.0.0.6", "戶役政",
         "身分證號=A123456789", "", "", '=HYPERLINK("http://x")'],
    ]  # fmt: skip
    _write(folder / "勤務分配表.csv", ["日期", "員警編號", "單位", "起", "迄", "勤務"], roster)
    _write(
        folder / "查詢日誌.csv",
        QUERY_LOG_HEADER,
        lookups,
    )
    _write(
        folder / "通聯紀錄.csv",
        ["時間", "員警編號", "本機號碼", "對方", "對方名稱", "方向", "類型", "內容"],
        [
            ["2023-08-05 23:40:00", TINY_OFFICER, "0912345678", "0987654321", "<b>阿明</b>",
             "發", "LINE", "查到了 A123456789 <script>window.__pwned=3</script>"],
            ["2023-08-02 10:20:00", TINY_OFFICER, "0912345678", "0911111111", "", "收",
             "通話", ""],
        ],
    )  # fmt: skip
    return folder


def cached_bundle(
    factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> Path:
    """Make a bundle once per session (shared by every test module), and return its folder."""
    root = factory.getbasetemp() / "bundles"
    root.mkdir(exist_ok=True)
    folder = root / name
    done = root / f"{name}.done"
    if not done.exists():
        make(folder)
        done.write_text("ok", encoding="utf-8")
    return folder


def tiny_store(factory: pytest.TempPathFactory) -> Path:
    """A store of the tiny folder, built once per session."""
    from kit.store import ingest

    root = factory.getbasetemp() / "bundles"
    root.mkdir(exist_ok=True)
    store = root / "tiny-store"
    if not (store / "store.json").exists():
        ingest(write_tiny_folder(root / "tiny-data"), store)
    return store


def sample_folder(factory: pytest.TempPathFactory) -> Path:
    """``sample_logs/``, or (until it is committed) a small agency from the same generator."""
    if any(SAMPLE_LOGS.glob("**/*.csv")):
        return SAMPLE_LOGS
    from kit.synth.generate import generate

    folder = factory.getbasetemp() / "bundles" / "generated-logs"
    if not (folder / "answer_key.json").exists():
        generate(folder, seed=2023, officers=12, months=1, start="2023-08")
    return folder


def sample_store(factory: pytest.TempPathFactory) -> Path:
    """A store of the sample data, built once per session."""
    from kit.store import ingest

    root = factory.getbasetemp() / "bundles"
    root.mkdir(exist_ok=True)
    store = root / "sample-store"
    if not (store / "store.json").exists():
        ingest(sample_folder(factory), store)
    return store


def sample_targets(factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Return the officer with the most planted lookups, and the most looked-up person."""
    from kit.store import open_store

    key = json.loads((sample_folder(factory) / "answer_key.json").read_text(encoding="utf-8"))
    planted = [p.get("actual_user") or p["user"] for p in key["planted_lookups"]]
    officer = max(sorted(set(planted)), key=planted.count)
    opened = open_store(sample_store(factory))
    with opened.connect() as con:
        subject_files = ", ".join(f"'{f}'" for f in opened.files("subjects"))
        subject = con.execute(
            f"SELECT value FROM read_parquet([{subject_files}]) WHERE entity = 'person_id' "
            "GROUP BY value ORDER BY count(*) DESC, value LIMIT 1"
        ).fetchone()
    assert subject is not None
    return officer, str(subject[0])


def tiny_case(factory: pytest.TempPathFactory) -> Path:
    """An empty case folder: no annotation yet (``kit case new`` writes more)."""
    folder = factory.getbasetemp() / "bundles" / "tiny-case"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def tiny_investigation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tiny_store(tmp_path_factory)
    case_dir = tiny_case(tmp_path_factory)
    return cached_bundle(
        tmp_path_factory,
        "tiny-investigation",
        lambda out: investigate(
            store, TINY_OFFICER, out, case_ref="檢112偵字第1234號", case_dir=case_dir
        ),
    )


@pytest.fixture(scope="session")
def sample_investigation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = sample_store(tmp_path_factory)
    officer, _ = sample_targets(tmp_path_factory)
    return cached_bundle(
        tmp_path_factory,
        "sample-investigation",
        lambda out: investigate(
            store, officer, out, case_ref="檢112偵字第1234號", investigator="督察"
        ),
    )


@pytest.fixture(scope="session")
def sample_subject(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = sample_store(tmp_path_factory)
    _, subject = sample_targets(tmp_path_factory)
    return cached_bundle(
        tmp_path_factory,
        "sample-subject",
        lambda out: subject_review(store, [subject], out, lang="en", case_ref="REQ-7"),
    )


# ------------------------------------------------------------------ parameters


def test_investigation_notebook_parameters() -> None:
    found = pm.inspect_notebook(str(NOTEBOOKS_DIR / "officer_investigation.ipynb"))
    assert set(found) == {*COMMON_PARAMETERS, "officer", "case_dir"}
    assert all(found[name]["help"] for name in found)


def test_subject_notebook_parameters() -> None:
    found = pm.inspect_notebook(str(NOTEBOOKS_DIR / "subject_access_review.ipynb"))
    assert set(found) == {*COMMON_PARAMETERS, "ids"}
    assert found["reveal"]["default"] == "False"


# ------------------------------------------------------------------ runs


def _check_layout(bundle: Path) -> dict[str, object]:
    for name in ("index.html", "notebook.ipynb", "graph.graphml", "manifest.json"):
        assert (bundle / name).is_file(), name
    for name in ("lookups", "evidence", "subjects", "communications", "sources", "method"):
        assert (bundle / "tables" / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (bundle / "tables" / "evidence.xlsx").is_file()
    assert not (bundle / "facts.json").exists()
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["path"] for entry in manifest["files"]}
    assert {"index.html", "notebook.ipynb", "graph.graphml", "tables/lookups.csv"} <= listed
    assert manifest["inputs"] and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["timezone"] == "Asia/Taipei"
    assert manifest["libraries"]["papermill"] and manifest["kernel"] == "kit"
    assert manifest["masking"]["mode"] in ("masked", "revealed")
    assert manifest["row_counts"]["lookups"] >= 1
    assert isinstance(manifest["checks_not_run"], list)
    result = verify(bundle)
    assert result.ok, result.problems
    page = (bundle / "index.html").read_text(encoding="utf-8")
    assert result.manifest_hash in page and HASH_SLOT not in page
    return manifest


@pytest.mark.slow
def test_sample_investigation_bundle(sample_investigation: Path) -> None:
    manifest = _check_layout(sample_investigation)
    assert manifest["kind"] == "investigation"
    assert manifest["masking"]["mode"] == "masked"
    page = (sample_investigation / "index.html").read_text(encoding="utf-8")
    assert "員警查詢紀錄調查報告" in page and "1. 調查範圍與授權" in page
    assert "kb.open_investigation" not in page and "import kit" not in page  # no code
    assert 'class="jp-InputArea' not in page and 'class="jp-InputPrompt' not in page


@pytest.mark.slow
def test_sample_subject_bundle_in_english(
    sample_subject: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    manifest = _check_layout(sample_subject)
    _, subject = sample_targets(tmp_path_factory)
    lookups = (sample_subject / "tables" / "lookups.csv").read_text(encoding="utf-8-sig")
    assert subject in lookups  # the identifier the request names is shown in full
    assert manifest["kind"] == "subject"
    page = (sample_subject / "index.html").read_text(encoding="utf-8")
    assert "Subject access review" in page and "7. Method and limitations" in page
    header = (sample_subject / "tables" / "lookups.csv").read_text(encoding="utf-8-sig")
    assert header.splitlines()[0].startswith("number,")


@pytest.mark.slow
def test_tiny_bundle_is_masked_and_formula_safe(tiny_investigation: Path) -> None:
    _check_layout(tiny_investigation)
    for path in [*tiny_investigation.glob("tables/*.csv"), tiny_investigation / "index.html"]:
        text = path.read_text(encoding="utf-8-sig")
        assert "A123456789" not in text, path.name
        assert "ABC-1234" not in text and "ABC1234" not in text, path.name
    lookups = (tiny_investigation / "tables" / "lookups.csv").read_text(encoding="utf-8-sig")
    assert "A12****789" in lookups
    # made with a case folder: its (empty) annotation history is part of the bundle
    manifest = json.loads((tiny_investigation / "manifest.json").read_text(encoding="utf-8"))
    assert "annotations.jsonl" in {entry["path"] for entry in manifest["files"]}


@pytest.mark.slow
def test_verify_names_the_file_after_one_changed_byte(
    tiny_investigation: Path, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_investigation, copy)
    target = copy / "tables" / "lookups.csv"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x01
    target.write_bytes(bytes(data))
    result = verify(copy)
    assert not result.ok and result.altered == ("tables/lookups.csv",)


@pytest.mark.slow
def test_same_inputs_give_the_same_bundle(tiny_investigation: Path, tmp_path: Path) -> None:
    store = tiny_investigation.parent / "tiny-store"
    again = tmp_path / "again"
    result = investigate(
        store,
        TINY_OFFICER,
        again,
        case_ref="檢112偵字第1234號",
        case_dir=tiny_investigation.parent / "tiny-case",
    )
    first_hash = verify(tiny_investigation).manifest_hash
    for name in [
        "notebook.ipynb",
        "graph.graphml",
        *[f"tables/{p.name}" for p in again.glob("tables/*")],
    ]:
        assert (again / name).read_bytes() == (tiny_investigation / name).read_bytes(), name
    first = (tiny_investigation / "index.html").read_text(encoding="utf-8")
    second = (again / "index.html").read_text(encoding="utf-8")
    assert first.replace(first_hash, HASH_SLOT) == second.replace(result.manifest_hash, HASH_SLOT)
