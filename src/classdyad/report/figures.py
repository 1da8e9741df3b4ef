"""The report's figures, drawn with matplotlib in the Okabe-Ito colour-blind-safe palette.

Each figure is kept as SVG text (inlined in the HTML, text left as text so it stays searchable)
and as a PNG (150 dpi) for slides and manuscripts. Figures are drawn on the object-oriented
``Figure`` API with the Agg canvas, never through pyplot's global state. SVG element ids are
salted with the figure name so that several SVGs can live in one HTML page.

Palette: Okabe & Ito (2008), *Color universal design*, https://jfly.uni-koeln.de/color/ — eight
colours distinguishable with every common form of colour-vision deficiency.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000",
             "#F0E442")  # yellow last: it is hard to see as a line on white
#: tick marks of rate-ratio axes (log scale)
_RATIO_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)

Translate = Callable[[str], str]
NumberText = Callable[[float, int], str]

_STYLE = {
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(OKABE_ITO)),
    "svg.fonttype": "none",
}


@dataclass(frozen=True)
class ReportFigure:
    """One figure: a file name (without extension), its caption, SVG text and PNG bytes."""

    name: str
    caption: str
    svg: str = field(repr=False)
    png: bytes = field(repr=False)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_NUMERIC_FORMATTERS = (matplotlib.ticker.ScalarFormatter, matplotlib.ticker.LogFormatter)


def _tick_text(number: NumberText) -> Callable[[float, object], str]:
    def text(value: float, _position: object) -> str:
        shown = f"{value:.3g}"
        digits = len(shown.partition(".")[2]) if "e" not in shown else 3
        return number(value, digits)
    return text


def localize_ticks(figure: Figure, number: NumberText) -> None:
    """Write the numeric tick labels with the report language's decimal mark."""
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, _NUMERIC_FORMATTERS):
                axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_tick_text(number)))
                axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def render(figure: Figure, name: str, caption: str,
           number: NumberText | None = None) -> ReportFigure:
    """Save ``figure`` as SVG text and PNG bytes (tick labels localized with ``number``)."""
    if number is not None:
        localize_ticks(figure, number)
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": name}):
        svg_buffer = io.StringIO()
        figure.savefig(svg_buffer, format="svg", metadata={"Date": None})
        figure.set_layout_engine("none")  # the layout is done; keep it for the PNG
        png_buffer = io.BytesIO()
        figure.savefig(png_buffer, format="png", dpi=150, metadata={"Software": None})
    svg = svg_buffer.getvalue()
    svg = _prefix_ids(svg[svg.index("<svg"):], name)
    svg = re.sub(r"<svg ", f'<svg class="figure" role="img" aria-label="{_attribute(caption)}" ',
                 svg, count=1)
    return ReportFigure(name=name, caption=caption, svg=svg, png=png_buffer.getvalue())


