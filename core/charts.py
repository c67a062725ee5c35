"""Server-side SVG bar charts: geometry computed here, drawn by templates/_bar_chart.html with
presentation attributes only (no inline style, no script), so the strict CSP holds."""

import math
from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 76, 28, 12
TICKS = 4


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def nice_step(peak: int, ticks: int = TICKS) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ yen step that covers `peak` in `ticks` steps, so the axis
    reads 2,000 / 4,000 / 6,000 円 rather than 2,199 / 4,398 / 6,596 円."""
    raw = max(peak, 1) / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        step = multiple * magnitude
        if step >= raw:
            return max(int(step), 1)
    raise AssertionError("unreachable")


def bar_chart(points: list[tuple[str, int]], *, labels: int = 8) -> dict:
    """Bars for (label, yen) pairs on a y-axis of round ticks; about `labels` x-axis labels."""
    step = nice_step(max((v for _l, v in points), default=0))
    top = step * max(math.ceil(max((v for _l, v in points), default=0) / step), 1)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        bars.append(
            Bar(
                x=round(LEFT + i * slot + slot * 0.1, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(max(slot * 0.8, 1), 1),
                height=round(h, 1),
                label=label,
                value=value,
            )
        )
    ticks = [
        {"y": round(TOP + plot_h - plot_h * k * step / top, 1), "value": k * step}
        for k in range(top // step + 1)
    ]
    every = max(math.ceil(len(points) / labels), 1)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "base": TOP + plot_h,
        "bars": bars,
        "ticks": ticks,
        "labels": [b for i, b in enumerate(bars) if i % every == 0 and b.x < WIDTH - 40],
    }


def share_bars(parts: list[tuple[str, int]]) -> dict:
    """One horizontal stacked bar of the parts' shares."""
    total = sum(v for _l, v in parts) or 1
    x, out = 0.0, []
    for label, value in parts:
        w = 600 * value / total
        out.append(
            {
                "x": round(x, 1),
                "width": round(w, 1),
                "label": label,
                "value": value,
                "percent": round(100 * value / total, 1),
            }
        )
        x += w
    return {"parts": out, "width": 600, "height": 48}
