"""A small grouped bar chart drawn as inline SVG on the server (no JavaScript, no CDN)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape

PALETTE = (
    "#2f6db5",
    "#e07b39",
    "#3a9d5d",
    "#c0392b",
    "#8e6bbf",
    "#8c6d46",
    "#d16ba5",
    "#7f8c8d",
    "#b5a42f",
    "#17a2b8",
    "#5d6d7e",
    "#a04000",
    "#1e8449",
    "#6c3483",
)


def _nice_step(maximum: Decimal) -> Decimal:
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / 5
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.1")
    for factor in (1, 2, 2.5, 5, 10):
        step = magnitude * Decimal(str(factor))
        if step >= raw:
            return step
    return magnitude * 10


def _amount(value: Decimal) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[tuple[str, str]],
    values: Mapping[tuple[str, str], Decimal],
    *,
    unit: str = "万元",
    scale: Decimal = Decimal(10000),
    title: str = "",
) -> str:
    """SVG markup: one group of bars per `groups` entry (years), one bar per series (kind code, label);
    `values[(group, series code)]` in 元, drawn in `unit` (元 / `scale`)."""
    if not groups or not series:
        return ""
    scaled = {key: value / scale for key, value in values.items()}
    top = max(scaled.values(), default=Decimal(0))
    step = _nice_step(top)
    ceiling = step * max(1, int((top / step).to_integral_value(rounding="ROUND_CEILING")))
    bar, gap = 16, 28
    group_width = bar * len(series) + gap
    left, right, top_pad, bottom = 78, 12, 30, 44
    legend_rows = (len(series) + 2) // 3
    plot_h = 220
    width = left + right + group_width * len(groups)
    width = max(width, left + 3 * 200 + right)  # room for the legend's three columns
    height = top_pad + plot_h + bottom + 18 * legend_rows
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}（{escape(unit)}）</text>',
    ]
    ticks = int(ceiling / step)
    for i in range(ticks + 1):
        value = step * i
        y = top_pad + plot_h - float(value / ceiling) * plot_h
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_amount(value)}</text>'
        )
    for g, group in enumerate(groups):
        x0 = left + gap / 2 + g * group_width
        for s, (code, label) in enumerate(series):
            bar_value = scaled.get((group, code))
            if bar_value is None:
                continue
            value = bar_value
            h = float(value / ceiling) * plot_h if ceiling else 0
            x = x0 + s * bar
            y = top_pad + plot_h - h
            colour = PALETTE[s % len(PALETTE)]
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2}" height="{max(h, 0.5):.1f}" fill="{colour}">'
                f"<title>{escape(group)} {escape(label)}: {_amount(value)} {escape(unit)}</title></rect>"
            )
        label_x = x0 + bar * len(series) / 2
        out.append(
            f'<text x="{label_x:.1f}" y="{top_pad + plot_h + 18}" text-anchor="middle" class="group">'
            f"{escape(group)}</text>"
        )
    for s, (_code, label) in enumerate(series):
        row, column = divmod(s, 3)
        x = left + column * 200
        y = top_pad + plot_h + bottom + row * 18 - 6
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 16}" y="{y}" class="legend">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
