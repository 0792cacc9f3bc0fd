"""Scene specs of the shape-and-count stills: weight tensor, CNN pipeline, ReLU map, parameter counts and curves.

Each still kind is a frozen pydantic model (`[still]` table of a scene file) whose cross-key rules go
through the engine's geometry functions; a `GeometryError` becomes a ValueError naming the key. The
numbers the renderers draw are derived here (or in the engine), never typed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from convgif.engine.activation import flatten, relu
from convgif.engine.geometry import Geometry, conv_geometry, pool_geometry
from convgif.engine.keras import tf_same_padding
from convgif.errors import GeometryError

PosInt = Annotated[int, Strict(), Field(gt=0)]
NonNegInt = Annotated[int, Strict(), Field(ge=0)]
Int = Annotated[int, Strict()]
SizeArg = Union[PosInt, tuple[PosInt, PosInt]]
PadArg = Union[Literal["same", "valid"], NonNegInt, tuple[NonNegInt, NonNegInt]]
Shape3 = tuple[PosInt, PosInt, PosInt]


class _Still(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _geometry_or_value_error(prefix: str, build) -> Any:
    """Run `build()`; a GeometryError becomes a ValueError whose text starts with the dotted key."""
    try:
        return build()
    except GeometryError as error:
        raise ValueError(f"{prefix}{error.argument}: {error.message}") from None


def _plain(value: Any) -> Any:
    """Tuples from the spec back to what conv_geometry expects (a tuple stays a per-dim tuple)."""
    return tuple(value) if isinstance(value, (tuple, list)) else value


# ---- 1. weight_tensor ---------------------------------------------------------------------------------

class WeightTensorStill(_Still):
    """E1: the Cout x Cin/groups x k x k weight tensor of one Conv2d, next to its input and output."""

    kind: Literal["weight_tensor"]
    input_shape: Shape3  # (C, H, W)
    batch: PosInt = 1
    out_channels: PosInt
    kernel_size: SizeArg
    stride: SizeArg = 1
    padding: PadArg = 0
    dilation: SizeArg = 1
    groups: PosInt = 1
    bias: Annotated[bool, Strict()] = True

    @model_validator(mode="after")
    def _check_geometry(self) -> "WeightTensorStill":
        self.geometry()
        return self

    def geometry(self) -> Geometry:
        return _geometry_or_value_error("", lambda: conv_geometry(
            tuple(self.input_shape), self.out_channels, _plain(self.kernel_size), _plain(self.stride),
            _plain(self.padding), _plain(self.dilation), self.groups, self.bias, kind="conv2d",
        ))


# ---- 2. cnn_pipeline ----------------------------------------------------------------------------------

def _filters_or_out_channels(schema: dict) -> None:
    """The JSON Schema names `out_channels` by its alias only; a layer gives exactly one of the two names."""
    schema["properties"]["out_channels"] = {**schema["properties"]["filters"], "title": "Out Channels"}
    schema["required"].remove("filters")
    schema["oneOf"] = [{"required": ["filters"]}, {"required": ["out_channels"]}]


class Conv2dLayer(_Still):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              json_schema_extra=_filters_or_out_channels)
    type: Literal["conv2d"]
    out_channels: PosInt = Field(alias="filters")
    kernel_size: SizeArg
    stride: SizeArg = 1
    padding: PadArg = 0
    dilation: SizeArg = 1
    bias: Annotated[bool, Strict()] = True


class ReluLayer(_Still):
    type: Literal["relu"]


class PoolLayer(_Still):
    type: Literal["max_pool2d", "avg_pool2d"]
    kernel_size: SizeArg
    stride: SizeArg | None = None  # None: the kernel size, as torch and Keras do
    padding: NonNegInt | tuple[NonNegInt, NonNegInt] = 0


class FlattenLayer(_Still):
    type: Literal["flatten"]


class LinearLayer(_Still):
    type: Literal["linear"]
    out_features: PosInt
    bias: Annotated[bool, Strict()] = True


Layer = Annotated[Union[Conv2dLayer, ReluLayer, PoolLayer, FlattenLayer, LinearLayer], Field(discriminator="type")]


@dataclass(frozen=True, slots=True)
class SameRuleAxis:
    """TF's padding='same' rule on one spatial axis, its numbers filled in: out = ceil(size / stride), then
    pad total = (out - 1)·stride + dilation·(kernel - 1) + 1 - size, split (before, after), the odd cell after."""

    axis: str  # "H" or "W"
    size: int  # the input's length on this axis
    kernel: int
    stride: int
    dilation: int
    out: int  # ceil(size / stride)
    before: int  # pad on top / left
    after: int  # pad on bottom / right

    @property
    def total(self) -> int:
        return self.before + self.after

    @property
    def unclamped_total(self) -> int:
        """The rule's pad total before TF clamps it at 0 (negative when the kernel is shorter than the stride)."""
        return (self.out - 1) * self.stride + self.dilation * (self.kernel - 1) + 1 - self.size


