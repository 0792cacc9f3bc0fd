"""Scene models of the 'views' stills: receptive field, conv as a matrix, upsampling, 3D window, feature maps.

Each model is the `[still]` table of a scene file. Cross-key rules go through the engine's geometry
functions; their `GeometryError`s come back as `ValueError`s whose text starts with the dotted key.
Image files (feature_maps) are resolved against `context={"base_dir": ...}` when the loader gives one.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from convgif.engine.geometry import Geometry, conv_geometry, conv_transpose_geometry, interpolate_geometry
from convgif.engine.presets import KERNEL_PRESETS
from convgif.errors import GeometryError

MAX_IMAGE_SIDE = 4096  # refuse larger images before decoding them (decompression-bomb guard)

KernelName = Literal["identity", "box", "gaussian", "sharpen", "sobel_x", "sobel_y", "laplacian"]

PosInt = Annotated[int, Field(strict=True, ge=1)]
NonNegInt = Annotated[int, Field(strict=True, ge=0)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class _Still(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _geometry(key: str, build, *args, **kwargs) -> Geometry:
    """Call an engine geometry function; its GeometryError becomes a ValueError naming `key.argument`."""
    try:
        return build(*args, **kwargs)
    except GeometryError as error:
        raise ValueError(f"{key}.{error.argument}: {error.message}") from None


def _rectangular(rows: tuple[tuple[float, ...], ...], key: str) -> tuple[int, int]:
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"{key}: must be a non-empty rectangular list of rows, got row lengths "
                         f"{[len(r) for r in rows]}")
    return len(rows), len(rows[0])


# ---- receptive_field (B4) -------------------------------------------------------------------------

class RFLayer(_Still):
    """One conv layer of the stack: its kernel, stride, padding and dilation (square)."""

    kernel_size: PosInt = 3
    stride: PosInt = 1
    padding: NonNegInt = 0
    dilation: PosInt = 1


class ReceptiveFieldStill(_Still):
    """What one output cell of a conv stack sees in each earlier grid."""

    kind: Literal["receptive_field"]
    input_shape: tuple[Literal[1], Annotated[int, Field(strict=True, ge=1, le=32)],
                       Annotated[int, Field(strict=True, ge=1, le=32)]]
    layers: Annotated[tuple[RFLayer, ...], Field(min_length=1, max_length=4)]
    output_cell: tuple[NonNegInt, NonNegInt] | None = None  # default: the centre of the last grid
    cycle: bool = True  # also show a few other output cells, one frame each

    @model_validator(mode="after")
    def _layers_fit(self) -> "ReceptiveFieldStill":
        geometries = layer_geometries(self)
        last = geometries[-1].output_shape[1:]
        if self.output_cell is not None and any(c >= n for c, n in zip(self.output_cell, last)):
            raise ValueError(f"still.output_cell: {list(self.output_cell)} is outside the last grid "
                             f"{last[0]}×{last[1]} (rows 0..{last[0] - 1}, columns 0..{last[1] - 1})")
        return self

    @property
    def chosen_cell(self) -> tuple[int, int]:
        if self.output_cell is not None:
            return self.output_cell
        last = layer_geometries(self)[-1].output_shape[1:]
        return (last[0] // 2, last[1] // 2)

    def geometries(self) -> list[Geometry]:
        """Each layer's geometry in turn (see `layer_geometries`)."""
        return layer_geometries(self)


def layer_geometries(spec: ReceptiveFieldStill) -> list[Geometry]:
    """The geometry of each layer in turn, each fed the previous output (one channel throughout)."""
    shape = tuple(spec.input_shape)
    out = []
    for index, layer in enumerate(spec.layers):
        g = _geometry(f"still.layers.{index}", conv_geometry, shape, 1, layer.kernel_size, layer.stride,
                      layer.padding, layer.dilation, bias=False)
        out.append(g)
        shape = g.output_shape
    return out


# ---- conv_matrix (C1) -----------------------------------------------------------------------------

class ConvMatrixStill(_Still):
    """Convolution as Y = C X with the sparse (Toeplitz / im2col) matrix C."""

    kind: Literal["conv_matrix"]
    input_shape: tuple[Literal[1], Annotated[int, Field(strict=True, ge=1, le=6)],
                       Annotated[int, Field(strict=True, ge=1, le=6)]] = (1, 4, 4)
    kernel: tuple[tuple[Number, ...], ...] = ((1, 0, -1), (2, 1, 0), (0, 1, 2))
    stride: PosInt = 1
    padding: NonNegInt = 0

    @model_validator(mode="after")
    def _fits(self) -> "ConvMatrixStill":
        _rectangular(self.kernel, "still.kernel")
        rows = math.prod(self.geometry.output_shape[1:])
        if rows > 36:
            raise ValueError(f"still.padding: the matrix would have {rows} rows (at most 36 fit on a frame); "
                             "use a smaller input, less padding or a larger stride")
        return self

    @property
    def geometry(self) -> Geometry:
        kh, kw = len(self.kernel), len(self.kernel[0])
        return _geometry("still", conv_geometry, tuple(self.input_shape), 1, (kh, kw), self.stride,
                         self.padding, bias=False)


# ---- upsample_compare (C10) -----------------------------------------------------------------------

class TransposedSpec(_Still):
    """The learned upsampler: a ConvTranspose2d(1, 1) with these weights (no bias)."""

    kernel_size: PosInt = 3
    stride: PosInt = 2
    padding: NonNegInt = 1
    output_padding: NonNegInt = 1
    weights: tuple[tuple[Number, ...], ...]


