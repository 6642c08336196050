"""The ``kit case`` commands: new, list, show, export-review, import-review.

``kit/cli.py`` registers them with :func:`add_case_commands`; each command
calls one public function of :mod:`kit.case` and prints a short result
(never an identifier of a person).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0


def _cmd_new(args: argparse.Namespace) -> int:
    from kit.case.case import NOTEBOOK_FILE, new_case

    case = new_case(
        Path(args.case_dir),
        officer=args.officer,
        start=args.start,
        end=args.end,
        data=args.data,
        store=args.store,
        case_ref=args.case_ref,
        investigator=args.investigator,
    )
    print(f"case {case.reference} for {case.officer}: {case.path}")
    print(f"open {case.path / NOTEBOOK_FILE} in JupyterLab (kernel 'kit')")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from kit.case.case import list_cases

    table = list_cases(Path(args.root), progress=args.progress)
    if table.empty:
        print(f"no case under {args.root}")
        return EXIT_OK
    print(table.to_string(index=False))
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from kit.case.case import show_case

    for key, value in show_case(Path(args.case_dir), progress=not args.no_progress).items():
        print(f"{key}: {'' if value is None else value}")
    return EXIT_OK


def _cmd_export_review(args: argparse.Namespace) -> int:
    from kit.case.case import case_data
    from kit.case.review import export_review
    from kit.mask import Masker

    found = case_data(Path(args.case_dir))
    out = export_review(
        Path(args.case_dir), found.assessment, Path(args.out), masker=Masker(reveal=args.reveal)
    )
    print(out)
    return EXIT_OK


def _cmd_import_review(args: argparse.Namespace) -> int:
    from kit.case.review import import_review

    result = import_review(Path(args.case_dir), Path(args.xlsx), investigator=args.investigator)
    print(result.summary())
    return EXIT_OK


def add_case_commands(
    commands: Any,
    *,
    date_type: Callable[[str], date] = date.fromisoformat,
) -> argparse.ArgumentParser:
    """Add ``kit case …`` to the ``kit`` command's sub-parsers.

    Parameters
    ----------
    commands
        The object ``ArgumentParser.add_subparsers`` returned.
    date_type
        Parses ``--from``/``--to`` (the CLI's ``cli_date``: ISO or ROC dates).

    Returns
    -------
    argparse.ArgumentParser
        The ``case`` parser; each leaf sets ``run`` to its handler.

    """
    case = commands.add_parser("case", help="case folders and the investigator's annotations")
    actions = case.add_subparsers(dest="case_command", required=True, parser_class=type(case))

    new = actions.add_parser("new", help="create a case folder for one officer")
    new.add_argument("case_dir", metavar="CASE_DIR")
    new.add_argument("--officer", required=True, metavar="ID")
    source = new.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="DIR", help="a data folder (DATA.md)")
    source.add_argument("--store", metavar="DIR", help="a store built by 'kit ingest'")
    new.add_argument("--from", dest="start", type=date_type, metavar="DATE", help="first day")
    new.add_argument("--to", dest="end", type=date_type, metavar="DATE", help="last day")
    new.add_argument("--case-ref", metavar="TEXT", help="the case reference")
    new.add_argument("--investigator", metavar="NAME")
    new.set_defaults(run=_cmd_new)

    listing = actions.add_parser("list", help="summarise every case folder under ROOT")
    listing.add_argument("root", metavar="ROOT")
    listing.add_argument(
        "--progress", action="store_true", help="assess each case's data to count reviews"
    )
    listing.set_defaults(run=_cmd_list)

    show = actions.add_parser("show", help="summarise one case and its review progress")
    show.add_argument("case_dir", metavar="CASE_DIR")
    show.add_argument("--no-progress", action="store_true", help="do not read the case's data")
    show.set_defaults(run=_cmd_show)

    export = actions.add_parser("export-review", help="write the review spreadsheet (XLSX)")
    export.add_argument("case_dir", metavar="CASE_DIR")
    export.add_argument("--out", required=True, metavar="FILE", help="an .xlsx file")
    export.add_argument("--reveal", action="store_true", help="show identifiers in full")
    export.set_defaults(run=_cmd_export_review)

    review = actions.add_parser("import-review", help="record the edits of a review spreadsheet")
    review.add_argument("case_dir", metavar="CASE_DIR")
    review.add_argument("xlsx", metavar="FILE")
    review.add_argument("--investigator", required=True, metavar="NAME")
    review.set_defaults(run=_cmd_import_review)
    return case
