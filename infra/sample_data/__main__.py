"""``python -m infra.sample_data [--seed N] [--scale X] [--out DIR]``: write the sample files.

Defaults come from the project settings (``NAVIYAM_SAMPLE_SEED``, ``NAVIYAM_SAMPLE_SCALE``,
``NAVIYAM_DATA_DIR``), so a bare call writes exactly where the ingest looks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.settings import get_settings

from .generator import generate


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.sample_data", description=__doc__)
    parser.add_argument("--seed", type=int, default=settings.sample_seed)
    parser.add_argument("--scale", type=float, default=settings.sample_scale)
    parser.add_argument("--out", type=Path, default=settings.sample_dir)
    args = parser.parse_args(argv)
    summary = generate(args.seed, args.scale, args.out)
    print(f"wrote {summary.workbook} and {summary.hidden_truth} in {summary.seconds:.1f}s")
    for sheet, count in summary.rows.items():
        print(f"  {sheet:<20} {count:>9,}")


if __name__ == "__main__":
    main()
