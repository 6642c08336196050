"""Make one bundle in its own process: ``python -m kit.bundle investigate|subject …``.

This is what each item of ``kit batch`` runs, so that items are isolated
processes. Exit status: 0 the bundle is written (its manifest hash on
stdout), 1 it failed (one line on stderr), 3 the Jupyter kernel did not start
(the batch retries these).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kit.errors import KitError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_KERNEL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the single-bundle command."""
    parser = argparse.ArgumentParser(prog="python -m kit.bundle")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("investigate", "subject"):
        sub = commands.add_parser(name)
        sub.add_argument("--store", required=True, metavar="DIR")
        sub.add_argument("--out", required=True, metavar="DIR")
        sub.add_argument("--from", dest="start", metavar="DATE")
        sub.add_argument("--to", dest="end", metavar="DATE")
        sub.add_argument("--reveal", action="store_true")
        sub.add_argument("--lang", default="zh-TW", choices=("zh-TW", "en"))
        sub.add_argument("--case-ref", metavar="TEXT")
        sub.add_argument("--investigator", metavar="NAME")
        sub.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
        if name == "investigate":
            sub.add_argument("--officer", required=True, metavar="ID")
        else:
            sub.add_argument("--id", dest="ids", action="append", required=True, metavar="ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Make one bundle; return the exit status."""
    from kit.bundle.make import investigate, subject_review
    from kit.bundle.run import KernelStartError

    args = build_parser().parse_args(argv)
    common = {
        "start": args.start,
        "end": args.end,
        "reveal": args.reveal,
        "lang": args.lang,
        "case_ref": args.case_ref,
        "investigator": args.investigator,
        "timeout": args.timeout,
    }
    try:
        if args.command == "investigate":
            result = investigate(Path(args.store), args.officer, Path(args.out), **common)
        else:
            result = subject_review(Path(args.store), args.ids, Path(args.out), **common)
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