@dataclass(frozen=True, slots=True)
class PipelineStage:
    """One layer of a pipeline: what it is, the tensor it makes, its weights and parameters (both conventions).

    Data only: the renderer words it (in the theme's language) from these values.
    """

    index: int
    layer_type: str  # conv2d, relu, max_pool2d, avg_pool2d, flatten, linear
    output_shape: tuple[int, ...]  # channels-first, unbatched: (C, H, W) or (N,)
    torch_weight_shape: tuple[int, ...] = ()  # () when the layer has no weights
    keras_weight_shape: tuple[int, ...] = ()
    bias_count: int = 0
    weight_count: int = 0
    in_channels: int = 0  # conv2d: Cin
    out_channels: int = 0  # conv2d: Cout (Keras `filters`)
    in_features: int = 0  # linear
    out_features: int = 0  # linear
    kernel_size: tuple[int, ...] = ()  # (kh, kw): conv2d and the pools
    stride: tuple[int, ...] = ()  # (sh, sw): conv2d and the pools
    padding: str | int | tuple[int, ...] | None = None  # conv2d, pools: as the scene writes it ('same', 'valid', 0, (1, 0))
    pads: tuple[tuple[int, int], ...] = ()  # explicit (before, after) per spatial dim, conv only
    same_rule: str = ""  # conv2d padding='same': "tf" (Keras/TF, any stride) or "torch" (PyTorch, stride 1)
    same_axes: tuple[SameRuleAxis, ...] = ()  # the TF rule's numbers, (H, W)
    torch_refuses_same: bool = False  # TF 'same' with stride > 1 shown beside PyTorch: give the pads explicitly
    merged_shape: tuple[int, ...] = ()  # flatten: the (C, H, W) it lays out as one vector

    @property
    def params(self) -> int:
        return self.weight_count + self.bias_count

    @property
    def keras_output_shape(self) -> tuple[int, ...]:
        return keras_layout(self.output_shape)

    def flat_positions(self) -> np.ndarray:
        """Flatten: where each value of the merged (C, H, W) block lands in the vector, as the engine's flatten
        lays it out (C order: channel, then row, then column)."""
        count = math.prod(self.merged_shape)
        laid_out = flatten(np.arange(count).reshape(self.merged_shape), 0, -1)  # the id of each vector slot
        positions = np.empty(count, dtype=np.int64)
        positions[laid_out.astype(np.int64)] = np.arange(count)
        return positions.reshape(self.merged_shape)


