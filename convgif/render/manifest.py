"""The layout manifest: what a frame shows and where, read off the very primitives that frame paints.

Texts say what they are by their `Mark` (title, counter, arithmetic, legend, ...). Cells and windows are found by
their boxes in the layout's grids (`Layout.grids_by_role`): a fill on a cell's box, a number centred in it as
`layout_common.cell_text` sets it, an outline around a span of cells. Each cell is named by its tensor and its
position in the unpadded tensor (padding cells lie outside it). Text boxes are the ink extent Pillow draws.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from convgif.render.fonts import pil_font
from convgif.render.primitives import Box, Polygon, Rect, Text, Veil, cell_text_baseline

TENSORS = {"input": "input", "kernel": "weight", "bank": "weight", "output": "output", "products": "products"}
_ANCHOR = {"left": "ls", "center": "ms", "right": "rs"}
_MEASURE = ImageDraw.Draw(Image.new("L", (1, 1)))
_MEASURE_CRISP = ImageDraw.Draw(Image.new("1", (1, 1)))
_MEASURE_CRISP.fontmode = "1"


def text_box(text: Text, crisp: bool) -> Box:
    """The box (x1, y1 exclusive) of the ink Pillow draws for `text`, from its anchor, alignment and font."""
    draw = _MEASURE_CRISP if crisp else _MEASURE
    x0, y0, x1, y1 = draw.textbbox((text.x, text.y), text.text, font=pil_font(text.size, text.bold, text.text),
                                   anchor=_ANCHOR[text.align])
    return (int(x0), int(y0), int(x1), int(y1))


def hex_colour(colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def union(boxes) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


class CellIndex:
    """Every cell of a layout's grids by its boxes: what tensor, channel and tensor position each one shows."""

    def __init__(self, layout, trace, step):
        self.cells: dict[tuple, dict] = {}  # (role, channel, row, col) -> fixed fields of its item
        self.by_box: dict[Box, tuple] = {}
        self.by_centre: dict[int, list[tuple[int, int, tuple]]] = {}
        self.by_corner: dict[tuple[int, int], tuple] = {}
        self.by_far_corner: dict[tuple[int, int], tuple] = {}
        for role, grids in layout.grids_by_role().items():
            for channel, grid in enumerate(grids):
                for r in range(grid.rows):
                    for col in range(grid.cols):
                        key = (role, channel, r, col)
                        box = grid.box(r, col)
                        self.cells[key] = {"role": "cell", "tensor": TENSORS.get(role, role), "channel": channel,
                                           **position(trace, role, channel, r, col, step), "box": list(box)}
                        self.by_box.setdefault(box, key)
                        self.by_box.setdefault(grid.interior(r, col), key)
                        self.by_centre.setdefault((box[0] + box[2]) // 2, []).append((box[1], box[3], key))
                        self.by_corner.setdefault(box[:2], key)
                        self.by_far_corner.setdefault(box[2:], key)

    def text_cell(self, text: Text) -> tuple | None:
        """The cell a number is centred in, as `cell_text` places it."""
        if text.align != "center":
            return None
        for y0, y1, key in self.by_centre.get(int(text.x), []) if text.x == int(text.x) else []:
            if text.y == cell_text_baseline(y0, y1, text.size):
                return key
        return None

    def span(self, box: Box) -> tuple[tuple, tuple] | None:
        """The first and last cell of one grid whose span is exactly `box`."""
        first, last = self.by_corner.get(box[:2]), self.by_far_corner.get(box[2:])
        if first is None or last is None or first[:2] != last[:2]:
            return None
        return first, last


def position(trace, role: str, channel: int, r: int, col: int, step) -> dict:
    """Where cell (r, col) of a `role` grid of the view of `trace` lies in its tensor: `index` (unpadded),
    `padding` (outside the tensor)."""
    rc = (r, col)
    ndim = trace.geometry.ndim
    spatial = rc[2 - ndim:]
    if role == "input" and hasattr(trace, "cell_kind"):  # zero insertion: the spread, padded input grid
        from convgif.engine.trace_transpose import INPUT_VALUE, grid_padding

        kind = int(np.asarray(trace.cell_kind)[spatial])
        spread = [v - q for v, q in zip(spatial, grid_padding(trace.geometry))]
        fields = {"grid_index": list(spatial), "padding": kind != INPUT_VALUE}
        if kind == INPUT_VALUE:
            fields["index"] = [v // s for v, s in zip(spread, trace.geometry.stride)]
        return fields
    if role == "input" and hasattr(trace, "padding_cells"):  # conv and pool: the padded input
        index = [v - before for v, (before, _) in zip(spatial, trace.geometry.padding)]
        return {"index": index, "padding": bool(np.asarray(trace.padding_cells)[spatial])}
    if role == "output" and hasattr(trace, "full_shape"):  # scatter: the full output before cropping
        index = [v - before for v, (before, _) in zip(spatial, trace.geometry.padding)]
        inside = all(0 <= v < n for v, n in zip(index, trace.geometry.output_shape[1:]))
        return {"index": index, "padding": False, "cropped": not inside}
    g = trace.geometry
    per_group = g.input_shape[0] // g.groups
    if role == "bank":  # every kernel, slice by slice: channel = out channel × per_group + slice
        return {"index": [channel // per_group, channel % per_group, *spatial], "padding": False}
    if role == "kernel":  # the slice input channel `channel` is read with: the step's kernel, or its lane's only one
        if step is not None and channel in getattr(step, "in_channels", ()):
            return {"index": [int(step.out_channel), channel % per_group, *spatial], "padding": False}
        if g.output_shape[0] == g.groups:
            return {"index": [channel // per_group, channel % per_group, *spatial], "padding": False}
    return {"index": list(spatial), "padding": False}


def frame_items(view, step_index: int | None, *, question: bool = False) -> list[dict]:
    """The manifest items of one frame (None: the hold frame; `question`: a quiz's question frame of the step), in
    the order they are painted."""
    layout, crisp = view.layout, view.theme.crisp_text
    step = None if step_index is None else view.trace.step(int(step_index))
    cells = CellIndex(layout, view.trace, step)
    theme = view.theme
    states = {theme.output_empty: "empty", **dict.fromkeys(layout.done_fills(), "done"), theme.output_current: "current"}
    items: list[dict] = []
    shown: dict[tuple, dict] = {}
    legends: dict[str, dict] = {}

    def cell_item(key: tuple) -> dict:
        if key not in shown:
            shown[key] = dict(cells.cells[key])
            items.append(shown[key])
        return shown[key]

    for primitive in view.primitives(step_index, question=question):
        meta = primitive.meta
        if meta is not None and meta.role == "legend":
            box = text_box(primitive, crisp) if isinstance(primitive, Text) else primitive.box
            entry = legends.get(meta.entry)
            if entry is None:
                entry = legends[meta.entry] = {"role": "legend", "entry": meta.entry, "box": list(box), "colours": []}
                items.append(entry)
            entry["box"] = list(union([entry["box"], box]))
            if isinstance(primitive, Text):  # its words' size, as every text's
                entry["font_px"] = primitive.size
            if isinstance(primitive, Rect):  # the swatch's look: what a reader matches the marks against
                entry["colours"] += [hex_colour(c) for c in (primitive.fill, primitive.edge)
                                     if c is not None and hex_colour(c) not in entry["colours"]]
            if isinstance(primitive, Veil):  # a faded swatch: names the veils a frame lays over what it fades
                entry["veil"] = True
        elif isinstance(primitive, Text):
            key = cells.text_cell(primitive) if meta is None else None
            box = list(text_box(primitive, crisp))
            item = {"text": primitive.text, "font_px": primitive.size}
            if key is not None:
                cell_item(key).update(item, text_box=box)
                cell_item(key).pop("veiled", None)
            else:
                items.append({"role": "text", "kind": meta.kind if meta else "label", **item, "box": box})
        elif isinstance(primitive, Rect):
            rect_item(primitive, cells, cell_item, items, states, theme)
        elif isinstance(primitive, Veil):
            items.append({"role": "veil", "box": list(primitive.box)})
            for item in items:  # the texts it fades: still there, faint, under what is drawn over them next
                box = item.get("text_box", item["box"]) if ("text" in item) else None
                if box is not None and _inside(box, primitive.box):
                    item["veiled"] = True
        elif isinstance(primitive, Polygon) and meta is not None:  # a volume's window box or marker
            items.append({"role": "volume", "mark": meta.role, "kind": meta.kind, "channels": list(meta.channels or ()),
                          "colour": hex_colour(primitive.fill if primitive.fill is not None else primitive.edge),
                          "box": list(primitive.box), "points": [list(p) for p in primitive.points]})
    return merge_words(items)


def rect_item(rect: Rect, cells: CellIndex, cell_item, items: list[dict], states: dict, theme) -> None:
    """A fill or outline on one cell updates that cell; an outline around a span of cells is a window (or, in any
    other colour, a marker)."""
    key = cells.by_box.get(rect.box)
    if key is not None and (rect.fill is not None or rect.line_width == 1):
        item = cell_item(key)
        if rect.fill is not None:  # paints over whatever number the cell showed
            for field in ("text", "font_px", "text_box"):
                item.pop(field, None)
            if item["tensor"] == "output":
                item["state"] = states.get(rect.fill, "other")
        return
    if rect.fill is not None:  # paints over the texts inside it (a volume's block label said again)
        items[:] = [item for item in items if not (item.get("role") == "text" and _inside(item["box"], rect.box))]
        return
    if rect.edge is None:
        return
    x0, y0, x1, y1 = rect.box
    for grow in dict.fromkeys((rect.line_width // 2, 0)):
        span = cells.span((x0 + grow, y0 + grow, x1 - grow, y1 - grow))
        if span is not None:
            first, last = (cells.cells[k] for k in span)
            items.append({"role": "window" if rect.edge == theme.window else "marker", "colour": hex_colour(rect.edge),
                          "tensor": first["tensor"],
                          "channel": first["channel"], "box": [x0 + grow, y0 + grow, x1 - grow, y1 - grow],
                          "first": first.get("index", first.get("grid_index")),
                          "last": last.get("index", last.get("grid_index"))})
            return


def merge_words(items: list[dict]) -> list[dict]:
    """Texts of one kind on one line (a line set word by word) as one item."""
    out: list[dict] = []
    for item in items:
        previous = out[-1] if out else None
        if (item["role"] == "text" and previous is not None and previous["role"] == "text"
                and previous["kind"] == item["kind"] and item["kind"] in ("arithmetic", "note")
                and previous["font_px"] == item["font_px"] and _same_line(previous["box"], item["box"])):
            previous["text"] += " " + item["text"]
            previous["box"] = list(union([previous["box"], item["box"]]))
            continue
        out.append(dict(item))
    return out


def _inside(box, outer) -> bool:
    return outer[0] <= box[0] and outer[1] <= box[1] and box[2] <= outer[2] and box[3] <= outer[3]


def _same_line(a: list[int], b: list[int]) -> bool:
    return a[1] < b[3] and b[1] < a[3] and b[0] >= a[0]
