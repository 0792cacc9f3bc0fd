"""A scene's alt text: what its picture shows, with its shapes, in at most ALT_LIMIT characters, in its language.

Every scene type says it in sentences built from its numbers (its words in `convgif.render.labels_alt`), longest
first; the alt text is the title and the longest sentence that fits. What does not fit is left out whole (a
sentence's less needed clauses, then the title's part after its colon, then the title): nothing is cut mid-phrase,
and the output shape or result, which every sentence ends on, always stays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from convgif.render.labels import label
from convgif.render.layout_common import shape_text

ALT_LIMIT = 125  # characters: what a screen reader reads out at once (the description goes in a caption)


def alt_text(scene) -> str:
    """What the picture shows, e.g. "A plain 2D convolution: conv2d slides a 3×3 kernel over a 1×9×9 input, making a
    1×7×7 output"; a chain: its layers and the shapes they go through; a still: what its kind draws, with its
    numbers (`_STILLS`)."""
    language = scene.language
    if scene.scene_type == "op":
        sentences = op_sentences(scene, language)
    elif scene.scene_type == "chain":
        sentences = chain_sentences(scene, language)
    else:
        sentences = _STILLS.get(scene.kind, lambda still, language: [])(scene.still, language)
    return fitted(scene.title or scene.stem, sentences, language)


def fitted(title: str, sentences: list[str], language: str) -> str:
    """The title and the first (longest) sentence that fits beside it; else the title's head (before its first
    colon) and such a sentence; else the first sentence that fits alone; else the title if it fits."""
    head = re.split(r"\s*[:\uff1a]", title, maxsplit=1)[0]  # an English or a Chinese (full-width) colon
    for name in dict.fromkeys((title, head)):
        for what in sentences:
            text = label(language, "alt_titled", title=name, what=what)
            if len(text) <= ALT_LIMIT:
                return text
    for text in (*sentences, title, head):
        if len(text) <= ALT_LIMIT:
            return text
    return head[:ALT_LIMIT - 1].rsplit(" ", 1)[0] + "\u2026"  # a title of one clause longer than the limit


# ---- op scenes ------------------------------------------------------------------------------------------

def kernels(language: str, count: int, size: tuple[int, ...], *, window: bool = False) -> str:
    """`count` kernels (or a pooling window) of spatial `size`: "a 3×3 kernel", "4 kernels of 3×3", "a size-3
    kernel" in 1D."""
    noun = "window" if window else "kernel"
    number = "one" if count == 1 or window else "many"
    return label(language, f"alt_{noun}_{number}{'_1d' if len(size) == 1 else ''}", count=count,
                 size=shape_text(size))


def op_sentences(scene, language: str) -> list[str]:
    """What an op scene's view shows (the sentences its `OpView.alt` names), longest first."""
    geometry, view = scene.geometry(), scene.view()
    count, what = 1, ""  # a layer without a window (relu, flatten, linear, upsample) says no kernel
    if geometry.kernel_size and scene.family.has_weights:
        # a view stepping over the input (scatter) shows the kernels one input value scales: C_out/groups of them
        count = geometry.weight_shape[1] if view.steps_over == "input" else geometry.out_channels
        what = kernels(language, count, geometry.kernel_size)
    elif geometry.kernel_size:
        what = kernels(language, 1, geometry.kernel_size, window=True)
    values = dict(kind=scene.kind, kernels=what, count=count, input=shape_text(geometry.input_shape),
                  output=shape_text(geometry.output_shape))
    if scene.family.name == "conv_transpose":
        from convgif.engine.trace_transpose import grid_shape

        values["grid"] = shape_text(grid_shape(geometry))
    return [label(language, key, **values) for key in view.alt]


# ---- chains and pipelines ---------------------------------------------------------------------------------

def chain_sentences(scene, language: str) -> list[str]:
    """A chain's stages and the shapes its numbers take, from its input to its last stage's output."""
    stages = scene.stages()
    shapes = [stages[0].geometry().input_shape] + [stage.geometry().output_shape for stage in stages]
    return layer_sentences(language, [stage.kind for stage in stages], shapes)


def layer_sentences(language: str, kinds: list[str], shapes: list[tuple[int, ...]], params: int | None = None
                    ) -> list[str]:
    """Layers one after another: their kinds (a run of one kind counted) and the shapes the numbers go through
    (a shape kept by a layer said once), then the shapes alone, then the first and last shapes."""
    runs = _runs(kinds)
    layers = label(language, "alt_list").join(
        kind if count == 1 else label(language, "alt_repeated", count=count, kind=kind) for kind, count in runs)
    distinct = [shape for shape, _ in _runs(shapes)]
    through = (label(language, "alt_to").join(map(shape_text, distinct)) if len(distinct) > 1
               else label(language, "alt_shape_kept", shape=shape_text(distinct[0])))
    sentences = [label(language, "alt_layers", layers=layers, shapes=through), through,
                 label(language, "alt_stages", input=shape_text(shapes[0]), output=shape_text(shapes[-1]),
                       count=len(kinds))]
    if params is not None:
        sentences.insert(0, label(language, "alt_layers_params", layers=layers, shapes=through, params=f"{params:,}"))
    return sentences


def _runs(items: Iterable) -> list[tuple[object, int]]:
    runs: list[list] = []
    for item in items:
        if runs and runs[-1][0] == item:
            runs[-1][1] += 1
        else:
            runs.append([item, 1])
    return [(item, count) for item, count in runs]


