import pytest

from kit.bundle import verify
from kit.cli import EXIT_OK, main


@pytest.mark.slow
def test_demo_runs_end_to_end_with_a_relative_output_folder(tmp_path, monkeypatch, capsys):
    # `make demo` runs `kit demo --out demo_out`: a relative folder, while each
    # bundle's notebook runs inside its own bundle folder.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    assert main(["demo", "--out", "demo_out"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "reconciles" in printed
    for name in ("investigation", "subject", "audit"):
        bundle = tmp_path / "demo_out" / "bundles" / name
        assert (bundle / "index.html").is_file()
        result = verify(bundle)
        assert result.ok, result.problems
        assert result.manifest_hash in printed
    assert (tmp_path / "demo_out" / "screen" / "lookups.csv").is_file()
