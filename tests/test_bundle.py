"""Unit tests of the bundle machinery that need no kernel: report pieces, export, manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from kit.bundle.export import (
    export_notebook,
    external_references,
    offline_html,
    plotly_bundle_count,
    render_figures,
)
from kit.bundle.manifest import (
    HASH_SLOT,
    build_manifest,
    read_facts,
    seal_report,
    write_facts,
    write_manifest,
)
from kit.bundle.report import (
    FIGURE_METADATA,
    PLOTLY_MIMETYPE,
    SECTIONS,
    Report,
    css_string,
    table_html,
)
from kit.bundle.run import _safe_reason, clean_notebook
from kit.bundle.verify import generate_signing_key, sign_manifest, verify
from kit.errors import BundleError, ConfigError

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


# ------------------------------------------------------------------ report


def test_table_html_escapes_cells_and_headers() -> None:
    frame = pd.DataFrame({"查詢條件": [EVIL, None], "<b>h</b>": ["=1+1", "ok"]})
    out = table_html(frame, caption="<i>cap</i>")
    assert "<script>" not in out
    assert "<img" not in out
    assert "&lt;script&gt;" in out
    assert "&lt;b&gt;h&lt;/b&gt;" in out
    assert "&lt;i&gt;cap&lt;/i&gt;" in out
    assert 'class="dataframe kit-table"' in out


def test_table_html_shows_missing_values_empty_and_numbers_as_pandas_does() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array(["  x&y ", None, "z"], dtype="string"),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "score": [2.0, float("nan"), 0.125],
            "flag": [True, False, True],
            "time": pd.to_datetime(["2023-01-01 08:00", None, "2023-02-01 09:30"]).tz_localize(
                "Asia/Taipei"
            ),
        }
    )
    out = table_html(frame)
    assert "NA" not in out and "NaT" not in out and "nan" not in out
    rows = out.split("<tr>")[1:]
    assert [c.split("</td>")[0] for c in rows[0].split("<td>")[1:]] == [
        "x&amp;y",
        "1",
        "2.0",
        "True",
        "2023-01-01 08:00:00+08:00",
    ]
    assert [c.split("</td>")[0] for c in rows[1].split("<td>")[1:]] == ["", "", "", "False", ""]
    # where nothing is missing, the markup is pandas' own without its indentation
    whole = frame.dropna()
    pandas_html = whole.astype("object").to_html(
        index=False, escape=True, na_rep="", border=0, classes="kit-table", notebook=False
    )
    unindented = re.sub(r">\s+<", "><", pandas_html.replace("  x&amp;y ", "x&amp;y"))
    assert re.sub(r">\s+<", "><", table_html(whole)) == unindented
    assert "  <" not in table_html(whole)


def test_table_html_caps_rows_and_says_where_the_rest_is() -> None:
    frame = pd.DataFrame({"n": range(10)})
    out = table_html(frame, max_rows=3, file_name="tables/lookups.csv", lang="en")
    assert out.count("<td>") == 3
    assert "7 more rows" in out
    assert "tables/lookups.csv" in out


def test_table_html_empty_frame_says_none() -> None:
    assert "（無資料）" in table_html(pd.DataFrame({"a": []}))


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_headings_are_numbered_per_language(lang: str) -> None:
    report = Report(kind="investigation", lang=lang)
    for number, key in enumerate(SECTIONS, start=1):
        text = report.heading(key)._repr_html_()
        assert f"{number}. {SECTIONS[key][lang]}" in text
        assert 'class="kit-section"' in text


def test_unknown_language_and_kind_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Report(kind="investigation", lang="fr")
    with pytest.raises(ConfigError):
        Report(kind="audit-x")


def test_cover_escapes_parameters_and_holds_the_hash_slot() -> None:
    report = Report(
        kind="investigation", lang="zh-TW", case_ref='檢112"; }</style><script>x', investigator=EVIL
    )
    cover = report.cover(target="TC04521", start="2023-01-01", end=None)._repr_html_()
    assert HASH_SLOT in cover
    assert "<script>" not in cover
    assert "</style><script>" not in cover.split("</style>", 1)[1]
    assert cover.count("</style>") == 1  # the case reference cannot close the style element
    assert "員警查詢紀錄調查報告" in cover
    assert "資料結束" in cover


def test_css_string_escapes_everything_but_letters_and_digits() -> None:
    assert css_string("A1 b") == '"A1 b"'
    assert css_string('"}') == '"\\000022\\00007d"'
    assert css_string("檢") == '"\\006aa2"'


def test_figures_inline_plotlyjs_once_with_stable_ids() -> None:
    report = Report(kind="subject", lang="en")
    first = report.figure(go.Figure(go.Scatter(x=[1], y=[2])))
    second = report.figure(go.Figure(go.Bar(x=[1], y=[2])))
    assert plotly_bundle_count(first.html) == 1
    assert plotly_bundle_count(second.html) == 0
    assert 'id="kit-figure-1"' in first.html
    assert 'id="kit-figure-2"' in second.html
    assert "mathjax" not in second.html.lower()
    # The notebook carries each figure once, as Plotly JSON, with its place in the report.
    data, metadata = second._repr_mimebundle_()
    assert "text/html" not in data
    assert data[PLOTLY_MIMETYPE]["data"][0]["type"] == "bar"
    assert metadata[FIGURE_METADATA] == {"div_id": "kit-figure-2", "plotlyjs": False}


def _newplot_arguments(page: str) -> list[object]:
    found = re.search(
        r"Plotly\.newPlot\(\s*(\"[^\"]+\"),\s*(.*),\s*(\{.*\}),\s*(\{.*?\})\s*\)", page, re.S
    )
    assert found is not None
    return [json.loads(part) for part in found.groups()]


def test_figure_html_writes_plotlys_own_markup_for_figure_json() -> None:
    import plotly.io as pio

    from kit.bundle.report import FIGURE_CONFIG, figure_html

    figure = {
        "data": [
            {
                "type": "scatter",
                "x": ["2023-01-01 08:00:00", None],
                "y": [1.5, -2],
                "text": ["</script><script>window.__pwned=1</script>", "查詢\u2028條件 <b>"],
            }
        ],
        "layout": {"height": 420, "title": {"text": "時間軸 / timeline"}},
    }
    for plotlyjs in (False, True):
        mine = figure_html(figure, div_id="kit-figure-1", plotlyjs=plotlyjs)
        plotlys = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=plotlyjs,
            include_mathjax=False,
            div_id="kit-figure-1",
            config=dict(FIGURE_CONFIG),
            validate=False,
        )
        assert _newplot_arguments(mine) == _newplot_arguments(plotlys)
        before = [re.sub(r"\s+", "", p.split("Plotly.newPlot")[0]) for p in (mine, plotlys)]
        assert before[0] == '<divclass="kit-figure">' + before[1]
        assert mine.count("<script") == plotlys.count("<script") == (3 if plotlyjs else 1)
        assert "</script><script>window" not in mine and "\u2028" not in mine
        assert 'style="height:420px; width:100%;"' in mine
    # a figure object, or JSON with a NaN, is left to Plotly itself
    nan = {"data": [{"type": "scatter", "x": [1], "y": [float("nan")]}], "layout": {}}
    assert _newplot_arguments(figure_html(nan, div_id="n", plotlyjs=False))[1] == [
        {"type": "scatter", "x": [1], "y": [None]}
    ]
    shown = figure_html(go.Figure(go.Bar(x=[1], y=[2])), div_id="b", plotlyjs=False)
    assert _newplot_arguments(shown)[1][0]["type"] == "bar"


def test_export_renders_report_figures_once_with_plotlyjs_once(tmp_path: Path) -> None:
    import nbformat

    report = Report(kind="subject", lang="en")
    figures = [report.figure(go.Figure(go.Scatter(x=[1], y=[n]))) for n in range(3)]
    cell = nbformat.v4.new_code_cell("report.figure(...)")
    for figure in figures:
        data, metadata = figure._repr_mimebundle_()
        cell.outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata))
    other = nbformat.v4.new_output(
        "display_data", data={PLOTLY_MIMETYPE: {"data": []}, "text/plain": "Figure()"}
    )
    cell.outputs.append(other)
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert render_figures(notebook) == 3
    shown = [output["data"] for output in cell.outputs]
    assert [list(d) for d in shown[:3]] == [["text/html"]] * 3
    assert [d["text/html"] for d in shown[:3]] == [f.html for f in figures]
    assert PLOTLY_MIMETYPE in shown[3]  # not a report figure: left alone
    page = export_notebook(notebook, tmp_path / "index.html").read_text(encoding="utf-8")
    assert plotly_bundle_count(page) == 1
    assert [f'id="kit-figure-{n}"' in page for n in (1, 2, 3)] == [True] * 3


# ------------------------------------------------------------------ export


def test_offline_html_strips_cdn_scripts_dedupes_plotly_and_renumbers_ids() -> None:
    bundle = "<script>/**\n* plotly.js v3.0.0\n*/ var Plotly={};</script>"
    page = (
        "<html><head></head><body>"
        '<script src="https://cdnjs.cloudflare.com/mathjax.js"></script>'
        + bundle
        + '<div id="0b7e2b0c-2f0e-4c59-9a43-4cbbd2b0a9f1"></div>'
        + bundle
        + '<script>Plotly.newPlot("0b7e2b0c-2f0e-4c59-9a43-4cbbd2b0a9f1")</script>'
        "</body></html>"
    )
    out = offline_html(page)
    assert "cdnjs" not in out
    assert plotly_bundle_count(out) == 1
    assert 'id="kit-id-1"' in out
    assert 'Plotly.newPlot("kit-id-1")' in out
    assert "Content-Security-Policy" in out


def test_offline_html_refuses_pages_that_would_still_load_something() -> None:
    with pytest.raises(BundleError):
        offline_html('<html><head></head><body><img src="https://example.org/x.png"></body></html>')
    assert external_references('<link rel="stylesheet" href="//cdn.example/x.css">') == [
        "//cdn.example/x.css"
    ]
    assert external_references('<a href="https://plotly.com">link</a>') == []


# ------------------------------------------------------------------ run metadata


def test_clean_notebook_removes_timings_and_paths() -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {
        "start_time": "t",
        "end_time": "t",
        "duration": 1.0,
        "input_path": "/a",
        "output_path": "/b",
        "parameters": {"officer": "X"},
        "environment_variables": {},
    }
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["injected-parameters"]
    cell.metadata["execution"] = {"iopub.status.busy": "t"}
    cell.metadata["papermill"] = {"start_time": "t", "duration": 2.0, "status": "completed"}
    nb.cells = [cell]
    clean_notebook(nb)
    assert nb.metadata["papermill"] == {"parameters": {"officer": "X"}}
    assert "execution" not in nb.cells[0].metadata
    assert nb.cells[0].metadata["papermill"] == {}
    assert nb.cells[0]["id"] == "injected-parameters"


def test_failure_reasons_never_quote_foreign_exception_text() -> None:
    assert "A123456789" not in _safe_reason("KeyError", "'A123456789'")
    assert (
        _safe_reason("BundleError", "officer not found\nmore") == "BundleError: officer not found"
    )


# ------------------------------------------------------------------ manifest and verify


def _bundle(tmp_path: Path) -> tuple[Path, str]:
    bundle = tmp_path / "bundle"
    (bundle / "tables").mkdir(parents=True)
    (bundle / "tables" / "lookups.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (bundle / "notebook.ipynb").write_text("{}", encoding="utf-8")
    (bundle / "index.html").write_text(
        f"<html><p>{HASH_SLOT}</p><style>x{{content:'{HASH_SLOT}'}}</style></html>",
        encoding="utf-8",
    )
    write_facts(
        bundle,
        inputs=[{"path": "q.csv", "sha256": "ab" * 32}],
        row_counts={"lookups": 1},
        checks_not_run=["FLAG_B", "FLAG_A", "FLAG_A"],
        masking={"mode": "masked"},
    )
    facts = read_facts(bundle)
    assert not (bundle / "facts.json").exists()
    manifest = build_manifest(
        bundle,
        kind="investigation",
        parameters={"officer": "TC04521"},
        facts=facts,
        created_at="2026-01-01T00:00:00+08:00",
        run_seconds=1.0,
    )
    digest = write_manifest(bundle, manifest)
    assert seal_report(bundle, digest) == 2
    return bundle, digest


def test_sealed_bundle_verifies_and_shows_the_final_manifest_hash(tmp_path: Path) -> None:
    bundle, digest = _bundle(tmp_path)
    assert digest in (bundle / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["checks_not_run"] == ["FLAG_A", "FLAG_B"]
    assert {f["path"] for f in manifest["files"]} == {
        "index.html",
        "notebook.ipynb",
        "tables/lookups.csv",
    }
    assert "hash_scheme" in manifest and "varies_between_runs" in manifest
    result = verify(bundle, expect=digest)
    assert result.ok, result.problems
    assert result.manifest_hash == digest
    assert not verify(bundle, expect="0" * 64).ok


@pytest.mark.parametrize("name", ["tables/lookups.csv", "index.html", "notebook.ipynb"])
def test_one_changed_byte_is_named(tmp_path: Path, name: str) -> None:
    bundle, _digest = _bundle(tmp_path)
    path = bundle / name
    data = bytearray(path.read_bytes())
    data[1] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify(bundle)
    assert not result.ok
    assert result.altered == (name,)
    assert name in result.summary()


def test_missing_added_and_manifest_changes_are_caught(tmp_path: Path) -> None:
    bundle, _digest = _bundle(tmp_path)
    (bundle / "notebook.ipynb").unlink()
    (bundle / "extra.txt").write_text("x", encoding="utf-8")
    result = verify(bundle)
    assert result.missing == ("notebook.ipynb",)
    assert result.added == ("extra.txt",)
    # Editing the manifest changes its hash, so the sealed report no longer matches.
    bundle2, _ = _bundle(tmp_path / "second")
    text = (bundle2 / "manifest.json").read_text(encoding="utf-8")
    (bundle2 / "manifest.json").write_text(text.replace("TC04521", "TC04522"), encoding="utf-8")
    assert verify(bundle2).altered == ("index.html",)


def test_verify_without_manifest_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        verify(tmp_path)


def test_signature_round_trip_and_wrong_key(tmp_path: Path) -> None:
    bundle, _ = _bundle(tmp_path)
    generate_signing_key(tmp_path / "k.pem", tmp_path / "k.pub")
    generate_signing_key(tmp_path / "other.pem", tmp_path / "other.pub")
    sign_manifest(bundle, tmp_path / "k.pem")
    assert verify(bundle, pubkey=tmp_path / "k.pub").signature_ok is True
    wrong = verify(bundle, pubkey=tmp_path / "other.pub")
    assert wrong.signature_ok is False and not wrong.ok
    with pytest.raises(BundleError):
        sign_manifest(bundle, tmp_path / "k.pub")


def test_a_missing_kernel_is_a_kernel_start_error(tmp_path: Path) -> None:
    import nbformat

    from kit.bundle.run import KernelStartError, run_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    notebook.cells[0].metadata["tags"] = ["parameters"]
    source = tmp_path / "in.ipynb"
    nbformat.write(notebook, source)
    with pytest.raises(KernelStartError):
        run_notebook(source, tmp_path / "out.ipynb", {}, cwd=tmp_path, kernel_name="no-such-kernel")


def test_the_report_kernel_does_not_import_nbformat() -> None:
    """nbformat costs a CPU second to import (jsonschema grammars); the kernel never needs it."""
    import subprocess
    import sys

    code = (
        "import sys, kit.bundle, kit.case, kit.views, kit.assess, kit.store; "
        "print(sorted(m for m in ('nbformat', 'jsonschema', 'papermill', 'nbconvert') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_kit_command_skips_only_jsonschemas_iri_checks_and_still_validates_notebooks():
    import subprocess
    import sys

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "officer_investigation.ipynb"
    script = f"""