class UpsampleCompareStill(_Still):
    """Nearest and bilinear upsampling (no parameters) beside a transposed conv (learned weights)."""

    kind: Literal["upsample_compare"]
    input: tuple[tuple[Number, ...], ...]
    scale_factor: Annotated[int, Field(strict=True, ge=2, le=4)] = 2
    transposed: TransposedSpec

    @model_validator(mode="after")
    def _fits(self) -> "UpsampleCompareStill":
        h, w = _rectangular(self.input, "still.input")
        if h > 5 or w > 5:
            raise ValueError(f"still.input: {h}×{w} is too big to print (at most 5×5)")
        kh, kw = _rectangular(self.transposed.weights, "still.transposed.weights")
        k = self.transposed.kernel_size
        if (kh, kw) != (k, k):
            raise ValueError(f"still.transposed.weights: must be {k}×{k} (kernel_size = {k}), got {kh}×{kw}")
        _geometry("still", interpolate_geometry, (1, h, w), None, self.scale_factor, "nearest")
        g = self.transposed_geometry
        if max(g.output_shape[1:]) > 20:
            raise ValueError(f"still.transposed: the output {g.output_shape[1]}×{g.output_shape[2]} is too big "
                             "to print (at most 20×20)")
        return self

    @property
    def transposed_geometry(self) -> Geometry:
        t = self.transposed
        h, w = len(self.input), len(self.input[0])
        return _geometry("still.transposed", conv_transpose_geometry, (1, h, w), 1, t.kernel_size, t.stride,
                         t.padding, t.output_padding, bias=False)


# ---- multichannel_3d (C2, D2, E2) -----------------------------------------------------------------

class Multichannel3DStill(_Still):
    """A k×k×m window on an m-channel input, and the same as m 2D slices whose sums add up."""

    kind: Literal["multichannel_3d"]
    input_shape: tuple[Annotated[int, Field(strict=True, ge=1, le=4)],
                       Annotated[int, Field(strict=True, ge=1, le=8)],
                       Annotated[int, Field(strict=True, ge=1, le=8)]] = (3, 5, 5)
    kernel_size: Annotated[int, Field(strict=True, ge=1, le=5)] = 3
    padding: NonNegInt = 0
    bias: bool = True
    seed: NonNegInt = 0
    position: tuple[NonNegInt, NonNegInt] = (0, 0)
    channel_names: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _fits(self) -> "Multichannel3DStill":
        g = self.geometry
        if self.channel_names is not None and len(self.channel_names) != self.input_shape[0]:
            raise ValueError(f"still.channel_names: {len(self.channel_names)} name(s) for "
                             f"{self.input_shape[0]} input channel(s)")
        if self.channel_names is not None and any(not 1 <= len(n) <= 12 for n in self.channel_names):
            raise ValueError("still.channel_names: each name must have 1 to 12 characters")
        out = g.output_shape[1:]
        if any(p >= n for p, n in zip(self.position, out)):
            raise ValueError(f"still.position: {list(self.position)} is outside the output {out[0]}×{out[1]} "
                             f"(rows 0..{out[0] - 1}, columns 0..{out[1] - 1})")
        return self

    @property
    def geometry(self) -> Geometry:
        return _geometry("still", conv_geometry, tuple(self.input_shape), 1, self.kernel_size, 1, self.padding,
                         bias=self.bias)


# ---- feature_maps (E4) ----------------------------------------------------------------------------

class FeatureMapsStill(_Still):
    """One image through several preset 3x3 kernels: the feature maps (and their ReLU)."""

    kind: Literal["feature_maps"]
    image: str  # path, relative to the scene file (context base_dir) or absolute
    size: tuple[Annotated[int, Field(strict=True, ge=8, le=256)],
                Annotated[int, Field(strict=True, ge=8, le=256)]] = (96, 128)
    kernels: Annotated[tuple[KernelName, ...], Field(min_length=1, max_length=5)] = ("sobel_x", "sobel_y")
    relu: bool = True

    @field_validator("image")
    @classmethod
    def _image_exists(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        path = value if os.path.isabs(value) or base is None else os.path.join(str(base), value)
        path = os.path.abspath(path)
        check_image(path)
        return path


def check_image(path: str) -> tuple[int, int]:
    """(width, height) of the image at `path`, read from its header; ValueError naming still.image if unusable."""
    from PIL import Image  # the scene layer reads files; the engine never does

    if not os.path.isfile(path):
        raise ValueError(f"still.image: no such file: {path}")
    try:
        # Pillow's own guard would only warn below 2x its default limit: make every bomb warning an error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size = image.size
                kind = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"still.image: {path} is too large to decode safely ({error})") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"still.image: {path} is not a readable image ({error})") from None
    if kind not in ("PNG", "JPEG"):
        raise ValueError(f"still.image: {path} is a {kind} image; use PNG or JPEG")
    if size[0] > MAX_IMAGE_SIDE or size[1] > MAX_IMAGE_SIDE:
        raise ValueError(f"still.image: {path} is {size[0]}×{size[1]} px, larger than the "
                         f"{MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} allowed")
    return size


STILL_MODELS: dict[str, type[BaseModel]] = {
    "receptive_field": ReceptiveFieldStill,
    "conv_matrix": ConvMatrixStill,
    "upsample_compare": UpsampleCompareStill,
    "multichannel_3d": Multichannel3DStill,
    "feature_maps": FeatureMapsStill,
}

__all__ = [
    "STILL_MODELS", "KERNEL_PRESETS", "ReceptiveFieldStill", "RFLayer", "ConvMatrixStill", "UpsampleCompareStill",
    "TransposedSpec", "Multichannel3DStill", "FeatureMapsStill", "layer_geometries", "check_image",
]

