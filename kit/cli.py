"""The ``kit`` command (``shared/spec/OUTPUTS.md``, "Commands").

Exit status: 0 success, 1 a failure that does not depend on findings (bad
input, failed run), 2 a usage error. Errors are one line on stderr saying
what to do; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kit.errors import ConfigError, KitError

if TYPE_CHECKING:
    from kit.bundle import BundleResult

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_KERNEL = 0, 1, 2, 3
"""Exit statuses; 3 says the Jupyter kernel did not start (kit batch retries those)."""


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


def _store_from_args(args: argparse.Namespace) -> Path:
    """Return the absolute store a command reads, ingesting ``--data`` into its cache first."""
    from kit.store import resolve_store

    if args.store is not None:
        # Opened as given: a folder that is not a store fails with StoreError.
        return Path(args.store).resolve()
    return resolve_store(Path(args.data))


def _add_source(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--data", metavar="DIR", help="a data folder (DATA.md), ingested on the fly")
    group.add_argument("--store", metavar="DIR", help="a store built by 'kit ingest'")


def _add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=cli_date, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", type=cli_date, metavar="DATE", help="last day")


def _add_bundle_options(parser: argparse.ArgumentParser) -> None:
    _add_period(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="a new folder for the bundle")
    parser.add_argument("--reveal", action="store_true", help="show identifiers in full")
    parser.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    parser.add_argument("--case-ref", metavar="TEXT", help="the case or letter reference")
    parser.add_argument("--investigator", metavar="NAME")
    parser.add_argument("--sign", metavar="KEYFILE", help="sign the manifest (Ed25519 private key)")


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
        jobs=args.jobs,
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


def cli_month(text: str) -> str:
    """Parse a command-line month: ``YYYY-MM``."""
    from kit.audit.frames import month_bounds
    from kit.errors import ConfigError

    try:
        month_bounds(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(error.message) from None
    return text.strip()


def _print_bundle(result: BundleResult) -> int:
    print(f"bundle: {result.out_dir}")
    print(f"report: {result.report}")
    if result.signature is not None:
        print(f"signature: {result.signature}")
    # Last, so that scripts (kit batch) can read the hash from the last line.
    print(f"manifest SHA-256: {result.manifest_hash}")
    return EXIT_OK


def _bundle_options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "start": args.start,
        "end": args.end,
        "reveal": args.reveal,
        "lang": args.lang,
        "case_ref": args.case_ref,
        "investigator": args.investigator,
        "sign": Path(args.sign) if args.sign else None,
    }


def _cmd_investigate(args: argparse.Namespace) -> int:
    from kit.bundle import investigate

    options = _bundle_options(args)
    case_dir = None
    if args.case:
        from kit.case import load_case

        case = load_case(Path(args.case))
        case_dir = case.path
        args.officer = args.officer or case.officer
        options["start"] = options["start"] or case.start
        options["end"] = options["end"] or case.end
        options["case_ref"] = options["case_ref"] or case.reference
        options["investigator"] = options["investigator"] or case.investigator
        if args.store is None and args.data is None:
            args.store, args.data = case.store, case.data
    if not args.officer:
        raise ConfigError(
            "no officer: give --officer ID, or --case CASE_DIR made by 'kit case new'"
        )
    if args.store is None and args.data is None:
        raise ConfigError("no data: give --data DIR or --store DIR")
    store = _store_from_args(args)
    return _print_bundle(
        investigate(store, args.officer, Path(args.out), case_dir=case_dir, **options)  # type: ignore[arg-type]
    )


def _cmd_subject(args: argparse.Namespace) -> int:
    from kit.bundle import subject_review

    store = _store_from_args(args)
    return _print_bundle(subject_review(store, args.ids, Path(args.out), **_bundle_options(args)))  # type: ignore[arg-type]


def _cmd_audit(args: argparse.Namespace) -> int:
    from kit.audit import run_audit

    store = _store_from_args(args)
    result = run_audit(
        store,
        args.month,
        Path(args.out),
        unit=args.unit,
        seed=args.seed,
        lang=args.lang,
        closer_audit=args.closer_audit,
        auditor=args.auditor,
        reveal=args.reveal,
        sign=Path(args.sign) if args.sign else None,
    )
    return _print_bundle(result)


def _cmd_self_review(args: argparse.Namespace) -> int:
    from kit.audit import run_self_review

    store = _store_from_args(args)
    result = run_self_review(
        store,
        args.officer,
        Path(args.out),
        start=args.start,
        end=args.end,
        lang=args.lang,
        sign=Path(args.sign) if args.sign else None,
    )
    return _print_bundle(result)


def _cmd_batch(args: argparse.Namespace) -> int:
    from kit.batch import run_batch

    store = _store_from_args(args)
    result = run_batch(Path(args.request), store, Path(args.out), jobs=args.jobs)
    print(f"index: {Path(args.out) / 'index.html'}")
    for item in result.failed:
        print(f"kit: error: item {item.name} failed: {item.error}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILURE


def _cmd_verify(args: argparse.Namespace) -> int:
    from kit.bundle import verify

    result = verify(
        Path(args.bundle_dir),
        expect=args.expect,
        pubkey=Path(args.pubkey) if args.pubkey else None,
    )
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_FAILURE


def _cmd_keygen(args: argparse.Namespace) -> int:
    from kit.bundle import generate_signing_key

    private, public = Path(args.private), Path(args.public)
    for path in (private, public):
        if path.exists():
            raise ConfigError("refusing to overwrite an existing key file", file=str(path))
    generate_signing_key(private, public)
    print(f"private key (keep it safe, sign with --sign): {private}")
    print(f"public key (give it to whoever verifies, --pubkey): {public}")
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
    screen.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes screening at once (default: cores, fewer if memory is short)",
    )
    screen.set_defaults(run=_cmd_screen)

    investigate = commands.add_parser("investigate", help="evidence bundle on one officer")
    _add_source(investigate, required=False)
    investigate.add_argument("--officer", metavar="ID")
    investigate.add_argument(
        "--case",
        metavar="CASE_DIR",
        help="take officer, period, data and annotations from a case folder (kit case new)",
    )
    _add_bundle_options(investigate)
    investigate.set_defaults(run=_cmd_investigate)

    subject = commands.add_parser("subject", help="who looked up these subjects: evidence bundle")
    _add_source(subject)
    subject.add_argument("--id", dest="ids", action="append", required=True, metavar="IDENTIFIER")
    _add_bundle_options(subject)
    subject.set_defaults(run=_cmd_subject)

    audit = commands.add_parser("audit", help="the monthly audit: statistics, ranking, the sample")
    _add_source(audit)
    audit.add_argument("--month", required=True, type=cli_month, metavar="YYYY-MM")
    audit.add_argument("--unit", metavar="UNIT", help="the auditing unit: only units under it")
    audit.add_argument(
        "--seed", type=int, metavar="N", help="sampling seed (default: drawn, recorded)"
    )
    audit.add_argument(
        "--closer-audit",
        action="append",
        default=[],
        metavar="UNIT",
        help="a unit under closer audit (handbook 14); repeatable",
    )
    audit.add_argument("--auditor", metavar="NAME")
    audit.add_argument("--reveal", action="store_true", help="show identifiers in full")
    audit.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    audit.add_argument("--sign", metavar="KEYFILE", help="sign the manifest (Ed25519 private key)")
    audit.add_argument("--out", required=True, metavar="DIR")
    audit.set_defaults(run=_cmd_audit)

    self_review = commands.add_parser(
        "self-review", help="an officer's own lookups, masked (handbook 9)"
    )
    _add_source(self_review)
    self_review.add_argument("--officer", required=True, metavar="ID")
    _add_period(self_review)
    self_review.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    self_review.add_argument("--sign", metavar="KEYFILE")
    self_review.add_argument("--out", required=True, metavar="DIR")
    self_review.set_defaults(run=_cmd_self_review)

    batch = commands.add_parser("batch", help="every item of a court request or scheduled audit")
    batch.add_argument("request", metavar="REQUEST.yaml")
    _add_source(batch)
    batch.add_argument("--out", required=True, metavar="DIR")
    batch.add_argument("--jobs", type=int, metavar="N", help="items at once (default: cores)")
    batch.set_defaults(run=_cmd_batch)

    verify = commands.add_parser("verify", help="check a bundle against its manifest")
    verify.add_argument("bundle_dir", metavar="BUNDLE_DIR")
    verify.add_argument("--expect", metavar="HASH", help="the manifest SHA-256 of the case file")
    verify.add_argument("--pubkey", metavar="FILE", help="check manifest.sig with this public key")
    verify.set_defaults(run=_cmd_verify)

    keygen = commands.add_parser("keygen", help="make an Ed25519 key pair for signing bundles")
    keygen.add_argument("--private", required=True, metavar="FILE")
    keygen.add_argument("--public", required=True, metavar="FILE")
    keygen.set_defaults(run=_cmd_keygen)

    from kit.case.commands import add_case_commands

    add_case_commands(commands, date_type=cli_date)

    demo = commands.add_parser("demo", help="run the kit on sample_logs/ and say where it wrote")
    demo.add_argument("--out", default="demo_out", metavar="DIR")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kit`` command; return its exit status."""
    from kit.startup import skip_slow_format_checks

    skip_slow_format_checks()
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "out", None) and args.command == "screen":
        if Path(args.out).suffix.lower() not in {".csv", ".parquet"}:
            parser.error("--out must end in .csv or .parquet")
    from kit.bundle.run import KernelStartError

    try:
        return int(args.run(args))
    except KernelStartError as error:
        if args.debug:
            traceback.print_exc()
        print(f"kit: error: {error}", file=sys.stderr)
        return EXIT_KERNEL
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
