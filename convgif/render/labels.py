"""Every word a frame (or the step player around it) prints, in one table per language (English and Chinese built
in; add a column to add one).

Layouts ask `label(language, key, **values)`; numbers, shapes and formulas are filled in by the caller, so a
translation only holds words and the order they go in.
"""

from __future__ import annotations

import re
import string

from convgif.render.labels_alt import ALT_LABELS
from convgif.render.labels_stills import STILL_LABELS

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
    "bias_term": {"en": " + bias ({value})", "zh": " + 偏置 ({value})"},
    "values_hidden_width": {"en": "Numbers hidden: {cell} px cells are too small for them; they show at --width {width}.",
                            "zh": "数值省略：{cell} 像素的格子放不下数字；--width {width} 时显示。"},
    # a slide (render.aspect): its width is not the lever, its size is (a larger slide sets larger cells)
    "values_hidden_slide": {"en": "Numbers hidden: {cell} px cells are too small for them on a slide this size.",
                            "zh": "数值省略：这个尺寸的幻灯片上，{cell} 像素的格子放不下数字。"},
    "values_hidden_why": {"en": "Numbers hidden: {cell} px cells are too small for them at any width.",
                          "zh": "数值省略：{cell} 像素的格子放不下数字，任何宽度都显示不了。"},
    "pixel_shade": {"en": "pixel value (0 black \u2026 255 white, in {count} {count:grey|greys})",
                    "zh": "像素值（0 黑 \u2026 255 白，分 {count} 级灰度）"},
    # "stronger", not "darker": a shade goes from the empty cell's colour towards the accent, darker on a light
    # theme and lighter on a dark one
    "positive_output": {"en": "output > 0 (stronger colour: larger)", "zh": "输出 > 0（颜色越浓越大）"},
    "negative_output": {"en": "output < 0 (stronger colour: more negative)", "zh": "输出 < 0（颜色越浓越负）"},
    "bias_named": {"en": "bias {value}", "zh": "偏置 {value}"},
    "bank_kernel": {"en": "kernel {out}", "zh": "卷积核{out}"},
    "bank_kernel_bias": {"en": "kernel {out} \u00b7 bias {bias}", "zh": "卷积核{out} \u00b7 偏置 {bias}"},
    "kernel_slice": {"en": "kernel {out} \u00b7 ch {channel}", "zh": "卷积核{out} \u00b7 通道{channel}"},
    "values_hidden": {"en": " \u00b7 values hidden", "zh": " \u00b7 数值省略"},
    # the volume view (render.view = "volume")
    "volume_front": {"en": "{name} {shape} \u00b7 front: ch 0", "zh": "{name} {shape} \u00b7 正面：通道0"},
    # while a step's window or output lies on channel k > 0 (its face drawn over the faded front one)
    "volume_seen": {"en": "{name} {shape} \u00b7 seen through: ch {k}", "zh": "{name} {shape} \u00b7 透视：通道{k}"},
    "volume_seen_short": {"en": "{name} {shape} \u00b7 seen: ch {k}", "zh": "{name} {shape} \u00b7 通道{k}"},
    "volume_seen_shortest": {"en": "{name} {shape} \u00b7 ch {k}", "zh": "{name} {shape} \u00b7 通道{k}"},
    "kernels_volume": {"en": "{count} {count:kernel|kernels}, one per output channel", "zh": "{count} 个卷积核，每个输出通道一个"},
    "current_kernel": {"en": "current kernel", "zh": "当前卷积核"},
    "channel_layer": {"en": "a layer = a channel", "zh": "一层 = 一个通道"},
    "window_box": {"en": "window through the channels read", "zh": "窗口（穿过所读的通道）"},
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
    "done_counter": {"en": "done \u00b7 {total} {total:step|steps}", "zh": "完成 \u00b7 共 {total} 步"},
    "output_complete": {"en": "output {shape} complete", "zh": "输出 {shape} 已完成"},
    "more_channels": {"en": "\u2026 {count} more {count:channel|channels}", "zh": "\u2026 另有 {count} 个通道"},
    "more_terms": {"en": "({count} more)", "zh": "（另 {count} 项）"},
    "output_formula": {"en": "output {formula}", "zh": "输出 {formula}"},
    # transposed convolution: the zero-insertion view
    "zi_grid": {"en": "zero-inserted grid", "zh": "插零网格"},
    "zi_grid_channel": {"en": "zero-inserted grid ch {channel} \u00b7 {shape}", "zh": "插零网格 通道{channel} \u00b7 {shape}"},
    "zi_kernel_flipped": {"en": "kernel flipped", "zh": "翻转的卷积核"},
    "zi_kernel_flipped_slice": {"en": "kernel flipped \u00b7 out {out} \u00b7 ch {channel}",
                                "zh": "翻转的卷积核 \u00b7 输出{out} \u00b7 通道{channel}"},
    "zi_flipped_to_sums": {"en": "flipped kernels \u2192 sums", "zh": "翻转的卷积核 \u2192 求和"},
    "zi_original_kernel": {"en": "original kernel", "zh": "原卷积核"},
    "zi_original_slice": {"en": "original w[{channel}, {out}]", "zh": "原权重 w[{channel}, {out}]"},
    "zi_as_stride1": {"en": " \u00b7 as a stride-1 conv", "zh": " \u00b7 等价于步长 1 的卷积"},
    "zi_grid_note": {"en": "grid {axis}: {count} {count:value|values}, {zeros} between each, {pad}{extra}: {size} {size:cell|cells}",
                     "zh": "网格 {axis}：{count} 个值，每两个之间插入 {zeros}，{pad}{extra}：共 {size} 格"},
    "zi_zero_one": {"en": "{count} zero", "zh": "{count} 个零"},
    "zi_zero_many": {"en": "{count} zeros", "zh": "{count} 个零"},
    "zi_pad_each_side": {"en": "{count} padding each side ({rule})", "zh": "每边填充 {count}（{rule}）"},
    "zi_crop_each_side": {"en": "{count} cropped each side ({rule})", "zh": "每边裁掉 {count}（{rule}）"},
    "zi_output_padding_extra": {"en": ", {count} output padding", "zh": "，输出填充 {count}"},
    "zi_complete": {"en": "output {shape} complete, as a conv over the grid:", "zh": "输出 {shape} 已完成，相当于在网格上做卷积："},
    "output_padding": {"en": "output padding", "zh": "输出填充"},
    "output_padding_value": {"en": "output padding {value}", "zh": "输出填充 {value}"},
    "weight_flipped": {"en": "weight (flipped)", "zh": "权重（翻转）"},
    # transposed convolution: the scatter view
    "sc_bias_at_end": {"en": "bias (added at the end)", "zh": "偏置（最后加上）"},
    "sc_view": {"en": " \u00b7 scatter view", "zh": " \u00b7 散布视图"},
    "sc_current_input": {"en": "current input", "zh": "当前输入"},
    "sc_products": {"en": "products", "zh": "乘积"},
    "sc_running_sum": {"en": "running sum", "zh": "累加和"},
    "sc_just_written": {"en": "just written", "zh": "刚写入"},
    "sc_cropped": {"en": "cropped by padding", "zh": "被填充裁掉"},
    "sc_kept_frame": {"en": "kept {shape}", "zh": "保留 {shape}"},
    "read_by_no_window": {"en": "read by no window", "zh": "没有窗口读取"},
    "not_this_step": {"en": "faded: channels this step does not use", "zh": "淡化：本步不用的通道"},
    "sc_output_cropped": {"en": "output ch {channel} \u00b7 full {full}, kept {shape}",
                          "zh": "输出 通道{channel} \u00b7 完整 {full}，保留 {shape}"},
    "sc_kernel_slice": {"en": "kernel w[{channel}, {out}]", "zh": "卷积核 w[{channel}, {out}]"},
    "sc_products_label": {"en": "{times} {value} = products", "zh": "{times} {value} = 乘积"},
    "sc_header_kernel": {"en": "kernel \u00d7 value \u2192 products", "zh": "卷积核 \u00d7 输入值 \u2192 乘积"},
    # not "output (running sums)": the finished frame's cells hold the output, running sum + bias
    "sc_header_output": {"en": "output", "zh": "输出"},
    "sc_step_line": {"en": "input ch {channel} ({where}) = {value}: {factor} {times} each weight, the {span} {span:product|products} "
                           "added into the output",
                     "zh": "输入 通道{channel} ({where}) = {value}：{factor} {times} 每个权重，{span} 个乘积加到输出上"},
    "sc_in_border": {"en": " ({count} in the cropped border)", "zh": "（其中 {count} 个落在被裁掉的边框里）"},
    "sc_channel_sums": {"en": "ch {channel} sums: ", "zh": "通道{channel} 累加："},
    "sc_sums": {"en": "sums: ", "zh": "累加："},
    "sc_kept": {"en": "output {shape} = the running sums", "zh": "输出 {shape} = 累加和"},
    "sc_kept_framed": {"en": "output {shape} = the running sums inside the frame", "zh": "输出 {shape} = 框内的累加和"},
    "sc_kept_cropped": {"en": " (full grid cropped by padding {padding})", "zh": "（完整网格按填充 {padding} 裁剪）"},
    "sc_kept_bias": {"en": ", plus the bias", "zh": "，再加上偏置"},
    # pooling
    "pool_max": {"en": "max", "zh": "最大值"},
    "pool_mean": {"en": "mean", "zh": "平均值"},
    "pool_tag_max": {"en": "max", "zh": "最大"},
    "pool_window": {"en": "window {value}", "zh": "窗口 {value}"},
    "pool_divisor_all": {"en": "divisor {divisor}: the window's cells", "zh": "除数 {divisor}：窗口内的格数"},
    "pool_padding_included": {"en": ", padding included", "zh": "，含填充"},
    "pool_divisor_inside": {"en": "divisor {divisor}: the window's cells inside the input (padding not counted)",
                            "zh": "除数 {divisor}：窗口内落在输入里的格数（填充不计入）"},
    # stills (figures drawn by matplotlib)
    "feature_map": {"en": "feature map", "zh": "特征图"},
    "image": {"en": "image", "zh": "图像"},
    "relu": {"en": "ReLU", "zh": "ReLU 激活"},
    **STILL_LABELS,
    **ALT_LABELS,
    # the step player's controls (convgif.encode.player; HTML, set in the reader's font): `player_words`
    "player_role": {"en": "step player", "zh": "分步播放器"},
    "player_figure": {"en": "{title}: step player ({keys})", "zh": "{title}：分步播放器（{keys}）"},
    "player_page_title": {"en": "{title}: step player", "zh": "{title}：分步播放器"},
    "player_keys": {"en": "space plays or pauses, arrow keys step", "zh": "空格键播放或暂停，方向键切换步骤"},
    "player_keys_quiz": {"en": "space plays or pauses, arrow keys step, R reveals the answer",
                         "zh": "空格键播放或暂停，方向键切换步骤，R 键揭晓答案"},
    "player_previous": {"en": "Previous step", "zh": "上一步"},
    "player_play": {"en": "Play", "zh": "播放"},
    "player_pause": {"en": "Pause", "zh": "暂停"},
    "player_next": {"en": "Next step", "zh": "下一步"},
    "player_scrub": {"en": "Step", "zh": "步骤"},
    "player_speed": {"en": "Speed", "zh": "速度"},
    "player_loop": {"en": "Loop", "zh": "循环播放"},
    "player_reveal": {"en": "Reveal", "zh": "揭晓"},  # the visible start of the button's name, "Reveal the answer"
    "player_reveal_answer": {"en": "Reveal the answer", "zh": "揭晓答案"},
    "player_cell": {"en": "output ch {channel} ({index})", "zh": "输出 通道{channel} ({index})"},
}


