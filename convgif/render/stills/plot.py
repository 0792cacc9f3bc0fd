"""A line plot drawn straight onto a still's sheet: frame, grid, tick marks, tick labels (Pillow-drawn, see
pillow_text), a curve per y axis (left and, optionally, right) and vertical marker lines, all in layout px.

A matplotlib Axes with a twin costs ~60 ms to create and draw (its ticks, spines and tick labels are artists laid
out and drawn one by one); this is a handful of sheet artists. Tick places come from matplotlib's own locator
(`MaxNLocator` with `AutoLocator`'s steps), so the numbers on the axes are the ones an Axes would pick.

Every plot leaves a `PlotRecord` on the sheet (`sheet.plots`): its box, scales and limits, the record the marks
were placed from, so a test can read what a plot shows as it read an Axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from convgif.render.stills.toolkit import Sheet, px, unit
from convgif.render.theme import RGB, mix

TICK_PT = 3.5  # tick length and label pad, in points (matplotlib's defaults)
AUTO_STEPS = [1, 2, 2.5, 5, 10]  # AutoLocator's


@dataclass(frozen=True, slots=True)
class Axis:
    """One axis of a plot: its scale ("linear" or "log") and limits; `to_unit` maps a value to 0..1 along it."""

    scale: str
    limits: tuple[float, float]

    def to_unit(self, value: float) -> float:
        lo, hi = self.limits
        if self.scale == "log":
            return (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (value - lo) / (hi - lo)


@dataclass(frozen=True, slots=True)
class Series:
    """A curve on one y axis: values, colour, line style and marker (matplotlib's names), tick label colour."""

    counts: Sequence[float]
    colour: RGB
    limits: tuple[float, float]
    dashed: bool = False
    marker: str = "o"
    scale: str = "linear"


@dataclass(slots=True)
class PlotRecord:
    """What a sheet plot shows: its box (x, y, w, h layout px), its x axis and one y axis per series (left
    first), the x values its ticks name and the x places of its vertical marker lines."""

    box: tuple[float, float, float, float]
    x: Axis
    ys: list[Axis] = field(default_factory=list)
    x_ticks: list[float] = field(default_factory=list)
    y_ticks: list[list[float]] = field(default_factory=list)
    markers: list[float] = field(default_factory=list)


def nice_ticks(limits: tuple[float, float], length_px: float, label_pt: float) -> list[float]:
    """The ticks an Axes' AutoLocator puts on a y axis `length_px` long with labels at `label_pt` (as many bins
    as labels twice their size fit, at most 9), inside `limits`."""
    bins = max(min(int(length_px * 72 / 100 // (label_pt * 2)), 9), 1)
    lo, hi = limits
    ticks = MaxNLocator(nbins=bins, steps=AUTO_STEPS).tick_values(lo, hi)
    span = hi - lo
    return [float(t) for t in ticks if lo - 1e-9 * span <= t <= hi + 1e-9 * span]


def _polyline(segments: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Segments as one polyline broken by NaNs (one artist for many strokes)."""
    xs, ys = [], []
    for xa, ya, xb, yb in segments:
        xs += [xa, xb, np.nan]
        ys += [ya, yb, np.nan]
    return np.array(xs), np.array(ys)


def draw_plot(sheet: Sheet, box: tuple[float, float, float, float], x_values: Sequence[float],
              series: Sequence[Series], *, x_ticks: Sequence[float], fmt: Callable[[float], str],
              x_label: str | None = None, markers: Sequence[float] = (), label_pt: float = 9,
              x_margin: float = 0.05) -> PlotRecord:
    """A plot in `box` (x, y top-left, w, h) of `series` over `x_values`: the first series on a left axis, the
    second on a right one, each with its own ticks and labels in its colour; x ticks at `x_ticks`, labelled by
    `fmt` (as are the y ticks); a dotted vertical line at each of `markers`; `x_label` under the x tick labels.
    The x axis spans the values with `x_margin` of their range on each side, as an Axes autoscales."""
    theme = sheet.theme
    left, top, w, h = box
    lo, hi = min(x_values), max(x_values)
    pad = (hi - lo) * x_margin or 0.5
    record = PlotRecord(box, Axis("linear", (lo - pad, hi + pad)), x_ticks=list(x_ticks), markers=list(markers))

    def sx(value: float) -> float:
        return left + record.x.to_unit(value) * w

    tick, gap = px(TICK_PT), px(TICK_PT) + px(TICK_PT)  # tick length; label distance from the frame
    faint = unit(mix(theme.grid, theme.background, 0.3))
    bottom = top + h
    # grid under everything: at the x ticks and the left axis' ticks
    first = series[0]
    first_axis = Axis(first.scale, first.limits)
    y_ticks = [nice_ticks(s.limits, h, label_pt) for s in series]
    grid = [(sx(v), top, sx(v), bottom) for v in x_ticks]
    grid += [(left, bottom - first_axis.to_unit(v) * h, left + w, bottom - first_axis.to_unit(v) * h)
             for v in y_ticks[0]]
    _add_line(sheet, grid, colour=faint, lw=0.5, z=1.0)
    for index, (s, ticks) in enumerate(zip(series, y_ticks)):
        axis = Axis(s.scale, s.limits)
        record.ys.append(axis)
        record.y_ticks.append(ticks)

        def sy(value: float, axis=axis) -> float:
            return bottom - axis.to_unit(value) * h

        xs = [sx(v) for v in x_values]
        ys = [sy(v) for v in s.counts]
        sheet._add(Line2D(xs, ys, color=unit(s.colour), linewidth=2, markersize=4, marker=s.marker,
                          linestyle="--" if s.dashed else "-", zorder=2.0 + index * 0.1))
        if index == 0:
            for v in markers:  # the marker lines over the first curve, under the second (as on a twin Axes)
                _add_line(sheet, [(sx(v), top, sx(v), bottom)], colour=unit(theme.muted_text), lw=1.2, z=2.05,
                          style=":")
        edge = left if index == 0 else left + w
        out = -1 if index == 0 else 1
        _add_line(sheet, [(edge, sy(v), edge + out * tick, sy(v)) for v in ticks], colour=unit(s.colour), lw=0.8,
                  z=2.5)
        for v in ticks:
            sheet.text(edge + out * gap, sy(v), fmt(v), pt=label_pt, colour=s.colour,
                       ha="right" if index == 0 else "left", va="center")
    # the frame, the x ticks and their labels, the x axis' name
    sheet.rect(left, top, w, h, edge=theme.grid, lw=0.8, z=2.5)
    _add_line(sheet, [(sx(v), bottom, sx(v), bottom + tick) for v in x_ticks], colour=unit(theme.muted_text),
              lw=0.8, z=2.5)
    for v in x_ticks:
        sheet.text(sx(v), bottom + gap, fmt(v), pt=label_pt, colour=theme.text, ha="center", va="top")
    if x_label:
        label_top = bottom + gap + sheet._drawn_size("lp", label_pt, False)[1] + px(1)
        sheet.text(left + w / 2, label_top, x_label, pt=label_pt, colour=theme.muted_text, ha="center", va="top")
    sheet.plots.append(record)
    return record


def _add_line(sheet: Sheet, segments: list[tuple[float, float, float, float]], *, colour, lw: float, z: float,
              style: str = "-") -> None:
    if segments:
        xs, ys = _polyline(segments)
        sheet._add(Line2D(xs, ys, color=colour, linewidth=lw, linestyle=style, zorder=z, solid_capstyle="projecting"))



@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar of a bar plot: from `start` to `start + length` on the x axis, in row `row`."""

    row: int
    start: float
    length: float


@dataclass(slots=True)
class BarsRecord:
    """What a sheet bar plot shows: its box, its x axis, its rows' y limits (top row's, bottom row's; rows go
    down) and its bars."""

    box: tuple[float, float, float, float]
    x: Axis
    rows: tuple[float, float]
    bars: list[Bar] = field(default_factory=list)
    x_ticks: list[float] = field(default_factory=list)

    def px(self, value: float) -> float:
        """An x value's place in layout px."""
        return self.box[0] + self.x.to_unit(value) * self.box[2]

    def py(self, row: float) -> float:
        """A row coordinate's place in layout px (row 0 on top)."""
        top, bottom = self.rows
        return self.box[1] + (row - top) / (bottom - top) * self.box[3]


def draw_bars(sheet: Sheet, box: tuple[float, float, float, float], bars: Sequence[tuple[float, RGB, bool]], *,
              limit: float, rows: tuple[float, float], fmt: Callable[[float], str], x_label: str | None = None,
              label_pt: float = 9, bar_offset: float = 0.12, bar_height: float = 0.42) -> BarsRecord:
    """Horizontal bars from 0 in `box`, one row each, `bars` as (value, colour, hatched): a linear x axis from 0
    to `limit` with AutoLocator's ticks labelled by `fmt`, light x grid lines under the bars; rows from rows[0] at
    the top to rows[1] at the bottom, bar i centred at i + `bar_offset`, `bar_height` rows tall. A bar longer than
    the axis is cut at its end, as an Axes clips it."""
    from matplotlib.transforms import Bbox, TransformedBbox

    theme = sheet.theme
    left, top, w, h = box
    record = BarsRecord(box, Axis("linear", (0, limit)), rows)
    axis_length_pt = w * 72 / 100
    bins = max(min(int(axis_length_pt // (label_pt * 3)), 9), 1)
    record.x_ticks = [float(t) for t in MaxNLocator(nbins=bins, steps=AUTO_STEPS).tick_values(0, limit)
                      if -1e-9 * limit <= t <= limit * (1 + 1e-9)]
    bottom = top + h
    _add_line(sheet, [(record.px(v), top, record.px(v), bottom) for v in record.x_ticks],
              colour=unit(mix(theme.grid, theme.background, 0.35)), lw=0.6, z=1.0)
    clip = TransformedBbox(Bbox.from_extents(left, top, left + w, bottom), sheet.ax.transData)
    for i, (value, colour, hatched) in enumerate(bars):
        record.bars.append(Bar(i, 0.0, value))
        y0 = record.py(i + bar_offset - bar_height / 2)
        patch = sheet.rect(left, y0, record.px(value) - left, record.py(i + bar_offset + bar_height / 2) - y0,
                           fill=mix(colour, theme.background, 0.8), edge=colour, lw=1.2,
                           hatch="//" if hatched else None, z=1.5)
        if value > limit:  # cut at the axis' end
            patch.set_clip_on(True)
            patch.set_clip_box(clip)
            patch.set_clip_path(None)
    sheet.rect(left, top, w, h, edge=theme.grid, lw=0.8, z=2.5)
    tick, gap = px(TICK_PT), 2 * px(TICK_PT)
    _add_line(sheet, [(record.px(v), bottom, record.px(v), bottom + tick) for v in record.x_ticks],
              colour=unit(theme.muted_text), lw=0.8, z=2.5)
    for v in record.x_ticks:
        sheet.text(record.px(v), bottom + gap, fmt(v), pt=label_pt, colour=theme.text, ha="center", va="top")
    if x_label:
        label_top = bottom + gap + sheet._drawn_size("lp", label_pt, False)[1] + px(4)
        sheet.text(left + w / 2, label_top, x_label, pt=label_pt, colour=theme.muted_text, ha="center", va="top")
    sheet.plots.append(record)
    return record
