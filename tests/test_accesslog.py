import hashlib
import json

from kit.accesslog import ACCESS_LOG_NAME, append_access, scrub_parameters


def _sha(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def test_identifier_parameters_are_hashed_whole():
    scrubbed = scrub_parameters({"id": ["A123456789", "ABC-1234"], "officer": "TC04521"})
    assert scrubbed["id"] == [_sha("A123456789"), _sha("ABC-1234")]
    assert scrubbed["officer"] == "TC04521"


def test_identifiers_inside_other_text_are_replaced():
    scrubbed = scrub_parameters({"case_ref": "A123456789 查詢案", "out": "/x/0912-345-678/b"})
    assert "A123456789" not in json.dumps(scrubbed)
    assert "0912-345-678" not in json.dumps(scrubbed)
    assert _sha("A123456789") in scrubbed["case_ref"]
    assert _sha("0912345678") in scrubbed["out"]


def test_each_run_appends_one_line(tmp_path):
    append_access(tmp_path, "screen", {"id": "A123456789"}, outputs=["o.csv"], investigator="林")
    append_access(tmp_path, "ingest", {"data_dir": "d"})
    lines = (tmp_path / ACCESS_LOG_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["command"] == "screen"
    assert first["investigator"] == "林"
    assert first["outputs"] == ["o.csv"]
    assert first["time"].endswith("+08:00")
    assert "A123456789" not in lines[0]
