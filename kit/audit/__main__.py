"""Make one audit bundle in its own process: ``python -m kit.audit --store S --month M --out D``.

For ``kit batch`` items (``audit: 2023-10``) and schedulers. Exit status: 0
the bundle is written (its manifest hash on stdout), 1 it failed (one line on
stderr), 2 a usage error, 3 the Jupyter kernel did not start (a batch
retries these) — as ``python -m kit.bundle``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kit.errors import KitError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_KERNEL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the single audit-bundle command."""
    parser = argparse.ArgumentParser(prog="python -m kit.audit")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--store", metavar="DIR", help="a store built by 'kit ingest'")
    source.add_argument("--data", metavar="DIR", help="a data folder, ingested into its cache")
    parser.add_argument("--month", required=True, metavar="YYYY-MM")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--unit", metavar="UNIT", help="the auditing unit: only units under it")
    parser.add_argument("--seed", type=int, metavar="N", help="sampling seed (default: drawn)")
    parser.add_argument(
        "--closer-audit", action="append", default=[], metavar="UNIT", help="repeatable (§十四)"
    )
    parser.add_argument("--auditor", metavar="NAME")
    parser.add_argument("--reveal", action="store_true")
    parser.add_argument("--lang", default="zh-TW", choices=("zh-TW", "en"))
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Make one audit bundle; return the exit status."""
    from kit.audit.bundle import run_audit
    from kit.bundle.run import KernelStartError

    args = build_parser().parse_args(argv)
    try:
        result = run_audit(
            Path(args.store if args.store is not None else args.data),
            args.month,
            Path(args.out),
            unit=args.unit,
            seed=args.seed,
            lang=args.lang,
            closer_audit=args.closer_audit,
            auditor=args.auditor,
            reveal=args.reveal,
            timeout=args.timeout,
        )
    except KernelStartError as error:
        print(f"kit: error: {error}", file=sys.stderr)
        return EXIT_KERNEL
    except KitError as error:
        print(f"kit: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print(result.manifest_hash)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