import sys
from kit.startup import SLOW_FORMAT_MODULE, skip_slow_format_checks
assert skip_slow_format_checks()
assert not skip_slow_format_checks()  # once is enough
import jsonschema, nbformat
checkers = set(jsonschema.FormatChecker.checkers)
assert "iri" not in checkers and {{"uri", "date-time", "email"}} <= checkers
assert sys.modules[SLOW_FORMAT_MODULE] is None
node = nbformat.read({str(notebook)!r}, as_version=4)
nbformat.validate(node)
node.cells[0]["cell_type"] = "no such type"
try:
    nbformat.validate(node)
except nbformat.ValidationError:
    print("still validates")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "still validates"


def test_a_capped_table_prints_the_flagged_rows_first_in_table_order():
    from kit.bundle.report import printed_first, table_html

    lookups = pd.DataFrame(
        {
            "編號": [str(i) for i in range(10)],
            "可疑": [False] * 7 + [True, True, False],
        }
    )
    first = printed_first("lookups", lookups)
    assert first is not None and first.tolist() == [False] * 7 + [True, True, False]
    page = table_html(lookups, max_rows=3, file_name="tables/lookups.csv", first=first)
    printed = re.findall(r"<td>(\d+)</td>", page)
    assert printed == ["0", "7", "8"]  # both suspicious lookups, then the first other
    assert "7 more rows" not in page and "另有 7 列" in page and "（2 列）" in page
    # without a cap nothing changes, and the English headers work the same
    assert re.findall(r"<td>(\d+)</td>", table_html(lookups, max_rows=20, first=first)) == [
        str(i) for i in range(10)
    ]
    evidence = pd.DataFrame({"kind": ["explanation"] * 5 + ["flag"], "code": list("abcdef")})
    shown = table_html(evidence, max_rows=2, lang="en", first=printed_first("evidence", evidence))
    assert "<td>f</td>" in shown and "<td>a</td>" in shown and "<td>b</td>" not in shown
    assert "(1 of them)" in shown
    assert printed_first("sources", evidence) is None


