"""Chart axes read as people count: 1, 2 or 5 × 10ⁿ yen a step."""

import pytest

from core import charts


@pytest.mark.parametrize(
    ("peak", "step"),
    [
        (0, 1),
        (3, 1),
        (8_796, 5_000),
        (6_596, 2_000),
        (10_000, 5_000),
        (123_456, 50_000),
        (1_234, 500),
    ],
)
def test_steps_are_round(peak, step):
    assert charts.nice_step(peak) == step


def test_the_axis_covers_the_peak_in_round_steps():
    chart = charts.bar_chart([("a", 8_796), ("b", 100)])
    values = [t["value"] for t in chart["ticks"]]
    assert values == [0, 5_000, 10_000]
    assert chart["bars"][0].height < chart["base"] - chart["ticks"][-1]["y"]
