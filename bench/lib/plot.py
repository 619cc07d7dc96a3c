"""A log-log line chart as hand-written SVG, and the fan-out results it plots.

No plotting library: the chart is a few dozen SVG elements (axes, decade
grid, one polyline per series, markers, the targets), readable in a browser
and on GitHub, and diffable in review.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 800, 460
LEFT, RIGHT, TOP, BOTTOM = 78, 215, 64, 62  # margins around the plot area
FONT = "font-family='Helvetica, Arial, sans-serif'"
# The steady-phase fan-out targets of issue 6: p99 at S subscribers.
FANOUT_TARGETS = ((1000, 50.0), (10000, 250.0))


@dataclass
class Series:
    name: str
    color: str
    dash: str  # stroke-dasharray, "" for solid
    marker: str  # "circle", "square" or "triangle"
    points: list[tuple[float, float]] = field(default_factory=list)  # (S, ms)


@dataclass(frozen=True)
class Target:
    x: float
    y: float
    label: str


STYLES = {
    "ours": ("ours (ticketing)", "#1f5fbf", "", "circle"),
    "ceiling": ("ceiling (websockets broadcast)", "#2a9d4b", "7 4", "square"),
    "naive": ("naive (strawberry per socket)", "#e07b00", "2 3", "triangle"),
}


def fanout_series(results: Path, phase: str = "steady") -> tuple[list[Series], list[str]]:
    """p99 by S for each target (ours, ceiling, naive), from the newest result
    file that measured that target at that S; and the files used."""
    newest: dict[str, dict[int, tuple[float, str]]] = {}
    # The timestamp in the name sorts the files oldest first; newer ones overwrite.
    for path in sorted(results.glob("fanout-*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for run in document.get("runs", []):
            for name, measured in run.get("targets", {}).items():
                p99 = measured.get(phase, {}).get("latency_ms", {}).get("p99")
                if p99 is not None and p99 > 0:
                    newest.setdefault(name, {})[int(run["subscribers"])] = (float(p99), path.name)
    series = []
    used: set[str] = set()
    for name, (label, color, dash, marker) in STYLES.items():
        by_size = newest.get(name, {})
        if by_size:
            series.append(
                Series(label, color, dash, marker, [(s, by_size[s][0]) for s in sorted(by_size)])
            )
            used |= {file for _, file in by_size.values()}
    return series, sorted(used)


def _decades(low: float, high: float) -> tuple[int, int]:
    return math.floor(math.log10(low)), math.ceil(math.log10(high))


def _axis_ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def _value_ms(value: float) -> str:
    """A measured latency, to two or three significant digits."""
    if value < 10:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    seconds = value / 1000
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _count_label(value: float) -> str:
    """100, 1k, 5k, 10k: short enough for neighbouring ticks on a log axis."""
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _marker(kind: str, x: float, y: float, color: str) -> str:
    if kind == "square":
        return f"<rect x='{x - 4:.1f}' y='{y - 4:.1f}' width='8' height='8' fill='{color}'/>"
    if kind == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"
        return f"<polygon points='{points}' fill='{color}'/>"
    return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4.5' fill='{color}'/>"


def render(
    series: list[Series],
    targets: list[Target],
    *,
    title: str,
    subtitle: str,
    x_label: str,
    y_label: str,
    footnote: str = "",
) -> str:
    """A log-log chart: both axes span whole decades around every point and target."""
    xs = [x for s in series for x, _ in s.points] + [t.x for t in targets]
    ys = [y for s in series for _, y in s.points] + [t.y for t in targets]
    # x spans the points with a margin; y spans whole decades (labelled).
    x_low, x_high = math.log10(min(xs) / 1.6), math.log10(max(xs) * 1.6)
    y_low, y_high = _decades(min(ys) / 1.5, max(ys) * 1.2)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (math.log10(x) - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (math.log10(y) - y_low) / (y_high - y_low) * plot_h

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' {FONT} font-size='12'>",
        f"<rect width='{WIDTH}' height='{HEIGHT}' fill='white'/>",
        f"<text x='{LEFT}' y='24' font-size='16' font-weight='bold'>{escape(title)}</text>",
        f"<text x='{LEFT}' y='43' fill='#555'>{escape(subtitle)}</text>",
    ]
    # Grid: decades strong, 2x and 5x faint; labels on decades (and S ticks below).
    for decade in range(y_low, y_high + 1):
        for factor in (1, 2, 5):
            value = factor * 10.0**decade
            if value > 10.0**y_high:
                break
            y = py(value)
            stroke = "#ccc" if factor == 1 else "#eee"
            out.append(
                f"<line x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + plot_w}' y2='{y:.1f}' "
                f"stroke='{stroke}'/>"
            )
            if factor == 1 or y_high - y_low <= 2:
                out.append(
                    f"<text x='{LEFT - 8}' y='{y + 4:.1f}' text-anchor='end'>"
                    f"{escape(_axis_ms(value))}</text>"
                )
    decades = range(math.ceil(x_low), math.floor(x_high) + 1)
    ticks = sorted({10.0**d for d in decades} | set(xs))
    for value in ticks:
        x = px(value)
        out.append(
            f"<line x1='{x:.1f}' y1='{TOP}' x2='{x:.1f}' y2='{TOP + plot_h}' stroke='#eee'/>"
        )
        out.append(
            f"<text x='{x:.1f}' y='{TOP + plot_h + 18}' text-anchor='middle'>"
            f"{escape(_count_label(value))}</text>"
        )
    out += [
        f"<rect x='{LEFT}' y='{TOP}' width='{plot_w}' height='{plot_h}' fill='none' "
        "stroke='#888'/>",
        f"<text x='{LEFT + plot_w / 2:.1f}' y='{HEIGHT - 22}' text-anchor='middle'>"
        f"{escape(x_label)}</text>",
        f"<text transform='translate(20 {TOP + plot_h / 2:.1f}) rotate(-90)' "
        f"text-anchor='middle'>{escape(y_label)}</text>",
    ]
    # Targets: a dashed red line through them, a bar at each with its label.
    if targets:
        path = " ".join(f"{px(t.x):.1f},{py(t.y):.1f}" for t in targets)
        out.append(
            f"<polyline points='{path}' fill='none' stroke='#d62728' stroke-width='1.5' "
            "stroke-dasharray='5 4'/>"
        )
        for target in targets:
            x, y = px(target.x), py(target.y)
            out.append(
                f"<line x1='{x - 9:.1f}' y1='{y:.1f}' x2='{x + 9:.1f}' y2='{y:.1f}' "
                "stroke='#d62728' stroke-width='3'/>"
            )
            out.append(
                f"<text x='{x - 12:.1f}' y='{y - 7:.1f}' fill='#d62728' text-anchor='end'>"
                f"{escape(target.label)}</text>"
            )
    for line in series:
        points = [(px(x), py(y)) for x, y in line.points]
        dash = f" stroke-dasharray='{line.dash}'" if line.dash else ""
        out.append(
            "<polyline points='"
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + f"' fill='none' stroke='{line.color}' stroke-width='2.2'{dash}/>"
        )
        # Values beside the points: below for the ceiling (the lowest line), else above.
        below = line.marker == "square"
        for (x, y), (_, value) in zip(points, line.points, strict=True):
            out.append(_marker(line.marker, x, y, line.color))
            out.append(
                f"<text x='{x + 7:.1f}' y='{y + 16 if below else y - 7:.1f}' "
                f"fill='{line.color}' font-size='11'>{escape(_value_ms(value))}</text>"
            )
    # Legend, right of the plot.
    legend_x, legend_y = LEFT + plot_w + 16, TOP + 8
    entries = [(s.name, s.color, s.dash, s.marker) for s in series]
    for index, (name, color, dash, marker) in enumerate(entries):
        y = legend_y + index * 40
        dashed = f" stroke-dasharray='{dash}'" if dash else ""
        out.append(
            f"<line x1='{legend_x}' y1='{y}' x2='{legend_x + 26}' y2='{y}' stroke='{color}' "
            f"stroke-width='2.2'{dashed}/>"
        )
        out.append(_marker(marker, legend_x + 13, y, color))
        words = name.split(" (", 1)
        out.append(f"<text x='{legend_x + 34}' y='{y + 4}'>{escape(words[0])}</text>")
        if len(words) > 1:
            out.append(
                f"<text x='{legend_x + 34}' y='{y + 18}' fill='#555' font-size='10.5'>"
                f"({escape(words[1])}</text>"
            )
    if targets:
        y = legend_y + len(entries) * 40
        out.append(
            f"<line x1='{legend_x}' y1='{y}' x2='{legend_x + 26}' y2='{y}' stroke='#d62728' "
            "stroke-width='1.5' stroke-dasharray='5 4'/>"
        )
        out.append(f"<text x='{legend_x + 34}' y='{y + 4}' fill='#d62728'>target</text>")
    if footnote:
        out.append(
            f"<text x='{LEFT}' y='{HEIGHT - 6}' fill='#777' font-size='10'>"
            f"{escape(footnote)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _footnote(files: list[str]) -> str:
    days = sorted({name.split("-", 1)[1][:8] for name in files})
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return (
        f"Newest bench/results/fanout-*.json per S and target ({len(files)} file"
        f"{'s' if len(files) != 1 else ''}, {span}); each records the machine's load."
    )


def fanout_chart(results: Path, phase: str = "steady") -> tuple[str, list[str]]:
    """The fan-out p99 chart from the result files; and which files it used."""
    series, files = fanout_series(results, phase)
    if not series:
        raise FileNotFoundError(f"no fanout-*.json with a {phase} p99 in {results}")
    targets = [Target(s, ms, f"≤ {ms:g} ms at {s:,}") for s, ms in FANOUT_TARGETS]
    phase_text: dict[str, Any] = {
        "steady": "steady phase (20 messages/s)",
        "burst": "back-to-back phase",
    }
    return (
        render(
            series,
            targets if phase == "steady" else [],
            title="Fan-out to one ticket: p99 latency by subscribers",
            subtitle=f"sendMessage to receipt, over all deliveries, {phase_text.get(phase, phase)}",
            x_label="subscribers S (log scale)",
            y_label="p99 latency (log scale)",
            footnote=_footnote(files),
        ),
        files,
    )
