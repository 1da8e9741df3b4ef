"""The teacher feedback page's figures: small inline SVG drawn directly (no plotting library).

Each function returns the SVG text of one figure (``<svg class="figure" ...>`` with a ``<title>``
for screen readers), with numbers written by the page's number formatter so that the decimal mark
follows the language. Colours are from the Okabe-Ito palette (:data:`OKABE_ITO` of
:mod:`classdyad.report.figures`): vermillion marks flagged students, blue the class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

__all__ = ["IntervalRow", "interval_chart", "lorenz_chart", "trend_chart"]

FLAG = "#D55E00"
CLASS = "#0072B2"
INK = "#1a1a1a"
MUTED = "#777777"
SECOND = "#009E73"

NumberText = Callable[[float, int], str]


@dataclass(frozen=True)
class IntervalRow:
    """One student's estimate and interval in an :func:`interval_chart`."""

    label: str
    estimate: float
    low: float
    high: float
    flagged: bool = False


def _nice_ticks(upper: float, count: int = 5) -> list[float]:
    if not upper > 0 or not math.isfinite(upper):
        return [0.0, 1.0]
    raw = upper / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.floor(upper / step) + 1)]


def _digits(ticks: Sequence[float]) -> int:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return 0 if step >= 1 else (1 if step >= 0.1 else 2)


