"""Every word a frame prints, in one table per language (English and Chinese built in; add a column to add one).

Layouts ask `label(language, key, **values)`; numbers, shapes and formulas are filled in by the caller, so a
translation only holds words and the order they go in.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

# key -> text per language; `{name}` placeholders are filled by `label(...)`.
LABELS: dict[str, dict[str, str]] = {
    # grid roles and headers
    "input": {"en": "input", "zh": "输入"},
    "input_padded": {"en": "input (padded)", "zh": "输入（含填充）"},
    "kernel": {"en": "kernel", "zh": "卷积核"},
    "kernels_to_sums": {"en": "kernels \u2192 sums", "zh": "卷积核 \u2192 求和"},
    "output": {"en": "output", "zh": "输出"},
    "input_channel": {"en": "input ch {channel} \u00b7 {shape}", "zh": "输入 通道{channel} \u00b7 {shape}"},
    "output_channel": {"en": "output ch {channel} \u00b7 {shape}", "zh": "输出 通道{channel} \u00b7 {shape}"},
    "kernel_slice": {"en": "kernel {out} \u00b7 ch {channel}", "zh": "卷积核{out} \u00b7 通道{channel}"},
    "values_hidden": {"en": " \u00b7 values hidden", "zh": " \u00b7 数值省略"},
    # legend: what each colour and outline means
    "input_value": {"en": "input value", "zh": "输入值"},
    "padding": {"en": "padding", "zh": "填充"},
    "inserted_zero": {"en": "inserted zero", "zh": "插入的零"},
    "window": {"en": "window", "zh": "窗口"},
    "in_window": {"en": "in window", "zh": "窗口内"},
    "tapped": {"en": "tapped", "zh": "参与计算"},
    "dilation_gap": {"en": "dilation gap (skipped)", "zh": "膨胀间隙（跳过）"},
    "weight": {"en": "weight", "zh": "权重"},
    "output_done": {"en": "output done", "zh": "已算出的输出"},
    "current_output": {"en": "current output", "zh": "当前输出"},
    "max_selected": {"en": "max (selected)", "zh": "最大值（选中）"},
    "group": {"en": "group {group}", "zh": "分组 {group}"},
    # subtitle parts
    "stride": {"en": "stride {value}", "zh": "步长 {value}"},
    "padding_value": {"en": "padding {value}", "zh": "填充 {value}"},
    "dilation": {"en": "dilation {value}", "zh": "膨胀 {value}"},
    "groups": {"en": "groups {value}", "zh": "分组 {value}"},
    "bias": {"en": "bias", "zh": "偏置"},
    "batch": {"en": "batch {value}", "zh": "批量 {value}"},
    "in_to_out": {"en": "in {input} \u2192 out {output}", "zh": "输入 {input} \u2192 输出 {output}"},
    "kernel_shape": {"en": "kernel {shape}", "zh": "卷积核 {shape}"},
    "padding_counted": {"en": "padding counted", "zh": "填充计入"},
    "padding_not_counted": {"en": "padding not counted", "zh": "填充不计入"},
    # counters and the hold frame
    "step_counter": {"en": "step {step} / {total}", "zh": "第 {step} / {total} 步"},
    "batch_counter": {"en": "batch {batch} \u00b7 ", "zh": "批次 {batch} \u00b7 "},
    "done_counter": {"en": "done \u00b7 {total} steps", "zh": "完成 \u00b7 共 {total} 步"},
    "output_complete": {"en": "output {shape} complete", "zh": "输出 {shape} 已完成"},
    "more_channels": {"en": "\u2026 {count} more channels", "zh": "\u2026 另有 {count} 个通道"},
    # stills
    "feature_map": {"en": "feature map", "zh": "特征图"},
    "image": {"en": "image", "zh": "图像"},
    "relu": {"en": "ReLU", "zh": "ReLU 激活"},
}


def label(language: str, key: str, **values: object) -> str:
    """The `key` label in `language` (English where that language lacks it), placeholders filled."""
    texts = LABELS[key]
    return texts.get(language, texts["en"]).format(**values)


def all_label_text() -> str:
    """Every character any label can print (the shipped CJK font subset must cover these)."""
    return "".join(sorted({ch for texts in LABELS.values() for text in texts.values() for ch in text}))
