"""Server-side SVG charts: geometry computed here, drawn by the template with presentation
attributes only (no inline style, no script), so the strict CSP holds."""

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 64, 28, 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def daily_bars(daily) -> dict:
    """Bars for (date, yen) pairs, with a y-axis scale of four ticks."""
    peak = max((v for _d, v in daily), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(daily), 1)
    bars = []
    for i, (day, value) in enumerate(daily):
        h = plot_h * value / peak
        bars.append(
            Bar(
                x=round(LEFT + i * step + step * 0.1, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(max(step * 0.8, 1), 1),
                height=round(h, 1),
                label=f"{day:%m/%d}",
                value=value,
            )
        )
    ticks = [
        {"y": round(TOP + plot_h - plot_h * i / 4, 1), "value": round(peak * i / 4)}
        for i in range(5)
    ]
    every = max(len(daily) // 8, 1)
    labels = [b for i, b in enumerate(bars) if i % every == 0 and b.x < WIDTH - 40]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "base": TOP + plot_h,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
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
