"""The fan-out chart: p99 latency against subscribers S, ours and the references.

Reads the newest bench/results/fanout-*.json per S and target and writes
docs/fanout-p99.svg (hand-written SVG, lib/plot.py), with the targets of
issue 6 marked (50 ms at 1,000 subscribers, 250 ms at 10,000).

    .venv/bin/python bench/plot.py
    .venv/bin/python bench/plot.py --phase burst --output /tmp/fanout-burst-p99.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lib.plot import fanout_chart
from lib.report import PERFORMANCE, RESULTS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON files are")
    parser.add_argument(
        "--output", type=Path, default=PERFORMANCE.parent / "fanout-p99.svg", help="the SVG"
    )
    parser.add_argument("--phase", choices=("steady", "burst"), default="steady")
    args = parser.parse_args()
    svg, files = fanout_chart(args.results, args.phase)
    args.output.write_text(svg)
    print(f"{args.output}: from {', '.join(files)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
