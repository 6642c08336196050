"""The ``kit`` command (``shared/spec/OUTPUTS.md``, "Commands").

Exit status: 0 success, 1 a failure that does not depend on findings (bad
input, failed run), 2 a usage error. Errors are one line on stderr saying
what to do; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from kit.errors import KitError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with status 2 and one clear line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")


def cli_date(text: str) -> date:
    """Parse a command-line date: ``YYYY-MM-DD`` or ROC ``YYY/MM/DD``."""
    from kit.normalise import parse_date

    parsed = parse_date(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD (2023-10-05) or ROC YYY/MM/DD (112/10/05)"
        )
    return parsed


def cache_store_for(data_dir: Path) -> Path:
    """Return the cache store used for ``--data DIR`` (never inside the data folder).

    The cache lives under ``$KIT_CACHE`` (default ``~/.cache/kit``), one store
    per data folder, named by the SHA-256 of the folder's absolute path.
    Ingesting is idempotent, so a second run only adds files that are new.
    """
    root = Path(os.environ.get("KIT_CACHE") or Path.home() / ".cache" / "kit")
    key = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    return root / "stores" / key


def _store_from_args(args: argparse.Namespace) -> Path:
    """Return the store a command reads, ingesting ``--data`` into its cache first."""
    from kit.store import ingest

    if args.store is not None:
        return Path(args.store)
    data_dir = Path(args.data)
    store = cache_store_for(data_dir)
    ingest(data_dir, store)
    return store


def _add_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--data", metavar="DIR", help="a data folder (DATA.md), ingested on the fly")
    group.add_argument("--store", metavar="DIR", help="a store built by 'kit ingest'")


def _add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=cli_date, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", type=cli_date, metavar="DATE", help="last day")


def _cmd_ingest(args: argparse.Namespace) -> int:
    from kit.accesslog import append_access
    from kit.store import ingest

    store = Path(args.store)
    result = ingest(Path(args.data_dir), store)
    print(result.summary())
    append_access(
        store,
        "ingest",
        {"data_dir": str(args.data_dir), "store": str(store)},
        outputs=[str(store / "ingest_report.json"), str(store / "rejects.csv")],
    )
    return EXIT_OK


def _cmd_screen(args: argparse.Namespace) -> int:
    from kit.accesslog import append_access
    from kit.assess import screen
    from kit.store import open_store

    store_dir = _store_from_args(args)
    written = screen(
        open_store(store_dir),
        Path(args.out),
        start=args.start,
        end=args.end,
        unit=args.unit,
        officer=args.officer,
    )
    for path in written:
        print(path)
    append_access(
        store_dir,
        "screen",
        {
            "data": args.data,
            "store": args.store,
            "from": args.start.isoformat() if args.start else None,
            "to": args.end.isoformat() if args.end else None,
            "unit": args.unit,
            "officer": args.officer,
            "out": args.out,
        },
        outputs=[str(p) for p in written],
    )
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from kit.demo import run_demo

    for line in run_demo(Path(args.out)):
        print(line)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``kit`` command and its sub-commands."""
    parser = _Parser(prog="kit", description="Forensic investigation kit for police lookup logs.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = commands.add_parser("ingest", help="load a data folder into a store")
    ingest.add_argument("data_dir", metavar="DATA_DIR")
    ingest.add_argument("--store", required=True, metavar="STORE")
    ingest.set_defaults(run=_cmd_ingest)

    screen = commands.add_parser("screen", help="assess every lookup in range")
    _add_source(screen)
    _add_period(screen)
    screen.add_argument("--unit", metavar="UNIT")
    screen.add_argument("--officer", metavar="ID")
    screen.add_argument("--out", required=True, metavar="FILE", help=".csv or .parquet")
    screen.set_defaults(run=_cmd_screen)

    demo = commands.add_parser("demo", help="run the kit on sample_logs/ and say where it wrote")
    demo.add_argument("--out", default="demo_out", metavar="DIR")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kit`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "out", None) and args.command == "screen":
        if Path(args.out).suffix.lower() not in {".csv", ".parquet"}:
            parser.error("--out must end in .csv or .parquet")
    try:
        return int(args.run(args))
    except KitError as error:
        if args.debug:
            traceback.print_exc()
        print(f"kit: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        if args.debug:
            traceback.print_exc()
        print(f"kit: error: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