def _prefix_ids(svg: str, prefix: str) -> str:
    """Prefix every element id (and every reference to one) so that ids stay unique when
    several SVGs share one HTML page."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)


def _attribute(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def distribution_figure(values: pd.DataFrame, *, groups: Sequence[str], title: str,
                        axis_label: str, panel_titles: dict[str, str], name: str,
                        caption: str, number: NumberText) -> ReportFigure:
    """Box plots of rates per group, one panel per valence.

    ``values`` holds ``group`` and one column per key of ``panel_titles``.
    """
    figure = _figure(7.5, 3.2)
    axes = figure.subplots(1, len(panel_titles), sharey=False, squeeze=False)[0]
    present = [g for g in groups if g in set(values["group"])]
    for ax, (column, panel) in zip(axes, panel_titles.items(), strict=True):
        data = [values.loc[values["group"] == g, column].dropna().to_numpy() for g in present]
        box = ax.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.6,
                         flierprops={"marker": ".", "markersize": 2, "alpha": 0.4})
        for patch, colour in zip(box["boxes"], OKABE_ITO, strict=False):
            patch.set_facecolor(colour)
            patch.set_alpha(0.75)
        for median in box["medians"]:
            median.set_color("black")
        ax.set_yticks(range(1, len(present) + 1), present)
        ax.set_title(panel, loc="left", fontsize=9)
        ax.set_xlabel(axis_label)
        if ax is not axes[0]:
            ax.set_yticklabels([])
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    return render(figure, name, caption, number)


def class_figure(classes: pd.DataFrame, *, title: str, x_label: str, y_label: str, name: str,
                 caption: str, number: NumberText) -> ReportFigure:
    """Each class as a point: mean positive (x) and negative (y) interactions per hour."""
    figure = _figure(4.6, 3.6)
    ax = figure.subplots()
    ax.scatter(classes["positive_rate"], classes["negative_rate"], s=18, color=OKABE_ITO[4],
               alpha=0.8, edgecolor="white", linewidth=0.4)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title, loc="left", fontsize=10)
    return render(figure, name, caption, number)


def wave_figure(means: pd.DataFrame, *, groups: Sequence[str], panel_titles: dict[str, str],
                x_label: str, y_label: str, title: str, name: str,
                caption: str, number: NumberText) -> ReportFigure:
    """Mean rate per wave and group with 95 % intervals, one panel per valence.

    ``means``: ``valence, group, wave, mean, ci_low, ci_high``.
    """
    figure = _figure(7.5, 3.0)
    axes = figure.subplots(1, len(panel_titles), squeeze=False)[0]
    waves = sorted(means["wave"].unique())
    for ax, (valence, panel) in zip(axes, panel_titles.items(), strict=True):
        part = means[means["valence"] == valence]
        for index, group in enumerate(groups):
            rows = part[part["group"] == group].sort_values("wave")
            if rows.empty:
                continue
            offset = (index - (len(groups) - 1) / 2) * 0.06
            ax.errorbar(rows["wave"] + offset, rows["mean"],
                        yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                        marker="o", markersize=4, capsize=2, linewidth=1.2,
                        color=OKABE_ITO[index % len(OKABE_ITO)], label=group)
        ax.set_xticks(waves, [str(w) for w in waves])
        ax.set_xlabel(x_label)
        ax.set_title(panel, loc="left", fontsize=9)
    axes[0].set_ylabel(y_label)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(2, len(labels)),
                  frameon=False, fontsize=8)
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    return render(figure, name, caption, number)


def forest_figure(rows: pd.DataFrame, *, x_label: str, title: str, name: str, caption: str,
                  number: NumberText, log_scale: bool = False) -> ReportFigure:
    """A forest plot: one line per row (``label, series, estimate, ci_low, ci_high``).

    Rows of the same ``series`` share a colour; the reference line is at 0 (at 1 on a log
    scale, for ratios).
    """
    height = 1.3 + 0.28 * len(rows)
    figure = _figure(6.8, height)
    ax = figure.subplots()
    series = list(dict.fromkeys(rows["series"]))
    y = np.arange(len(rows))[::-1]
    for position, (_, row) in zip(y, rows.iterrows(), strict=True):
        colour = OKABE_ITO[series.index(row["series"]) % len(OKABE_ITO)]
        ax.plot([row["ci_low"], row["ci_high"]], [position, position], color=colour,
                linewidth=1.6)
        ax.plot(row["estimate"], position, "o", color=colour, markersize=5)
    ax.axvline(1.0 if log_scale else 0.0, color="#555555", linewidth=0.8, linestyle=":")
    if log_scale:
        ax.set_xscale("log")
        low = float(np.nanmin(rows["ci_low"]))
        high = float(np.nanmax(rows["ci_high"]))
        ticks = [t for t in _RATIO_TICKS if low / 1.05 <= t <= high * 1.05] or [1.0]
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_yticks(y, list(rows["label"]))
    ax.set_xlabel(x_label)
    ax.set_title(title, loc="left", fontsize=10)
    if len(series) > 1:
        handles = [matplotlib.lines.Line2D([], [], color=OKABE_ITO[i % len(OKABE_ITO)],
                                           marker="o", linewidth=1.6)
                   for i in range(len(series))]
        figure.legend(handles, series, loc="outside lower center", fontsize=8, frameon=False,
                      ncols=min(3, len(series)))
    return render(figure, name, caption, number)


@dataclass(frozen=True)
class PathPanel:
    """The numbers of one mediation diagram: exposure -> mediators -> outcome.

    ``a`` and ``b`` map a mediator's label to ``(estimate, ci_low, ci_high)``; ``direct`` and
    ``indirect`` are the same triples (``None`` when not estimated); ``indirect_by_mediator``
    maps a mediator's label to its indirect effect.
    """

    title: str
    exposure: str
    outcome: str
    a: dict[str, tuple[float, float, float]]
    b: dict[str, tuple[float, float, float]]
    indirect_by_mediator: dict[str, tuple[float, float, float]]
    direct: tuple[float, float, float] | None
    total_indirect: tuple[float, float, float] | None


def _excludes_zero(triple: tuple[float, float, float] | None) -> bool:
    if triple is None or any(np.isnan(v) for v in triple[1:]):
        return False
    return triple[1] > 0 or triple[2] < 0


def path_figure(panels: Sequence[PathPanel], *, number: NumberText, title: str, name: str,
                caption: str, indirect_word: str) -> ReportFigure:
    """Path diagrams (a, b, c' and the indirect effects), one panel per exposure and outcome.

    Solid arrows: the 95 % interval excludes zero; dashed: it does not.
    """
    columns = min(2, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure = _figure(4.4 * columns, 3.3 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    box = {"boxstyle": "round,pad=0.35", "facecolor": "#F2F2F2", "edgecolor": "#333333"}
    for ax, panel in zip(axes, panels, strict=False):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        ax.set_title(panel.title, loc="left", fontsize=9)
        exposure = ax.text(0.1, 0.5, _wrap(panel.exposure), ha="center", va="center", bbox=box,
                           fontsize=8)
        outcome = ax.text(0.88, 0.5, _wrap(panel.outcome), ha="center", va="center", bbox=box,
                          fontsize=8)
        mediators = list(panel.a) or list(panel.b)
        for mediator, (height, side) in zip(mediators, ((0.9, 1.0), (0.1, 0.0)), strict=False):
            middle = ax.text(0.5, height, _wrap(mediator), ha="center", va="center", bbox=box,
                             fontsize=8)
            label_height = (height + 0.5) / 2
            _arrow(ax, exposure, (0.5, side), middle, (0.0, 0.5), panel.a.get(mediator), "a",
                   (0.25, label_height), number)
            _arrow(ax, middle, (1.0, 0.5), outcome, (0.5, side), panel.b.get(mediator), "b",
                   (0.75, label_height), number)
        _arrow(ax, exposure, (1.0, 0.5), outcome, (0.0, 0.5), panel.direct, "c'", (0.5, 0.5),
               number)
        lines = [f"{indirect_word} ({m}): {number(t[0], 2)} [{number(t[1], 2)}, "
                 f"{number(t[2], 2)}]" for m, t in panel.indirect_by_mediator.items()]
        if lines:
            ax.text(0.5, -0.1, "\n".join(lines), ha="center", va="top", fontsize=7)
    for ax in axes[len(panels):]:
        ax.axis("off")
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    return render(figure, name, caption)


def _wrap(text: str) -> str:
    """Break a label before its parenthesis or after its second word (diagram boxes)."""
    if " (" in text:
        return text.replace(" (", "\n(", 1)
    words = text.split()
    return " ".join(words[:2]) + ("\n" + " ".join(words[2:]) if len(words) > 2 else "")


def _arrow(ax, start, start_at: tuple[float, float], end, end_at: tuple[float, float],
           triple: tuple[float, float, float] | None, symbol: str,
           label_at: tuple[float, float], number: NumberText) -> None:
    """An arrow between two text boxes (anchors as fractions of their boxes), labelled with the
    path's estimate; solid when its 95 % interval excludes zero."""
    if triple is None:
        return
    solid = _excludes_zero(triple)
    ax.annotate("", xy=end_at, xycoords=end, xytext=start_at, textcoords=start,
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "linewidth": 1.1,
                            "linestyle": "-" if solid else "--", "shrinkA": 2, "shrinkB": 2})
    ax.text(*label_at, f"{symbol} = {number(triple[0], 2)}", ha="center", va="center",
            fontsize=8, color="#000000" if solid else "#555555",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
