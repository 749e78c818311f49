"""Geometry for the two result plots, drawn as inline SVG by the templates (no JavaScript).

The functions here only place things: they turn report records into rows of coordinates in a
fixed-size viewBox, and the templates ``studies/analysis/_winrate_plot.html`` and
``_bt_plot.html`` draw them (Django escapes every label). Keeping the arithmetic in plain Python
lets it be tested without a browser.
"""

from __future__ import annotations

WIDTH = 640
LABEL_WIDTH = 220
ROW_HEIGHT = 26
TOP = 24
BOTTOM = 30
RIGHT_PAD = 56


def _x(value: float, low: float, high: float) -> float:
    span = high - low or 1.0
    return round(LABEL_WIDTH + (value - low) / span * (WIDTH - LABEL_WIDTH - RIGHT_PAD), 2)


def winrate_plot(comparisons: list[dict]) -> dict:
    """Forest plot of ``win_rate_a`` with Wilson intervals, one row per comparison, on a 0–1 axis.

    Returns ``{"width", "height", "rows": [{"label", "y", "x", "x_low", "x_high", "value"}],
    "ticks": [{"x", "label"}], "x_half", "axis_y"}``; comparisons without decisive judgments
    are listed with ``x`` None so that the table and the plot keep the same rows.
    """
    rows = []
    for i, record in enumerate(comparisons):
        y = TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2
        rate, ci = record.get("win_rate_a"), record.get("win_rate_a_ci")
        rows.append(
            {
                "label": f"{record['criterion']}: {record['system_a']} vs {record['system_b']}",
                "y": y,
                "x": None if rate is None else _x(rate, 0, 1),
                "x_low": None if ci is None else _x(ci[0], 0, 1),
                "x_high": None if ci is None else _x(ci[1], 0, 1),
                "value": rate,
            }
        )
    height = TOP + len(rows) * ROW_HEIGHT + BOTTOM
    ticks = [{"x": _x(t, 0, 1), "label": f"{t:g}"} for t in (0, 0.25, 0.5, 0.75, 1)]
    return {
        "width": WIDTH,
        "height": height,
        "rows": rows,
        "ticks": ticks,
        "x_half": _x(0.5, 0, 1),
        "axis_y": height - BOTTOM,
        "top": TOP,
    }


def bt_plot(strengths: dict[str, dict]) -> dict:
    """Dot-and-interval plot of Bradley–Terry strengths, strongest first, on a shared log scale.

    Returns the same shape as :func:`winrate_plot`, with ``x_zero`` instead of ``x_half``.
    """
    ordered = sorted(strengths.items(), key=lambda item: -item[1]["strength"])
    values = [v["strength"] for _, v in ordered]
    for _, v in ordered:
        if v.get("ci"):
            values += v["ci"]
    low, high = (min(values + [0.0]), max(values + [0.0])) if values else (-1.0, 1.0)
    pad = (high - low) * 0.05 or 0.5
    low, high = low - pad, high + pad
    rows = []
    for i, (name, v) in enumerate(ordered):
        ci = v.get("ci")
        rows.append(
            {
                "label": name,
                "y": TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2,
                "x": _x(v["strength"], low, high),
                "x_low": None if not ci else _x(ci[0], low, high),
                "x_high": None if not ci else _x(ci[1], low, high),
                "value": v["strength"],
            }
        )
    height = TOP + len(rows) * ROW_HEIGHT + BOTTOM
    ticks = [
        {"x": _x(low + (high - low) * k / 4, low, high), "label": f"{low + (high - low) * k / 4:.2f}"}
        for k in range(5)
    ]
    return {
        "width": WIDTH,
        "height": height,
        "rows": rows,
        "ticks": ticks,
        "x_zero": _x(0.0, low, high),
        "axis_y": height - BOTTOM,
        "top": TOP,
    }