class _LabelFormatter(string.Formatter):
    """`str.format`, plus a number's word in its number: `{count:kernel|kernels}` is "kernel" when `count` is 1 (or
    "1", a number already written out), else "kernels" (English; a language without plurals writes no bar); and
    `{shape:a}`, the value after its English article: "a 3×3", "an 8×8", "an 11×11"."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if str(value) == "1" else many
        if format_spec == "a":
            return f"{_article(str(value))} {value}"
        return super().format_field(value, format_spec)


def _article(text: str) -> str:
    """"an" before a word said with a vowel first (eight, eleven, eighteen, eighty, ...), else "a"."""
    number = re.match(r"\d+", text)
    if number is None:
        return "an" if text[:1].lower() in tuple("aeiou") else "a"
    digits = number.group()
    # 8, 80, 800..., and 11 or 18 said as eleven or eighteen (11, 11,000, 18,000,000, ...)
    return "an" if digits[0] == "8" or (digits[:2] in ("11", "18") and len(digits) % 3 == 2) else "a"


_FORMATTER = _LabelFormatter()


def label(language: str, key: str, **values: object) -> str:
    """The `key` label in `language` (English where that language lacks it), placeholders filled; a placeholder
    `{name:one|many}` is the word for `name`'s number, `{name:a}` the value after its article (`_LabelFormatter`)."""
    texts = LABELS[key]
    text = texts.get(language, texts["en"])
    return _FORMATTER.format(text, **values) if "|" in text or ":a}" in text else text.format(**values)


def player_words(language: str) -> dict[str, str]:
    """The step player's words (keys `player_*`) in `language`, keyed by their English, placeholders unfilled: the
    player (convgif.encode, which imports no labels) is handed them on its Deck and fills them itself."""
    return {texts["en"]: texts.get(language, texts["en"]) for key, texts in LABELS.items() if key.startswith("player_")}


def all_label_text() -> str:
    """Every character any label can print (the shipped CJK font subset must cover these)."""
    return "".join(sorted({ch for texts in LABELS.values() for text in texts.values() for ch in text}))
