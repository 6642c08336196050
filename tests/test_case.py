from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from kit.case import CaseError, annotate, list_cases, load_case, new_case, show_case
from kit.case.case import NOTEBOOK_FILE, officer_notebook


def _parameter_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(
        "data = None\nstore = None\nofficer = None\nstart = None\nend = None\n"
        "case_ref = None\ninvestigator = None\ncase_dir = None"
    )
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell("print(officer, case_dir)")]
    notebook.metadata["kernelspec"] = {"name": "kit", "display_name": "kit", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return _parameter_notebook(tmp_path / "template.ipynb")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_new_case_writes_yaml_notebook_and_empty_history(
    tmp_path: Path, template: Path, data_dir: Path
) -> None:
    case = new_case(
        tmp_path / "cases" / "c1",
        officer="TC04521",
        start="2023-01-01",
        end="2023-06-30",
        data=data_dir,
        case_ref="督112-001",
        investigator="陳督察",
        notebook=template,
    )
    folder = tmp_path / "cases" / "c1"
    fields = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    assert fields["reference"] == "督112-001"
    assert fields["officer"] == "TC04521"
    assert fields["start"] == "2023-01-01" and fields["end"] == "2023-06-30"
    assert fields["data"] == str(data_dir.resolve()) and Path(fields["data"]).is_absolute()
    assert fields["store"] is None
    assert fields["created"].endswith("+08:00")
    assert (folder / "annotations.jsonl").read_text() == ""
    assert load_case(folder) == case
    prepared = nbformat.read(folder / NOTEBOOK_FILE, as_version=4)
    injected = [c for c in prepared.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'officer = "TC04521"' in injected[0].source
    assert f'case_dir = "{folder.resolve()}"' in injected[0].source
    assert prepared.metadata["kernelspec"]["name"] == "kit"
    assert papermill.inspect_notebook(str(folder / NOTEBOOK_FILE))


def test_new_case_never_overwrites(tmp_path: Path, template: Path) -> None:
    new_case(tmp_path / "c", officer="TC1", notebook=template)
    annotate(tmp_path / "c", "a" * 32, "confirmed", investigator="x")
    with pytest.raises(CaseError, match="already exists"):
        new_case(tmp_path / "c", officer="TC2", notebook=template)
    assert load_case(tmp_path / "c").officer == "TC1"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    with pytest.raises(CaseError, match="new or empty"):
        new_case(tmp_path / "busy", officer="TC1", notebook=template)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"start": "2023-13-01"}, "not a date", id="bad-date"),
        pytest.param({"start": "2023-02-01", "end": "2023-01-01"}, "ends", id="reversed"),
        pytest.param({"data": "/no/such/folder"}, "does not exist", id="missing-data"),
        pytest.param({"officer": " "}, "officer", id="no-officer"),
    ],
)
def test_new_case_refuses_bad_parameters(
    tmp_path: Path, template: Path, kwargs: dict[str, str], message: str
) -> None:
    arguments: dict[str, str] = {"officer": "TC1", **kwargs}
    with pytest.raises(CaseError, match=message):
        new_case(tmp_path / "c", notebook=template, **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / "c").exists()


def test_both_data_and_store_refused(tmp_path: Path, template: Path, data_dir: Path) -> None:
    with pytest.raises(CaseError, match="not both"):
        new_case(tmp_path / "c", officer="TC1", data=data_dir, store=data_dir, notebook=template)


def test_production_notebook_path_points_into_the_repository() -> None:
    path = officer_notebook()
    assert path.parts[-2:] == ("notebooks", "officer_investigation.ipynb")
    assert (path.parent.parent / "kit" / "case").is_dir()


def test_list_and_show_cases_are_cheap_without_data(tmp_path: Path, template: Path) -> None:
    root = tmp_path / "cases"
    new_case(root / "b", officer="TC2", notebook=template, investigator="林")
    new_case(root / "a", officer="TC1", notebook=template, case_ref="R-1")
    annotate(root / "a", "a" * 32, "confirmed", investigator="x")
    annotate(root / "a", "b" * 32, "explained", reason="r", investigator="x")
    annotate(root / "a", "a" * 32, "not_relevant", investigator="x")
    table = list_cases(root)
    assert list(table["officer"]) == ["TC1", "TC2"]
    first = table.iloc[0]
    assert first["reference"] == "R-1"
    assert (first["annotated"], first["confirmed"], first["explained"]) == (2, 0, 1)
    assert (first["not_relevant"], first["history_entries"]) == (1, 3)
    summary = show_case(root / "a")
    assert summary["data_available"] is False
    assert summary["officer"] == "TC1"
    with pytest.raises(CaseError, match="not a case folder"):
        show_case(tmp_path)


