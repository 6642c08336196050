import pandas as pd

from kit.export import neutralise_formulas, write_csv


def test_formula_cells_become_text_and_numbers_stay(tmp_path):
    frame = pd.DataFrame(
        {
            "conditions": [
                '=HYPERLINK("x")',
                "+886912345678",
                "-1",
                "@SUM(A1)",
                "身分證號=A1",
                None,
            ],
            "count": [-1, 2, 3, 4, 5, 6],
        }
    )
    safe = neutralise_formulas(frame)
    assert list(safe["conditions"][:4]) == [
        '\'=HYPERLINK("x")',
        "'+886912345678",
        "'-1",
        "'@SUM(A1)",
    ]
    assert safe["conditions"][4] == "身分證號=A1"
    assert pd.isna(safe["conditions"][5])
    assert list(safe["count"]) == [-1, 2, 3, 4, 5, 6]
    path = write_csv(frame, tmp_path / "t.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")
