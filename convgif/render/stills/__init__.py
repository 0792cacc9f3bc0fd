"""The still figures: shapes and counts (weight tensor, CNN pipeline, ReLU map, parameter counts and curves,
depthwise-separable conv) and views (receptive field, conv as a matrix, upsampling, 3D window, feature maps),
all drawn with one toolkit (`toolkit`) from the numbers their scene models compute.

`STILL_RENDERERS[kind](spec, *, theme, width, title=None, caption=None)` returns (RGB uint8 frame, duration_ms)
pairs (one pair for a still).
"""

from __future__ import annotations

from typing import Callable

from convgif.render.stills import shapes, views
from convgif.render.stills.toolkit import Frames

STILL_RENDERERS: dict[str, Callable[..., Frames]] = {
    "weight_tensor": shapes.render_weight_tensor,
    "cnn_pipeline": shapes.render_cnn_pipeline,
    "relu_map": shapes.render_relu_map,
    "param_counts": shapes.render_param_counts,
    "param_curves": shapes.render_param_curves,
    "depthwise_separable": shapes.render_depthwise_separable,
    "receptive_field": views.render_receptive_field,
    "conv_matrix": views.render_conv_matrix,
    "upsample_compare": views.render_upsample_compare,
    "multichannel_3d": views.render_multichannel_3d,
    "feature_maps": views.render_feature_maps,
}
