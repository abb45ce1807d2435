"""Pure plotly figure builders. A builder that cannot draw returns a figure that says why.

Plotly renders a subset of HTML (<b>, <a href>, <span style>) in titles, labels, legends and hovers, so every text
that comes from a visitor (sentences, product names, categories) goes through `plain` first.
"""

from __future__ import annotations

import functools
import html
import logging
import unicodedata
from collections.abc import Callable, Sequence
from typing import ParamSpec

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

log = logging.getLogger(__name__)
P = ParamSpec("P")
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


def message_figure(text: str, height: int = 300) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, font={"size": 14}, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(height=height, xaxis={"visible": False}, yaxis={"visible": False}, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def failsafe(builder: Callable[P, go.Figure]) -> Callable[P, go.Figure]:
    """Return a 'could not draw' figure instead of raising, so the plot component stays usable."""

    @functools.wraps(builder)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        try:
            return builder(*args, **kwargs)
        except Exception:
            log.exception("figure %s failed", builder.__name__)
            return message_figure("无法绘制此图 · Could not draw this figure")

    return wrapper


def plain(text: str) -> str:
    """Text shown by plotly as typed, not as markup. Example: plain("<b>x</b> & y") -> "&lt;b&gt;x&lt;/b&gt; &amp; y" """
    return html.escape(text, quote=False)


def short_label(text: str, width: int = 12) -> str:
    """Example: short_label("机械师 K7 机械键盘 采用青轴", 8) -> "机械师 K7 机…" """
    return text if len(text) <= width else text[: width - 1] + "…"


def legend_label(text: str, units: int = 12) -> str:
    """`text` cut to `units` half-widths (a CJK character counts 2): it fits a fixed-width legend entry.

    Example: legend_label("车载手机支架") -> "车载手机支架"; legend_label("wireless keyboards") -> "wireless ke…"
    """
    widths = [2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text]
    if sum(widths) <= units:
        return text
    end, used = 0, 1  # the "…" takes one
    while used + widths[end] <= units:
        used += widths[end]
        end += 1
    return text[:end].rstrip() + "…"


def unique_labels(texts: Sequence[str], width: int = 12) -> list[str]:
    """Short labels made unique with a number prefix (plotly merges equal category labels)."""
    return [f"{i + 1}. {short_label(t, width)}" for i, t in enumerate(texts)]


# A category's look is a colour and a marker shape. Light24 repeats Dark24 at a few points (#FE00CE / #FB00D1,
# #DA16FF / #D626FF, #B68100 / #B68E00), so the 36 categories of the shipped catalog showed twins. D3's ten colours are
# far apart; each round of ten takes the next shape: 60 looks before any repeats.
PALETTE = list(qualitative.D3)
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


@failsafe
def similarity_heatmap(sentences: Sequence[str], matrix: np.ndarray, title: str = "", diverging: bool = False) -> go.Figure:
    """N×N heatmap; values printed in cells when N ≤ 12; full sentences on hover."""
    labels = [plain(label) for label in unique_labels(sentences, 8)]  # short: a phone leaves ~320 px for labels and cells
    n = len(sentences)
    texts = [plain(s) for s in sentences]
    hover = [[f"{texts[i]}<br>↔ {texts[j]}<br>{matrix[i, j]:.3f}" for j in range(n)] for i in range(n)]
    heat = go.Heatmap(
        z=matrix.astype(np.float64),
        x=labels,
        y=labels,
        texttemplate="%{z:.2f}" if n <= 12 else None,
        customdata=hover,
        hovertemplate="%{customdata}<extra></extra>",
        colorscale="RdBu" if diverging else "Viridis",
        zmid=0 if diverging else None,
        zmin=None if diverging else min(0.0, float(matrix.min())),
        zmax=None if diverging else 1.0,
    )
    fig = go.Figure(heat)
    size = max(380, min(900, 120 + 28 * n))
    fig.update_layout(
        title=title,
        height=size,
        font={"family": FONT},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        # Columns are labelled by row number only: on a 390 px phone, slanted sentence labels took most of the plot.
        yaxis={"autorange": "reversed"},
        xaxis={"tickmode": "array", "tickvals": labels, "ticktext": [str(i + 1) for i in range(n)]},
    )
    fig.update_traces(colorbar={"thickness": 12})
    return fig


@failsafe
def score_bars(source: str, sentences: Sequence[str], scores: np.ndarray) -> go.Figure:
    """The Hub widget's view: one source against many, sorted, best on top.

    Sentences keep the numbers they have in the box and the heatmap (the source is 1, so `sentences` start at 2), and
    every bar carries its value outside its end, negative ones included: the axis leaves room on both sides for it.
    """
    order = np.argsort(-scores)
    numbered = [f"{i + 2}. {short_label(t, 24)}" for i, t in enumerate(sentences)]
    labels = [plain(numbered[i]) for i in order]
    low, high = min(0.0, float(scores.min())), max(1.0, float(scores.max()))
    room = 0.2 * (high - low)  # about a value label's width ("-0.123") at the smallest plot
    fig = go.Figure(
        go.Bar(
            x=scores[order],
            y=labels,
            orientation="h",
            text=[f"{s:.3f}" for s in scores[order]],
            textposition="outside",
            cliponaxis=False,
            customdata=[plain(sentences[i]) for i in order],
            hovertemplate="%{customdata}<br>%{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=plain(f"1. {short_label(source, 30)}"),
        height=max(260, 60 + 34 * len(sentences)),
        font={"family": FONT},
        yaxis={"autorange": "reversed"},
        xaxis={"range": [low - room if low < 0 else 0.0, high + room], "zeroline": True},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


@failsafe
def loss_curve(steps: Sequence[int], losses: Sequence[float], max_steps: int | None = None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=list(steps), y=list(losses), mode="lines+markers", name="loss"))
    fig.update_layout(
        height=280,
        xaxis_title="步 step",
        yaxis_title="损失 loss",
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        xaxis={"range": [0, max_steps]} if max_steps else {},
        font={"family": FONT},
    )
    return fig


@failsafe
def embedding_map(
    points: np.ndarray,
    names: Sequence[str],
    categories: Sequence[str],
    extra_points: np.ndarray | None = None,
    extra_labels: Sequence[str] = (),
) -> go.Figure:
    """The catalog in 2-D (PCA), one colour and marker shape per category, with entered sentences as numbered stars.

    Ten colours far apart, then the next marker shape, so categories never share a look; the legend shows each
    category cut to a fixed width (in full on hover), under the map; the stars carry their line number only (the full
    sentence is on hover), so neighbouring labels do not overlap.
    """
    fig = go.Figure()
    cats = np.array([c or "—" for c in categories])
    for k, cat in enumerate(sorted(set(cats))):
        rows = np.flatnonzero(cats == cat)
        fig.add_trace(
            go.Scattergl(
                x=points[rows, 0],
                y=points[rows, 1],
                mode="markers",
                name=plain(legend_label(cat)),
                marker={"size": 7, "opacity": 0.8, "color": PALETTE[k % len(PALETTE)], "symbol": SYMBOLS[k // len(PALETTE) % len(SYMBOLS)]},
                text=[plain(names[int(i)]) for i in rows],
                customdata=[plain(cat)] * len(rows),
                hovertemplate="%{text}<extra>%{customdata}</extra>",
            )
        )
    if extra_points is not None and len(extra_points):
        fig.add_trace(
            go.Scatter(
                x=extra_points[:, 0],
                y=extra_points[:, 1],
                mode="markers+text",
                name="输入 input",
                marker={"symbol": "star", "size": 16, "color": "black"},
                text=[str(i + 1) for i in range(len(extra_labels))],
                textposition="top center",
                hovertext=[plain(t) for t in extra_labels],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    # The legend goes under the map in rows of fixed-width entries (12 half-widths of 10 px text, then the marker): at its
    # side it took ~40% of a phone's width; there, 3 entries a row; at 1280 px, 12.
    fig.update_layout(
        height=640,
        font={"family": FONT},
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.04, "yanchor": "top", "entrywidth": 66, "font": {"size": 10}},
    )
    return fig