def keras_layout(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(C, H, W) -> (H, W, C); a flat vector stays as it is."""
    return tuple(shape[1:]) + (shape[0],) if len(shape) == 3 else tuple(shape)


def linear_counts(in_features: int, out_features: int, bias: bool) -> tuple[tuple[int, int], int, int]:
    """nn.Linear: weight (out, in), weight count, bias count (the engine has no dense layer)."""
    return (out_features, in_features), in_features * out_features, out_features if bias else 0


def as_pair(value: Any) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)  # type: ignore[return-value]


def tf_same_axes(sizes, pads, kernel, stride, dilation) -> tuple[SameRuleAxis, ...]:
    """TF's 'same' rule per axis (H, W) with the numbers that chose `pads` (from the engine's tf_same_padding)."""
    return tuple(SameRuleAxis(axis=axis, size=n, kernel=k, stride=s, dilation=d, out=-(-n // s),
                              before=before, after=after)
                 for axis, n, (before, after), k, s, d in zip(("H", "W"), sizes, pads, kernel, stride, dilation))


def _conv_stage(i: int, layer: Conv2dLayer, shape: tuple[int, ...], convention: str) -> PipelineStage:
    prefix = f"layers.{i}."
    padding: Any = _plain(layer.padding)
    same_rule, same_axes, refuses = "", (), False
    if layer.padding == "same" and convention != "pytorch":
        # TF's rule works for any stride: out = ceil(n / s), the odd extra pad cell goes after
        padding = _geometry_or_value_error(prefix, lambda: tf_same_padding(
            shape[1:], _plain(layer.kernel_size), _plain(layer.stride), _plain(layer.dilation)))
        same_rule = "tf"
        same_axes = tf_same_axes(shape[1:], padding, as_pair(layer.kernel_size), as_pair(layer.stride),
                                 as_pair(layer.dilation))
        refuses = convention == "both" and any(v > 1 for v in as_pair(layer.stride))
    elif layer.padding == "same":
        same_rule = "torch"
    geometry = _geometry_or_value_error(prefix, lambda: conv_geometry(
        shape, layer.out_channels, _plain(layer.kernel_size), _plain(layer.stride), padding,
        _plain(layer.dilation), 1, layer.bias, kind="conv2d"))
    cout, cin, kh, kw = geometry.weight_shape
    return PipelineStage(
        index=i, layer_type="conv2d", output_shape=geometry.output_shape, torch_weight_shape=geometry.weight_shape,
        keras_weight_shape=(kh, kw, cin, cout), bias_count=geometry.bias_count, weight_count=geometry.weight_count,
        in_channels=cin, out_channels=cout, kernel_size=(kh, kw), stride=tuple(geometry.stride),
        padding=_plain(layer.padding), pads=geometry.padding, same_rule=same_rule, same_axes=same_axes,
        torch_refuses_same=refuses,
    )


def pipeline_stages(input_shape: tuple[int, ...], layers: tuple[Any, ...], convention: str) -> list[PipelineStage]:
    """Walk the layers from `input_shape` (C, H, W), each stage's shapes from the engine; errors name `layers.i.key`."""
    shape = tuple(input_shape)
    stages = []
    for i, layer in enumerate(layers):
        prefix = f"layers.{i}."
        if layer.type in ("conv2d", "max_pool2d", "avg_pool2d") and len(shape) != 3:
            raise ValueError(f"{prefix}type: {layer.type} needs a (C, H, W) tensor but gets {shape} (after flatten)")
        if layer.type == "linear" and len(shape) != 1:
            raise ValueError(f"{prefix}type: linear needs a flat vector but gets {shape}: add a flatten layer before it")
        if layer.type == "conv2d":
            stage = _conv_stage(i, layer, shape, convention)
        elif layer.type == "relu":
            stage = PipelineStage(index=i, layer_type="relu", output_shape=shape)
        elif layer.type in ("max_pool2d", "avg_pool2d"):
            geometry = _geometry_or_value_error(prefix, lambda: pool_geometry(
                layer.type, shape, _plain(layer.kernel_size), _plain(layer.stride), _plain(layer.padding)))
            stage = PipelineStage(index=i, layer_type=layer.type, output_shape=geometry.output_shape,
                                  kernel_size=tuple(geometry.kernel_size), stride=tuple(geometry.stride),
                                  padding=_plain(layer.padding))
        elif layer.type == "flatten":
            # torch.flatten's shape rule, applied to an empty-valued stand-in of the right shape
            flat = flatten(np.empty(shape), 0, -1).shape
            stage = PipelineStage(index=i, layer_type="flatten", output_shape=flat, merged_shape=shape)
        else:  # linear
            weight_shape, weights, biases = linear_counts(shape[0], layer.out_features, layer.bias)
            stage = PipelineStage(
                index=i, layer_type="linear", output_shape=(layer.out_features,), torch_weight_shape=weight_shape,
                keras_weight_shape=(weight_shape[1], weight_shape[0]), bias_count=biases, weight_count=weights,
                in_features=shape[0], out_features=layer.out_features,
            )
        stages.append(stage)
        shape = stage.output_shape
    return stages


