from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest

from kit.case import history, new_case
from kit.case.annotations import current_annotations

REPO = Path(__file__).resolve().parents[1]

BUILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, REPO)
    import pandas as pd
    from kit.assess import assess
    from kit.case.panel import ReviewPanel, review_panel
    from kit.dataset import Dataset
    from kit.mask import Masker

    dataset = Dataset.from_frames(
        query_log=pd.DataFrame({
            "time": ["2023-03-01 10:00:00", "2023-03-01 23:00:00",
                     "2023-03-01 23:30:00", "2023-03-02 02:00:00"],
            "user": ["TC04521"] * 4,
            "operation": ["車籍資料查詢", "戶役政-個人戶籍資料查詢",
                          "戶役政-個人戶籍資料查詢", "車籍資料查詢"],
            "conditions": ["車牌號碼=ABC-1234", "身分證號=A123456789 <script>x</script>",
                           "身分證號=B120000008", "車牌號碼=XYZ-5678"],
            "purpose": ["舉發交通違規", "偵查犯罪", "偵查犯罪", "其他:查看"],
        }),
        officers=pd.DataFrame({"officer_id": ["TC04521"], "name": ["王小明"],
                               "unit": ["第一分局"]}),
        duty_roster=pd.DataFrame({
            "date": ["2023-03-01", "2023-03-02"], "officer_id": ["TC04521"] * 2,
            "unit": ["第一分局"] * 2, "start": ["08:00", "08:00"], "end": ["16:00", "16:00"],
            "duty": ["巡邏", "值班"],
        }),
        register=pd.DataFrame({"officer_id": ["TC04521"], "out_time": ["2023-03-01 22:00"],
                               "in_time": [None], "reason": ["返家"]}),
    )
    assessment = assess(dataset)
    panel = review_panel(CASE_DIR, assessment, dataset, masker=Masker(), investigator="陳督察")
    assert isinstance(panel, ReviewPanel)
    """
)

DRIVE = textwrap.dedent(
    """
    shown = [panel.lookup_id]
    panel.status_input.value = "confirmed"
    panel.note_input.value = "非勤務時間查詢"
    panel.save_button.click()
    panel.next_button.click()
    shown.append(panel.lookup_id)
    panel.status_input.value = "explained"
    panel.save_button.click()
    refused = panel.message_label.value
    panel.reason_input.value = "案號1120012345"
    panel.save_button.click()
    panel.next_button.click()
    panel.next_button.click()
    result = {
        "queue": panel.queue, "shown": shown, "refused": refused,
        "position": panel.position, "evidence": panel.evidence_html.value,
        "lookup": panel.lookup_html.value, "duty": panel.duty_html.value,
        "register": panel.register_html.value,
    }
    """
)


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("officer = None")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "t.ipynb")
    return new_case(tmp_path / "case", officer="TC04521", notebook=tmp_path / "t.ipynb").path


def _check(case_dir: Path, result: dict[str, object]) -> None:
    queue = result["queue"]
    assert isinstance(queue, list) and len(queue) == 3  # the three off-duty lookups
    assert result["shown"] == queue[:2]
    assert "needs a reason" in str(result["refused"])
    assert result["position"] == 2
    full = history(case_dir)
    assert list(full["lookup_id"]) == queue[:2]
    assert list(full["status"]) == ["confirmed", "explained"]
    assert list(full["investigator"]) == ["陳督察", "陳督察"]
    assert full.loc[0, "note"] == "非勤務時間查詢"
    assert full.loc[1, "reason"] == "案號1120012345"


def test_panel_in_process(case_dir: Path) -> None:
    scope: dict[str, object] = {"REPO": str(REPO), "CASE_DIR": str(case_dir)}
    exec(BUILD, scope)
    exec(DRIVE, scope)
    result = scope["result"]
    assert isinstance(result, dict)
    _check(case_dir, result)
    # what the panel shows is masked and escaped
    last = str(result["lookup"])
    assert "XYZ5678" not in last and "XYZ-5678" not in last
    assert "OFF_DUTY" in str(result["evidence"])
    assert "返家" in str(result["register"])
    panel = scope["panel"]
    panel.previous_button.click()  # type: ignore[attr-defined]
    panel.previous_button.click()  # type: ignore[attr-defined]
    first = panel.lookup_html.value  # type: ignore[attr-defined]
    assert "A123456789" not in first and "<script>" not in first and "&lt;script&gt;" in first
    assert panel.status_input.value == "confirmed"  # type: ignore[attr-defined]
    assert panel.note_input.value == "非勤務時間查詢"  # type: ignore[attr-defined]
    # a second panel starts with the lookup not yet reviewed
    exec("again = ReviewPanel(CASE_DIR, assessment, dataset, masker=Masker())", scope)
    again = scope["again"]
    assert again.queue == result["queue"][2:]  # type: ignore[attr-defined,index]
    assert len(current_annotations(case_dir)) == 2


@pytest.mark.slow
def test_panel_in_a_real_kit_kernel(case_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.manager import KernelManager

    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    manager = KernelManager(kernel_name="kit")
    manager.start_kernel(cwd=str(REPO), env={**os.environ, "PYTHONWARNINGS": "ignore"})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs: list[str] = []

        def collect(message: dict[str, object]) -> None:
            content = message["content"]
            assert isinstance(content, dict)
            if message["msg_type"] == "stream":
                outputs.append(str(content["text"]))
            if message["msg_type"] == "error":
                outputs.append("\n".join(content["traceback"]))

        code = (
            f"REPO = {str(REPO)!r}\nCASE_DIR = {str(case_dir)!r}\n"
            + BUILD
            + DRIVE
            + "import json\nprint('RESULT' + json.dumps(result))\n"
        )
        reply = client.execute_interactive(code, timeout=180, output_hook=collect)
        assert reply["content"]["status"] == "ok", "".join(outputs)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(outputs)
    result = json.loads(text[text.index("RESULT") + len("RESULT") :].splitlines()[0])
    _check(case_dir, result)
