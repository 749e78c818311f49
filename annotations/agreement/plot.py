"""Inline SVG of alpha per dimension by annotator group with interval whiskers (no JS).

Built server-side from the report dict; every number placed in the markup is a float we
formatted, and every text is escaped."""

from __future__ import annotations

from html import escape

PALETTE = ("#1f6feb", "#d1495b", "#2a9d8f", "#e9a23b", "#6c5ce7", "#8d6e63", "#00838f", "#5f6b7a")


def alpha_by_group_svg(report: dict, attribute: str | None = None, *, width: int = 640, row_height: int = 16) -> str:
    """Horizontal dot plot: one band per dimension, one dot per group (or "all" without
    ``attribute``), whiskers for alpha_ci, x axis from -0.2 to 1. Returns "" with no data."""
    series: list[tuple[str, dict]] = [("all", report.get("dimensions", {}))]
    if attribute:
        series = [(value, entry["dimensions"]) for value, entry in report.get("groups", {}).get(attribute, {}).items()]
    names = list(report.get("dimensions", {}))
    if not names or not series:
        return ""
    left, right, top = 150, 20, 24
    band = row_height * len(series) + 10
    height = top + band * len(names) + 30
    low_x, high_x = -0.2, 1.0

    def x(value: float) -> float:
        value = min(max(value, low_x), high_x)
        return left + (value - low_x) / (high_x - low_x) * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Krippendorff alpha per dimension{" by " + escape(attribute) if attribute else ""}">'
    ]
    for tick in (-0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 6}" y2="{height - 24}" stroke="#ddd"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 8}" font-size="11" text-anchor="middle">{tick:.1f}</text>')
    for d, name in enumerate(names):
        y0 = top + d * band
        parts.append(f'<text x="4" y="{y0 + band / 2:.1f}" font-size="12">{escape(name)}</text>')
        for s, (group, dimensions) in enumerate(series):
            figures = dimensions.get(name) or {}
            alpha = figures.get("krippendorff_alpha")
            y = y0 + 5 + s * row_height + row_height / 2
            colour = PALETTE[s % len(PALETTE)]
            label = f"{group}: " + ("n/a" if alpha is None else f"{alpha:.3f}")
            if figures.get("alpha_ci"):
                low, high = figures["alpha_ci"]
                label += f" [{low:.3f}, {high:.3f}]"
                parts.append(f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                             f'stroke="{colour}" stroke-width="2"/>')
            if alpha is not None:
                parts.append(f'<circle cx="{x(alpha):.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                             f'<title>{escape(name)} — {escape(label)}</title></circle>')
    for s, (group, _) in enumerate(series):
        parts.append(f'<text x="{left + s * 110}" y="14" font-size="11" fill="{PALETTE[s % len(PALETTE)]}">'
                     f'● {escape(str(group))}</text>')
    parts.append("</svg>")
    return "".join(parts)