def test_report_kernels_freeze_what_is_loaded_and_interactive_sessions_do_not(tmp_path):
    import os
    import subprocess
    import sys

    import nbformat

    from kit.bundle.run import run_notebook

    probe = (
        "import gc, os\n"
        "import kit.bundle as kb\n"
        "before = gc.get_freeze_count()\n"
        "kb.Report(kind='investigation')\n"
        "print(os.environ.get('KIT_REPORT_KERNEL'), before == 0, gc.get_freeze_count() > 0, "
        "gc.get_threshold()[0])\n"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(probe)]
    notebook.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(notebook, tmp_path / "in.ipynb")
    run_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {}, cwd=tmp_path)
    printed = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs[0]["text"]
    assert printed.split() == ["1", "True", "True", "10000"]
    assert "KIT_REPORT_KERNEL" not in os.environ  # only the kernel had it

    env = {k: v for k, v in os.environ.items() if k != "KIT_REPORT_KERNEL"}
    code = probe.replace("print(", "print(kb.Report is not None, ")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.split() == ["True", "None", "True", "False", "700"]


def test_figure_json_leaves_what_is_not_plain_json_to_plotly() -> None:
    import numpy as np
    import plotly.io as pio

    from kit.bundle.report import figure_json

    cases = {
        "nan": {"data": [{"type": "scatter", "y": [1.0, float("nan")]}], "layout": {}},
        "nan_in_array": {"data": [{"type": "scatter", "y": np.array([1.0, np.nan])}]},
        "dates": {"data": [{"x": np.array(["2023-01-01T08:00"], dtype="datetime64[m]")}]},
        "timestamp": {"data": [{"x": [pd.Timestamp("2023-01-01 08:00", tz="Asia/Taipei")]}]},
        "markup": {"data": [{"text": ["</script>", np.str_("<b>")], "y": np.arange(2)}]},
    }
    for name, figure in cases.items():
        assert figure_json(figure) == pio.to_json(figure, validate=False), name
    shown = figure_json(go.Figure(go.Bar(x=[1], y=[2])))
    assert json.loads(shown)["data"][0]["type"] == "bar"