# ---- stills -------------------------------------------------------------------------------------------------

def _weight_tensor(still, language: str) -> list[str]:
    g = still.geometry()
    values = dict(weight=shape_text(g.weight_shape), input=shape_text(g.input_shape),
                  output=shape_text(g.output_shape), params=f"{g.params:,}",
                  kernels=kernels(language, g.out_channels, g.weight_shape[1:]))
    return [label(language, key, **values) for key in ("alt_weight_tensor", "alt_weight_tensor_short")]


def _cnn_pipeline(still, language: str) -> list[str]:
    stages = still.stages()
    shapes = [tuple(still.input_shape)] + [stage.output_shape for stage in stages]
    return layer_sentences(language, [stage.layer_type for stage in stages], shapes, still.total_params())


def _relu_map(still, language: str) -> list[str]:
    values = dict(shape=shape_text(still.map_shape()), count=still.negative_count())
    return [label(language, key, **values) for key in ("alt_relu_map", "alt_relu_map_short")]


def _param_counts(still, language: str) -> list[str]:
    cmp = still.comparison()
    values = dict(conv=f"{cmp.conv.params:,}", dense=f"{cmp.dense_weights_per_unit:,}",
                  kernels=kernels(language, cmp.conv.out_channels, cmp.conv.weight_shape[1:]),
                  image=shape_text(still.image_shape), ratio=f"{cmp.dense_to_conv:,.0f}")
    return [label(language, key, **values) for key in ("alt_param_counts", "alt_param_counts_short")]


def _param_curves(still, language: str) -> list[str]:
    args = still.base.arguments()
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}  # torch's: left out of the call, as code does
    call = ", ".join([f"Conv2d({args['in_channels']}", str(args["out_channels"]), str(args["kernel_size"])]
                     + [f"{key}={args[key]}" for key, value in defaults.items() if args[key] != value]
                     + ([] if still.base.bias else ["bias=False"])) + ")"
    values = dict(count=len(still.sweep), call=call, input=shape_text(still.base.input_shape))
    return [label(language, key, **values) for key in ("alt_param_curves", "alt_param_curves_short")]


def _depthwise_separable(still, language: str) -> list[str]:
    cmp = still.comparison()
    values = dict(size=shape_text(cmp.standard.kernel_size), cin=cmp.standard.in_channels,
                  cout=cmp.standard.out_channels, standard=f"{cmp.standard.params:,}",
                  separable=f"{cmp.separable_params:,}", output=shape_text(cmp.standard.output_shape))
    return [label(language, key, **values) for key in ("alt_separable", "alt_separable_short")]


def _receptive_field(still, language: str) -> list[str]:
    side = still.growth()[-1].size
    values = dict(count=len(still.layers), input=shape_text(still.input_shape[1:]), region=shape_text((side, side)))
    return [label(language, key, **values)
            for key in ("alt_receptive_field", "alt_receptive_field_mid", "alt_receptive_field_short")]


def _conv_matrix(still, language: str) -> list[str]:
    g = still.geometry
    matrix = (math.prod(g.output_shape[1:]), math.prod(g.input_shape[1:]))  # C: one row per output, a column per input
    values = dict(kernel=shape_text(g.kernel_size), input=shape_text(g.input_shape[1:]), matrix=shape_text(matrix),
                  count=matrix[1], output=shape_text(g.output_shape[1:]))
    return [label(language, key, **values) for key in ("alt_conv_matrix", "alt_conv_matrix_short")]


def _upsample_compare(still, language: str) -> list[str]:
    rows, cols = len(still.input), len(still.input[0])
    values = dict(input=shape_text((rows, cols)), output=shape_text(still.transposed_geometry.output_shape[1:]))
    return [label(language, key, **values) for key in ("alt_upsample", "alt_upsample_short")]


def _multichannel_3d(still, language: str) -> list[str]:
    g = still.geometry
    values = dict(kernel=shape_text(g.weight_shape[1:]), input=shape_text(g.input_shape), count=g.in_channels)
    return [label(language, key, **values) for key in ("alt_multichannel_3d", "alt_multichannel_3d_short")]


def _feature_maps(still, language: str) -> list[str]:
    from convgif.scene.stills_views import kernel_array

    size = kernel_array(still.kernels[0])[0].shape  # every preset is 3×3
    values = dict(shape=shape_text(still.map_shape[1:]), kernels=kernels(language, len(still.kernels), size),
                  names=label(language, "alt_list").join(still.kernels),
                  relu=label(language, "alt_then_relu") if still.relu else "")
    return [label(language, key, **values) for key in ("alt_feature_maps", "alt_feature_maps_short")]


# still kind -> (its model, language) -> what it shows, longest first (a kind missing here says its title alone)
_STILLS: dict[str, Callable[..., list[str]]] = {
    "weight_tensor": _weight_tensor,
    "cnn_pipeline": _cnn_pipeline,
    "relu_map": _relu_map,
    "param_counts": _param_counts,
    "param_curves": _param_curves,
    "depthwise_separable": _depthwise_separable,
    "receptive_field": _receptive_field,
    "conv_matrix": _conv_matrix,
    "upsample_compare": _upsample_compare,
    "multichannel_3d": _multichannel_3d,
    "feature_maps": _feature_maps,
}