class CnnPipelineStill(_Still):
    """D1 / C4 / C6 / D3: a chain of layers with every tensor's shape in PyTorch and Keras layouts."""

    kind: Literal["cnn_pipeline"]
    input_shape: Shape3  # channels-first (C, H, W)
    convention: Literal["pytorch", "keras", "both"] = "both"
    layers: tuple[Layer, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_chain(self) -> "CnnPipelineStill":
        self.stages()
        return self

    def stages(self) -> list[PipelineStage]:
        return pipeline_stages(tuple(self.input_shape), self.layers, self.convention)

    def total_params(self) -> int:
        return sum(stage.params for stage in self.stages())

    def keras_input_shape(self) -> tuple[int, ...]:
        return keras_layout(tuple(self.input_shape))


# ---- 3. relu_map --------------------------------------------------------------------------------------

class ReluMapStill(_Still):
    """C4: a feature map with negatives, and the same map after ReLU."""

    kind: Literal["relu_map"]
    shape: tuple[PosInt, PosInt] | None = None  # (H, W)
    seed: NonNegInt = 0
    range: tuple[Int, Int] = (-5, 5)  # inclusive integer range of the random values
    values: tuple[tuple[float, ...], ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> "ReluMapStill":
        if self.values is None:
            if self.shape is None:
                raise ValueError("shape: give shape (with seed and range) or values")
            if self.range[0] > self.range[1]:
                raise ValueError(f"range: low {self.range[0]} is above high {self.range[1]}")
        else:
            rows = {len(r) for r in self.values}
            if not self.values or len(rows) != 1 or 0 in rows:
                raise ValueError("values: must be a non-empty list of rows of equal length")
            if self.shape is not None and tuple(self.shape) != (len(self.values), rows.pop()):
                raise ValueError(f"shape: {tuple(self.shape)} does not match values of shape "
                                 f"{(len(self.values), len(self.values[0]))}")
        if max(self.map_shape()) > 12:
            raise ValueError(f"shape: {self.map_shape()} is too big to show the numbers (at most 12 per side)")
        return self

    def map_shape(self) -> tuple[int, int]:
        if self.values is not None:
            return (len(self.values), len(self.values[0]))
        return tuple(self.shape)  # type: ignore[return-value]

    def feature_map(self) -> np.ndarray:
        if self.values is not None:
            return np.array(self.values, dtype=np.float64)
        low, high = self.range
        return np.random.default_rng(self.seed).integers(low, high + 1, size=self.map_shape()).astype(np.float64)

    def after_relu(self) -> np.ndarray:
        return relu(self.feature_map())

    def negative_count(self) -> int:
        """How many values ReLU sets to zero."""
        return int((self.feature_map() < 0).sum())


# ---- 4. param_counts ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParamComparison:
    """E3's numbers: a conv layer's weights against a dense layer on the flattened image."""

    conv: Geometry
    kernel_weights: int  # one kernel: k·k·Cin
    dense_in_features: int  # H·W·C
    dense_weights_per_unit: int
    dense_weights: int
    dense_biases: int

    @property
    def dense_params(self) -> int:
        return self.dense_weights + self.dense_biases

    @property
    def dense_to_conv(self) -> float:
        """How many times the conv layer's parameters one dense unit's weights are."""
        return self.dense_weights_per_unit / self.conv.params

    @property
    def conv_positions(self) -> int:
        """Output positions the conv's kernels slide over (Ho·Wo), reusing the same weights at each."""
        return math.prod(self.conv.output_shape[1:])


class ParamCountsStill(_Still):
    """E3: 3x3x3 = 27 weights per kernel, 192 kernels = 5184, against a dense layer on a 1024x768x3 image."""

    kind: Literal["param_counts"]
    kernel_size: PosInt = 3
    in_channels: PosInt = 3
    out_channels: PosInt = 192
    image_shape: Shape3 = (768, 1024, 3)  # (H, W, C), as the post has it
    hidden_units: PosInt = 1

    @model_validator(mode="after")
    def _check(self) -> "ParamCountsStill":
        if self.image_shape[2] != self.in_channels:
            raise ValueError(f"in_channels: {self.in_channels} does not match the image's channels "
                             f"(image_shape[2] = {self.image_shape[2]})")
        self.comparison()
        return self

    def comparison(self) -> ParamComparison:
        h, w, c = self.image_shape
        conv = _geometry_or_value_error("", lambda: conv_geometry(
            (c, h, w), self.out_channels, self.kernel_size, kind="conv2d"))
        in_features = math.prod(self.image_shape)
        _, dense_weights, dense_biases = linear_counts(in_features, self.hidden_units, True)
        return ParamComparison(
            conv=conv, kernel_weights=math.prod(conv.weight_shape[1:]), dense_in_features=in_features,
            dense_weights_per_unit=in_features, dense_weights=dense_weights, dense_biases=dense_biases,
        )


# ---- 5. param_curves ----------------------------------------------------------------------------------

SWEEPABLE = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")


class ConvConfig(_Still):
    input_shape: Shape3  # (C, H, W)
    out_channels: PosInt
    kernel_size: PosInt
    stride: PosInt = 1
    padding: NonNegInt = 0
    dilation: PosInt = 1
    groups: PosInt = 1
    bias: Annotated[bool, Strict()] = True

    def arguments(self) -> dict[str, int]:
        return {"in_channels": self.input_shape[0], "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "dilation": self.dilation, "groups": self.groups}

    def geometry_with(self, **changes: int) -> Geometry:
        args = {**self.arguments(), **changes}
        return conv_geometry(
            (args["in_channels"], *self.input_shape[1:]), args["out_channels"], args["kernel_size"], args["stride"],
            args["padding"], args["dilation"], args["groups"], self.bias, kind="conv2d",
        )


@dataclass(frozen=True, slots=True)
class GrowthLaw:
    """How a count follows the swept value v, exactly at every point: a·v² + b·v + c ("constant", "linear",
    "quadratic"), a/v + c ("inverse"), or "none" when no such law holds (a stride's rounding down)."""

    kind: str
    a: int = 0
    b: int = 0
    c: int = 0


def growth_law(values: tuple[int, ...], counts: tuple[int, ...]) -> GrowthLaw:
    """The simplest law of GrowthLaw's that gives `counts` at `values` with whole-number coefficients."""
    if len(set(counts)) == 1:
        return GrowthLaw("constant", c=counts[0])
    v, n = np.array(values, dtype=np.float64), np.array(counts, dtype=np.float64)
    laws = [("linear", [v, np.ones_like(v)]), ("quadratic", [v * v, v, np.ones_like(v)])]
    if 0 not in values:
        laws.append(("inverse", [1 / v, np.ones_like(v)]))
    for kind, columns in laws:
        if len(values) <= len(columns):  # too few points to tell this law from any other
            continue
        fitted = np.linalg.lstsq(np.stack(columns, axis=1), n, rcond=None)[0]
        whole = [int(round(f)) for f in fitted]
        if np.array_equal(np.stack(columns, axis=1) @ np.array(whole, dtype=np.float64), n):
            if kind == "linear":
                return GrowthLaw(kind, b=whole[0], c=whole[1])
            if kind == "quadratic":
                return GrowthLaw(kind, a=whole[0], b=whole[1], c=whole[2])
            return GrowthLaw(kind, a=whole[0], c=whole[1])
    return GrowthLaw("none")


@dataclass(frozen=True, slots=True)
class Curve:
    """Parameter count and multiply-adds of the base conv with one argument swept (invalid values skipped)."""

    argument: str
    base_value: int
    values: tuple[int, ...]
    params: tuple[int, ...]
    macs: tuple[int, ...]
    skipped: tuple[int, ...]

    @property
    def params_law(self) -> GrowthLaw:
        return growth_law(self.values, self.params)

    @property
    def macs_law(self) -> GrowthLaw:
        return growth_law(self.values, self.macs)


def sweep_values(argument: str, base: ConvConfig) -> range:
    """Candidate values for one argument around the base (the invalid ones are skipped later)."""
    args = base.arguments()
    value = args[argument]
    if argument in ("in_channels", "out_channels", "groups"):
        return range(1, max(2 * value, 16) + 1)
    if argument == "kernel_size":
        return range(1, max(value + 4, 9) + 1)
    if argument == "padding":
        return range(0, max(value + 4, 6) + 1)
    return range(1, max(value + 4, 8) + 1)  # stride, dilation


def param_curve(argument: str, base: ConvConfig) -> Curve:
    values, params, macs, skipped = [], [], [], []
    for v in sweep_values(argument, base):
        try:
            g = base.geometry_with(**{argument: v})
        except GeometryError:
            skipped.append(v)
            continue
        values.append(v)
        params.append(g.params)
        macs.append(g.macs)
    return Curve(argument, base.arguments()[argument], tuple(values), tuple(params), tuple(macs), tuple(skipped))


class ParamCurvesStill(_Still):
    """A11: how the parameter count and multiply-adds grow with each argument of a conv."""

    kind: Literal["param_curves"]
    base: ConvConfig
    sweep: tuple[Literal[SWEEPABLE], ...] = SWEEPABLE  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check(self) -> "ParamCurvesStill":
        _geometry_or_value_error("base.", lambda: self.base.geometry_with())
        if not self.sweep:
            raise ValueError("sweep: name at least one argument")
        if len(set(self.sweep)) != len(self.sweep):
            raise ValueError(f"sweep: names an argument twice: {list(self.sweep)}")
        return self

    def curves(self) -> list[Curve]:
        return [param_curve(a, self.base) for a in self.sweep]


# ---- 6. depthwise_separable ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SeparableComparison:
    standard: Geometry
    depthwise: Geometry
    pointwise: Geometry

    @property
    def separable_params(self) -> int:
        return self.depthwise.params + self.pointwise.params

    @property
    def separable_macs(self) -> int:
        return self.depthwise.macs + self.pointwise.macs

    @property
    def params_ratio(self) -> float:
        """How many times the separable pair's parameters the standard conv's are."""
        return self.standard.params / self.separable_params

    @property
    def macs_ratio(self) -> float:
        return self.standard.macs / self.separable_macs


class DepthwiseSeparableStill(_Still):
    """B6: depthwise (groups = Cin) then pointwise 1x1, against a standard conv of the same shape."""

    kind: Literal["depthwise_separable"]
    input_shape: Shape3
    out_channels: PosInt
    kernel_size: SizeArg
    bias: Annotated[bool, Strict()] = False

    @model_validator(mode="after")
    def _check(self) -> "DepthwiseSeparableStill":
        self.comparison()
        return self

    def comparison(self) -> SeparableComparison:
        cin = self.input_shape[0]
        k = _plain(self.kernel_size)
        standard = _geometry_or_value_error("", lambda: conv_geometry(
            tuple(self.input_shape), self.out_channels, k, bias=self.bias, kind="conv2d"))
        depthwise = _geometry_or_value_error("", lambda: conv_geometry(
            tuple(self.input_shape), cin, k, groups=cin, bias=self.bias, kind="conv2d"))
        pointwise = _geometry_or_value_error("", lambda: conv_geometry(
            depthwise.output_shape, self.out_channels, 1, bias=self.bias, kind="conv2d"))
        return SeparableComparison(standard, depthwise, pointwise)


STILL_MODELS: dict[str, type[BaseModel]] = {
    "weight_tensor": WeightTensorStill,
    "cnn_pipeline": CnnPipelineStill,
    "relu_map": ReluMapStill,
    "param_counts": ParamCountsStill,
    "param_curves": ParamCurvesStill,
    "depthwise_separable": DepthwiseSeparableStill,
}
