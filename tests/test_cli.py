import pytest

from kit.cli import EXIT_FAILURE, EXIT_USAGE, main


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == EXIT_USAGE
    assert "usage error" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2023-13-01", "yesterday", "112/02/30"])
def test_bad_dates_are_usage_errors(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["screen", "--store", str(tmp_path), "--from", bad, "--out", "x.csv"])
    assert exited.value.code == EXIT_USAGE
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_screen_output_must_be_csv_or_parquet(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["screen", "--store", str(tmp_path), "--out", "x.xlsx"])
    assert exited.value.code == EXIT_USAGE


def test_missing_data_folder_fails_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    status = main(["ingest", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s")])
    assert status == EXIT_FAILURE
    err = capsys.readouterr().err.strip()
    assert err.startswith("kit: error:")
    assert "\n" not in err
    assert "Traceback" not in err
