"""The words of a scene's alt text (`convgif.alt`), English and Chinese; `convgif.render.labels` merges them in.

Each sentence says what a picture shows, numbers filled in by `convgif.alt`; a scene's alt text is its title and
the longest of its sentences that fits. `{shape:a}` is the shape after its English article ("a 3×3", "an 8×8").
"""

from __future__ import annotations

ALT_LABELS: dict[str, dict[str, str]] = {
    "alt_titled": {"en": "{title}: {what}", "zh": "{title}：{what}"},
    "alt_list": {"en": ", ", "zh": "、"},  # between the items of a list (a chain's layers, a still's kernels)
    "alt_to": {"en": " to ", "zh": " 到 "},  # between the shapes a chain goes through
    "alt_repeated": {"en": "{count}\u00d7 {kind}", "zh": "{count} 个 {kind}"},  # the same layer several times in a row
    "alt_shape_kept": {"en": "{shape} throughout", "zh": "始终为 {shape}"},
    # what steps: the kernels (a conv's count: one per output channel) or the window, by its spatial size
    "alt_kernel_one": {"en": "{size:a} kernel", "zh": "一个 {size} 卷积核"},
    "alt_kernel_many": {"en": "{count} kernels of {size}", "zh": "{count} 个 {size} 卷积核"},
    "alt_kernel_one_1d": {"en": "a size-{size} kernel", "zh": "一个长度为 {size} 的卷积核"},
    "alt_kernel_many_1d": {"en": "{count} kernels of size {size}", "zh": "{count} 个长度为 {size} 的卷积核"},
    "alt_window_one": {"en": "{size:a} window", "zh": "{size} 窗口"},
    "alt_window_one_1d": {"en": "a size-{size} window", "zh": "长度为 {size} 的窗口"},
    # op scenes, one sentence per view (longest first)
    "alt_window": {"en": "{kind} slides {kernels} over {input:a} input, making {output:a} output",
                   "zh": "{kind} 中，{kernels}在 {input} 输入上逐步滑动，得到 {output} 输出"},
    "alt_window_short": {"en": "{kernels} over {input:a} input, making {output:a} output",
                         "zh": "{kernels}在 {input} 输入上滑动，得到 {output} 输出"},
    "alt_volume": {"en": "{kind} in 3D blocks: {kernels} over {input:a} input, making {output:a} output",
                   "zh": "{kind} 的立体图：{kernels}在 {input} 输入上滑动，得到 {output} 输出"},
    "alt_map": {"en": "{kind} turns {input:a} input into {output:a} output, one value per step",
                "zh": "{kind} 把 {input} 输入逐个值变为 {output} 输出"},
    "alt_map_short": {"en": "{kind} turns {input:a} input into {output:a} output",
                      "zh": "{kind} 把 {input} 输入变为 {output} 输出"},
    "alt_zero_insertion": {"en": "{kind} puts zeros between the values of {input:a} input and slides {kernels}, "
                                 "flipped, over the {grid} grid, making {output:a} output",
                           "zh": "{kind} 在 {input} 输入的值之间插入零；{kernels}翻转后在 {grid} 网格上滑动，"
                                 "得到 {output} 输出"},
    "alt_zero_insertion_short": {"en": "{kernels}, flipped, on {grid:a} zero-inserted grid {count:makes|make} "
                                       "{output:a} output",
                                 "zh": "{kernels}翻转后在 {grid} 插零网格上滑动，得到 {output} 输出"},
    "alt_scatter": {"en": "{kind} scatters each value of {input:a} input as a scaled copy of {kernels}, summed into "
                          "{output:a} output",
                    "zh": "{kind} 中，{kernels}乘以 {input} 输入的每个值，散布并累加成 {output} 输出"},
    "alt_scatter_short": {"en": "each value of {input:a} input adds a scaled copy of {kernels} into {output:a} output",
                          "zh": "{kernels}乘以 {input} 输入的每个值，累加成 {output} 输出"},
    # chains and pipelines: the layers, then the shapes the numbers take
    "alt_layers": {"en": "{layers}: {shapes}", "zh": "{layers}：{shapes}"},
    "alt_layers_params": {"en": "{layers}: {shapes}; {params} {params:parameter|parameters}",
                          "zh": "{layers}：{shapes}；共 {params} 个参数"},
    "alt_stages": {"en": "{input} to {output} in {count} {count:stage|stages}",
                   "zh": "{count} 个阶段：{input} 到 {output}"},
    # stills
    "alt_weight_tensor": {"en": "the {weight} weight ({kernels}) takes {input:a} input to {output:a} output; "
                                "{params} {params:parameter|parameters}",
                          "zh": "{weight} 权重（{kernels}）把 {input} 输入变为 {output} 输出；共 {params} 个参数"},
    "alt_weight_tensor_short": {"en": "the {weight} weight takes {input:a} input to {output:a} output",
                                "zh": "{weight} 权重把 {input} 输入变为 {output} 输出"},
    "alt_relu_map": {"en": "{shape:a} feature map before and after ReLU: {count} negative "
                           "{count:value becomes|values become} 0",
                     "zh": "{shape} 特征图和它经过 ReLU 之后的样子：{count} 个负值变为 0"},
    "alt_relu_map_short": {"en": "{shape:a} feature map before and after ReLU",
                           "zh": "{shape} 特征图和它经过 ReLU 之后的样子"},
    "alt_param_counts": {"en": "bars: {conv} {conv:parameter|parameters} for {kernels}, {dense} "
                               "{dense:weight|weights} for one dense neuron on {image:a} image",
                         "zh": "条形图：{kernels}共 {conv} 个参数，{image} 图像上的一个全连接神经元要 {dense} 个权重"},
    "alt_param_counts_short": {"en": "one dense neuron needs {ratio}\u00d7 the conv layer's parameters",
                               "zh": "一个全连接神经元的参数是卷积层的 {ratio} 倍"},
    "alt_param_curves": {"en": "{count} {count:plot|plots} of parameters and multiply-adds as each argument of {call} on "
                               "{input:a} input changes",
                         "zh": "{count} 张图：{call} 在 {input} 输入上每次改变一个参数时的参数数量和乘加次数"},
    "alt_param_curves_short": {"en": "{count} {count:plot|plots} of parameters and multiply-adds, one per argument",
                               "zh": "{count} 张图：每个参数一张，画出参数数量和乘加次数"},
    "alt_separable": {"en": "a {size} conv from {cin} to {cout} {cout:channel|channels}: {standard} "
                            "{standard:weight|weights}, or {separable} as depthwise then pointwise",
                      "zh": "从 {cin} 到 {cout} 个通道的 {size} 卷积：标准的要 {standard} 个权重，逐通道加逐点只要 {separable} 个"},
    "alt_separable_short": {"en": "{standard} {standard:weight|weights} against {separable}, both making "
                                  "{output:a} output",
                            "zh": "{standard} 个权重对比 {separable} 个，输出都是 {output}"},
    "alt_receptive_field": {"en": "{count} stacked {count:layer|layers} on {input:a} input; one cell of the last output "
                                  "sees {region} of the input",
                            "zh": "{input} 输入上叠 {count} 层；最后一层输出的一个格看到输入的 {region}"},
    "alt_receptive_field_mid": {"en": "{count} {count:layer|layers} on {input:a} input; one output cell sees {region} "
                                      "of it",
                                "zh": "{input} 输入上 {count} 层：一个输出格看到 {region}"},
    "alt_receptive_field_short": {"en": "one cell of the last output sees {region} of the input",
                                  "zh": "最后一层输出的一个格看到输入的 {region}"},
    "alt_conv_matrix": {"en": "{kernel:a} kernel on {input:a} input as one product: the {matrix} matrix C times the "
                              "{count} input {count:value|values} gives {output:a} output",
                        "zh": "{input} 输入上的 {kernel} 卷积核写成一次矩阵乘法：{matrix} 矩阵 C 乘以 {count} 个输入值，"
                              "得到 {output} 输出"},
    "alt_conv_matrix_short": {"en": "the {matrix} matrix C times the flattened {input} input gives {output:a} output",
                              "zh": "{matrix} 矩阵 C 乘以展平的 {input} 输入，得到 {output} 输出"},
    "alt_upsample": {"en": "{input:a} input made {output} three ways: nearest, bilinear and a transposed convolution",
                     "zh": "{input} 输入用三种方法变为 {output}：最近邻、双线性和转置卷积"},
    "alt_upsample_short": {"en": "{input} to {output} three ways", "zh": "{input} 用三种方法变为 {output}"},
    "alt_multichannel_3d": {"en": "{kernel:a} kernel on {input:a} input at one output cell: a 3D window box, and "
                                  "{count} {count:slice|slices} summed into one value",
                            "zh": "{input} 输入上的 {kernel} 卷积核算一个输出格：立体的窗口，以及 {count} 个切片求和"},
    "alt_multichannel_3d_short": {"en": "{kernel:a} kernel on {input:a} input, as a 3D box and as {count} summed "
                                        "{count:slice|slices}",
                                  "zh": "{input} 输入上的 {kernel} 卷积核：立体的窗口和 {count} 个切片"},
    "alt_feature_maps": {"en": "{shape:a} grayscale photo convolved with {kernels} ({names}){relu}",
                         "zh": "{kernels}（{names}）与 {shape} 灰度照片卷积{relu}"},
    "alt_feature_maps_short": {"en": "{shape:a} photo and its feature maps from {kernels}",
                               "zh": "{kernels}从 {shape} 照片得到的特征图"},
    "alt_then_relu": {"en": ", then ReLU", "zh": "，再经过 ReLU"},
}
