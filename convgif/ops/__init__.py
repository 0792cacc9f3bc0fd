"""The op families convgif can show, one record each (see `record.OpFamily`): the one list to extend.

Validation, captions, `info`, the pipeline and the renderer read these records and nothing else, so adding an
operation is an engine function, a record here and (if no layout draws it yet) a layout.
"""

from __future__ import annotations

import dataclasses

from convgif.ops.conv import CONV
from convgif.ops.conv_transpose import CONV_TRANSPOSE
from convgif.ops.layers import FLATTEN, LINEAR, RELU, UPSAMPLE
from convgif.ops.pool import AVG_POOL, LP_POOL, MAX_POOL
from convgif.ops.record import OpFamily, OpView

FAMILIES: tuple[OpFamily, ...] = (CONV, CONV_TRANSPOSE, MAX_POOL, AVG_POOL, LP_POOL, RELU, FLATTEN, LINEAR, UPSAMPLE)

_BY_KIND = {kind: family for family in FAMILIES for kind in family.kinds}
KINDS: tuple[str, ...] = tuple(_BY_KIND)


def family_of(kind: str) -> OpFamily:
    """The record of the family `kind` belongs to (KeyError for a kind no family has)."""
    return _BY_KIND[kind]


def add_view(family: str, view: OpView) -> None:
    """Give the family named `family` one more view, from outside this package (a plugin, a notebook): from then
    on `[render] view = "<view.name>"` validates and renders for its kinds. A name the family has is refused."""
    record = next(f for f in _BY_KIND.values() if f.name == family)
    if view.name in record.view_names:
        raise ValueError(f"{family} has a view named {view.name!r} already")
    extended = dataclasses.replace(record, views=(*record.views, view))
    _BY_KIND.update({kind: extended for kind in record.kinds})


__all__ = ["FAMILIES", "KINDS", "OpFamily", "OpView", "add_view", "family_of"]