def _write_data(folder: Path) -> Path:
    folder.mkdir()
    (folder / "log.csv").write_text(
        "作業時間,單位,使用者,作業種類,查詢條件,用途\n"
        "2023-03-01 10:00:00,第一分局,TC04521,車籍資料查詢,車牌號碼=ABC-1234,舉發交通違規\n"
        "2023-03-01 23:00:00,第一分局,TC04521,戶役政-相片影像查詢,身分證號=A123456789,偵查犯罪\n"
        "2023-03-01 23:30:00,第一分局,TC04521,刑案資料查詢,身分證號=B120000008,偵查犯罪\n"
        "2023-03-02 02:00:00,第一分局,TC04521,車籍資料查詢,車牌號碼=XYZ-5678,其他:查看\n",
        encoding="utf-8",
    )
    (folder / "officers.csv").write_text(
        "員警編號,姓名,單位\nTC04521,王小明,第一分局\n", encoding="utf-8"
    )
    (folder / "roster.csv").write_text(
        "日期,員警編號,單位,起,迄,勤務\n"
        "2023-03-01,TC04521,第一分局,08:00,16:00,巡邏\n"
        "2023-03-02,TC04521,第一分局,08:00,16:00,值班\n",
        encoding="utf-8",
    )
    return folder


def test_show_case_progress_from_the_data(tmp_path: Path, template: Path) -> None:
    from kit.case.case import case_lookups

    data = _write_data(tmp_path / "data")
    case_dir = new_case(
        tmp_path / "cases" / "c", officer="TC04521", data=data, notebook=template
    ).path
    lookups = case_lookups(case_dir)
    suspicious = lookups.loc[lookups["suspicious"], "lookup_id"].tolist()
    assert len(suspicious) == 3
    annotate(case_dir, suspicious[0], "confirmed", investigator="x")
    annotate(case_dir, "f" * 32, "confirmed", investigator="x")  # a lookup not in the data
    summary = show_case(case_dir)
    assert summary["data_available"] is True
    assert (summary["suspicious"], summary["reviewed"], summary["unreviewed"]) == (3, 1, 2)
    assert summary["orphans"] == 1
    table = list_cases(tmp_path / "cases", progress=True)
    assert table.loc[0, "reviewed"] == 1 and table.loc[0, "suspicious"] == 3


@pytest.mark.slow
def test_case_opens_and_runs_the_officer_notebook_under_papermill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    data = _write_data(tmp_path / "data")
    (data / "comms.csv").write_text(
        "時間,員警編號,對方,方向,類型,內容\n2023-03-02 00:10:00,TC04521,0912345678,發,訊息,好\n",
        encoding="utf-8",
    )
    case = new_case(tmp_path / "c", officer="TC04521", data=data, case_ref="R-1", investigator="陳")
    prepared = case.path / NOTEBOOK_FILE
    declared = papermill.inspect_notebook(str(prepared))
    assert {"data", "officer", "case_ref", "investigator"} <= set(declared)
    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(prepared), str(out), kernel_name="kit", progress_bar=False, cwd=str(case.path)
    )
    executed = nbformat.read(out, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'officer = "TC04521"' in injected[0].source
    if "case_dir" in declared:
        assert f'case_dir = "{case.path}"' in injected[0].source
    lookups = (case.path / "report" / "tables" / "lookups.csv").read_text(encoding="utf-8-sig")
    assert len(lookups.strip().splitlines()) == 5  # header + the officer's four lookups


def test_hand_edited_case_yaml_is_read(tmp_path: Path, template: Path) -> None:
    folder = new_case(tmp_path / "c", officer="TC1", notebook=template).path
    (folder / "case.yaml").write_text(
        "officer: TC04521\nstart: 2023-01-01\nend: 2023-02-28\n", encoding="utf-8"
    )
    case = load_case(folder)
    assert (case.officer, case.start, case.end) == ("TC04521", "2023-01-01", "2023-02-28")
    assert case.reference == "c"
    (folder / "case.yaml").write_text("start: [\n", encoding="utf-8")
    with pytest.raises(CaseError, match="not valid YAML"):
        load_case(folder)
