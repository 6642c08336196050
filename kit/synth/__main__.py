"""Command line of the generator.

``python -m kit.synth OUT_DIR --seed N --officers N --months N
[--start YYYY-MM] [--messy/--clean]``.
"""

from __future__ import annotations

import argparse
import sys

from kit.synth.generate import generate


def main(argv: list[str] | None = None) -> int:
    """Run the generator from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m kit.synth", description=__doc__)
    parser.add_argument("out_dir", help="folder to write (emptied first)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--officers", type=int, default=60)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--start", default="2023-01", help="first month, YYYY-MM")
    parser.add_argument(
        "--messy", dest="messy", action="store_true", default=True, help="messy exports (default)"
    )
    parser.add_argument(
        "--clean", dest="messy", action="store_false", help="clean UTF-8 CSV exports"
    )
    args = parser.parse_args(argv)
    try:
        key = generate(
            args.out_dir,
            seed=args.seed,
            officers=args.officers,
            months=args.months,
            start=args.start,
            messy=args.messy,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files, planted = key["files"], key["planted_lookups"]
    negatives = key["hard_negatives"]
    assert isinstance(files, list) and isinstance(planted, list) and isinstance(negatives, list)
    print(
        f"wrote {args.out_dir}: {key['distinct_valid_lookups']} lookups, {len(files)} files, "
        f"{len(planted)} planted, {len(negatives)} hard negatives"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
