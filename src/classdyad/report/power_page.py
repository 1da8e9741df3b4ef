"""A power analysis as one HTML page: power curves as inline SVG, and the tables.

One panel per hypothesis shows the power of its key estimates
(:func:`classdyad.simulate.power_results.key_estimates`) against the number of classes, with the
exact 95 % interval as a band's whiskers and the target power as a dashed line; the other design
dimensions (students per class, waves, lessons) split the lines. Numbers are rounded here only.
"""

from __future__ import annotations

import html
import os

import pandas as pd

from classdyad.report.figures import OKABE_ITO
from classdyad.simulate.power_results import PowerResult, key_estimates

__all__ = ["power_curves_svg", "power_page", "write_power_page"]

_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 300, 56, 16, 16, 44


def _label(row: pd.Series) -> str:
    parts = [str(row["outcome"]), str(row["effect"])]
    if row["contrast"] and row["contrast"] != row["effect"]:
        parts.append(str(row["contrast"]))
    if row["level"]:
        parts.append(str(row["level"]))
    return " / ".join(parts)


def power_curves_svg(table: pd.DataFrame, *, target: float, title: str
                     ) -> tuple[str, list[tuple[str, str, str]]]:
    """One SVG panel: power against classes, one line per estimate and other design values.

    Returns the SVG text and its legend: (series name, colour, dash pattern) per line.
    """
    legend: list[tuple[str, str, str]] = []
    if table.empty:
        return "", legend
    low, high = float(table["classes"].min()), float(table["classes"].max())
    span = max(high - low, 1.0)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def x(value: float) -> float:
        return _LEFT + (plot_w * 0.5 if high == low else (value - low) / span * plot_w)

    def y(value: float) -> float:
        return _TOP + (1.0 - value) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
             f'role="img" aria-label="{html.escape(title)}" font-family="DejaVu Sans, sans-serif"'
             ' font-size="11">']
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{tick:.1f}</text>')
    for value in sorted(table["classes"].unique()):
        parts.append(f'<text x="{x(value):.1f}" y="{_HEIGHT - _BOTTOM + 16}" '
                     f'text-anchor="middle">{int(value)}</text>')
    parts.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 6}" text-anchor="middle">'
                 'classes</text>')
    parts.append(f'<text x="14" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {_TOP + plot_h / 2:.1f})">power</text>')
    parts.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(target):.1f}" '
                 f'y2="{y(target):.1f}" stroke="#000" stroke-dasharray="5 4"/>')
    series = table.assign(_label=table.apply(_label, axis=1))
    others = ["students_per_class", "waves", "lessons_per_wave"]
    varying = [c for c in others if series[c].nunique() > 1]
    for k, (key, part) in enumerate(series.groupby(["_label", *varying], sort=False)):
        colour = OKABE_ITO[k % (len(OKABE_ITO) - 1)]
        dash = ("", "6 3", "2 2", "8 3 2 3")[(k // (len(OKABE_ITO) - 1)) % 4]
        part = part.sort_values("classes")
        name = key[0] if isinstance(key, tuple) else key
        if varying:
            name += " (" + ", ".join(f"{c} {v:g}" for c, v in zip(varying, key[1:],
                                                                    strict=True)) + ")"
        points = " ".join(f"{x(c):.1f},{y(p):.1f}" for c, p in
                          zip(part["classes"], part["power"].fillna(0.0), strict=True))
        legend.append((name, colour, dash))
        parts.append(f'<g><title>{html.escape(name)}</title>'
                     f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     f'stroke-width="1.5" stroke-dasharray="{dash}"/>')
        for row in part.itertuples():
            if pd.notna(row.ci_low):
                parts.append(f'<line x1="{x(row.classes):.1f}" x2="{x(row.classes):.1f}" '
                             f'y1="{y(row.ci_low):.1f}" y2="{y(row.ci_high):.1f}" '
                             f'stroke="{colour}" stroke-opacity="0.5"/>')
            if pd.notna(row.power):
                parts.append(f'<circle cx="{x(row.classes):.1f}" cy="{y(row.power):.1f}" r="2.5"'
                             f' fill="{colour}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts), legend


def _table_html(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    for column in ("power", "mc_se", "ci_low", "ci_high", "best_power"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return shown.to_html(index=False, border=0, classes="power", na_rep="")


def power_page(result: PowerResult) -> str:
    """The whole page as HTML text."""
    target = float(result.settings.get("target", 0.8))
    settings = result.settings
    sections = []
    key = key_estimates(result.table)
    for hypothesis, part in key.groupby("hypothesis", sort=True):
        svg, legend = power_curves_svg(part, target=target, title=f"Power of {hypothesis}")
        items = "".join(
            f'<li><svg width="28" height="8"><line x1="0" x2="28" y1="4" y2="4" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/></svg> '
            f"{html.escape(name)}</li>" for name, colour, dash in legend)
        sections.append(f"<h2>{hypothesis}</h2>{svg}<ul class=\"legend\">{items}</ul>")
    columns = ["hypothesis", "outcome", "effect", "contrast", "level", "classes",
               "students_per_class", "waves", "lessons_per_wave", "power", "mc_se", "ci_low",
               "ci_high", "n_replicates", "n_failed", "n_nonconverged", "n_singular"]
    summary = html.escape(
        f"hypotheses {', '.join(settings.get('hypotheses', []))}; alpha "
        f"{settings.get('alpha')}; adjustment {settings.get('adjustment')}; "
        f"{'null effects; ' if settings.get('null') else ''}seed {settings.get('seed')}; "
        f"target power {target}")
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Power analysis</title><style>body{font-family:sans-serif;max-width:70em;"
        "margin:2em auto}table.power{border-collapse:collapse;font-size:0.85em}"
        "table.power td,table.power th{padding:2px 6px;border-bottom:1px solid #ddd}"
        "ul.legend{font-size:0.85em;list-style:none;padding-left:0}</style></head><body>"
        f"<h1>Power analysis</h1><p>{summary}</p>"
        f"<h2>Implied model</h2><pre>{html.escape(result.implied_model)}</pre>"
        + "".join(sections)
        + f"<h2>Smallest design reaching power {target}</h2>"
        + _table_html(result.smallest)
        + "<h2>Key estimates</h2>" + _table_html(key.reindex(columns=columns))
        + "<p>Power counts fitted replicates only; failed fits are counted beside it "
        "(n_failed), never as non-rejections. The interval is the exact (Clopper-Pearson) 95 % "
        "interval.</p></body></html>")


def write_power_page(result: PowerResult, path: str | os.PathLike[str]) -> None:
    """Write :func:`power_page` to ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(power_page(result))