def _svg(width: float, height: float, title: str, body: list[str]) -> Markup:
    head = (f'<svg class="figure" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def interval_chart(rows: Sequence[IntervalRow], *, title: str, axis_label: str,
                   class_rate: float, class_low: float, class_high: float,
                   class_label: str, number: NumberText) -> Markup:
    """Students' shrunken rates with intervals, the class's typical rate as a band and line."""
    left, right, top, row_height = 170.0, 20.0, 24.0, 18.0
    width = 640.0
    plot = width - left - right
    highs = [r.high for r in rows if math.isfinite(r.high)] + [class_high]
    upper = max([h for h in highs if math.isfinite(h)] + [1.0]) * 1.05
    ticks = _nice_ticks(upper)
    upper = max(upper, ticks[-1])
    height = top + row_height * len(rows) + 46.0

    def x(value: float) -> float:
        return left + plot * min(max(value, 0.0), upper) / upper

    bottom = top + row_height * len(rows)
    body = []
    if all(math.isfinite(v) for v in (class_rate, class_low, class_high)):
        body.append(f'<rect x="{x(class_low):.1f}" y="{top - 6:.1f}" '
                    f'width="{max(x(class_high) - x(class_low), 1.0):.1f}" '
                    f'height="{bottom - top + 6:.1f}" fill="{CLASS}" fill-opacity="0.12"/>')
        body.append(f'<line x1="{x(class_rate):.1f}" x2="{x(class_rate):.1f}" y1="{top - 6:.1f}" '
                    f'y2="{bottom:.1f}" stroke="{CLASS}" stroke-width="1.5"/>')
        body.append(f'<text x="{x(class_rate) + 4:.1f}" y="{top - 10:.1f}" fill="{CLASS}">'
                    f"{escape(class_label)}</text>")
    for i, row in enumerate(rows):
        y = top + row_height * (i + 0.5)
        colour = FLAG if row.flagged else INK
        weight = ' font-weight="bold"' if row.flagged else ""
        body.append(f'<text x="{left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                    f'fill="{colour}"{weight}>{escape(row.label)}</text>')
        if not math.isfinite(row.estimate):
            continue
        body.append(f'<line x1="{x(row.low):.1f}" x2="{x(row.high):.1f}" y1="{y:.1f}" '
                    f'y2="{y:.1f}" stroke="{colour}" stroke-width="1.5"/>')
        body.append(f'<circle cx="{x(row.estimate):.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
    body.append(f'<line x1="{left:.1f}" x2="{left + plot:.1f}" y1="{bottom + 4:.1f}" '
                f'y2="{bottom + 4:.1f}" stroke="{MUTED}"/>')
    digits = _digits(ticks)
    for tick in ticks:
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{bottom + 4:.1f}" '
                    f'y2="{bottom + 8:.1f}" stroke="{MUTED}"/>')
        body.append(f'<text x="{x(tick):.1f}" y="{bottom + 20:.1f}" text-anchor="middle" '
                    f'fill="{MUTED}">{escape(number(tick, digits))}</text>')
    body.append(f'<text x="{left + plot / 2:.1f}" y="{bottom + 38:.1f}" text-anchor="middle">'
                f"{escape(axis_label)}</text>")
    return _svg(width, height, title, body)


def lorenz_chart(student_share: Sequence[float], interaction_share: Sequence[float], *,
                 title: str, x_label: str, y_label: str, number: NumberText) -> Markup:
    """The Lorenz curve with the line of equality."""
    size, margin = 200.0, 44.0
    width = height = size + margin + 16.0

    def px(value: float) -> float:
        return margin + size * value

    def py(value: float) -> float:
        return 8.0 + size * (1.0 - value)

    points = " ".join(f"{px(a):.1f},{py(b):.1f}"
                      for a, b in zip(student_share, interaction_share, strict=True))
    body = [f'<rect x="{margin}" y="8" width="{size}" height="{size}" fill="none" '
            f'stroke="{MUTED}"/>',
            f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(1):.1f}" y2="{py(1):.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="4 3"/>']
    if points:
        body.append(f'<polyline points="{points}" fill="none" stroke="{CLASS}" '
                    f'stroke-width="2"/>')
    for tick in (0.0, 0.5, 1.0):
        label = escape(number(100 * tick, 0)) + " %"
        body.append(f'<text x="{px(tick):.1f}" y="{py(0) + 15:.1f}" text-anchor="middle" '
                    f'fill="{MUTED}">{label}</text>')
        body.append(f'<text x="{margin - 4:.1f}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                    f'fill="{MUTED}">{label}</text>')
    body.append(f'<text x="{px(0.5):.1f}" y="{py(0) + 32:.1f}" text-anchor="middle">'
                f"{escape(x_label)}</text>")
    body.append(f'<text transform="translate(10 {py(0.5):.1f}) rotate(-90)" '
                f'text-anchor="middle">{escape(y_label)}</text>')
    return _svg(width, height, title, body)


def trend_chart(series: Sequence[tuple[str, Sequence[tuple[int, float, float, float]]]], *,
                title: str, x_label: str, y_label: str, wave_label: Callable[[int], str],
                number: NumberText) -> Markup:
    """Rates over waves with intervals: ``series`` is ``(name, [(wave, rate, low, high)])``."""
    width, height, left, top, bottom_margin = 420.0, 230.0, 52.0, 16.0, 52.0
    plot_w, plot_h = width - left - 110.0, height - top - bottom_margin
    waves = sorted({w for _, points in series for w, *_ in points})
    highs = [h for _, points in series for *_, h in points if math.isfinite(h)]
    ticks = _nice_ticks(max([*highs, 1.0]) * 1.05)
    upper = ticks[-1] if ticks[-1] > 0 else 1.0
    if max([*highs, 0.0]) > upper:
        upper = max(highs) * 1.05

    def px(wave: int) -> float:
        if len(waves) == 1:
            return left + plot_w / 2
        return left + plot_w * waves.index(wave) / (len(waves) - 1)

    def py(value: float) -> float:
        return top + plot_h * (1.0 - min(max(value, 0.0), upper) / upper)

    body = [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>',
            f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
            f'stroke="{MUTED}"/>']
    digits = _digits(ticks)
    for tick in ticks:
        body.append(f'<text x="{left - 6:.1f}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                    f'fill="{MUTED}">{escape(number(tick, digits))}</text>')
    for wave in waves:
        body.append(f'<text x="{px(wave):.1f}" y="{top + plot_h + 16:.1f}" '
                    f'text-anchor="middle" fill="{MUTED}">{escape(wave_label(wave))}</text>')
    colours = (FLAG, SECOND, CLASS)
    for k, (name, points) in enumerate(series):
        colour = colours[k % len(colours)]
        shift = (k - (len(series) - 1) / 2) * 5.0
        finite = [(w, r, lo, hi) for w, r, lo, hi in points if math.isfinite(r)]
        path = " ".join(f"{px(w) + shift:.1f},{py(r):.1f}" for w, r, _, _ in finite)
        if path:
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="1.5"/>')
        for w, r, lo, hi in finite:
            body.append(f'<line x1="{px(w) + shift:.1f}" x2="{px(w) + shift:.1f}" '
                        f'y1="{py(lo):.1f}" y2="{py(hi):.1f}" stroke="{colour}"/>')
            body.append(f'<circle cx="{px(w) + shift:.1f}" cy="{py(r):.1f}" r="3.5" '
                        f'fill="{colour}"/>')
        body.append(f'<text x="{left + plot_w + 10:.1f}" y="{top + 14 + 16 * k:.1f}" '
                    f'fill="{colour}">{escape(name)}</text>')
    body.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12:.1f}" '
                f'text-anchor="middle">{escape(x_label)}</text>')
    body.append(f'<text transform="translate(12 {top + plot_h / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle">{escape(y_label)}</text>')
    return _svg(width, height, title, body)
