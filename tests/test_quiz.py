"""`[render] quiz = true` (issue 18, exercises): every step is shown twice, first as a question frame with the
step's answers as "?", then as its answer frame, which is exactly the frame a plain render draws.

- For a conv, a pool, a transposed conv (zero insertion and scatter), a volume view and a chain (its map layers):
  the question frame's layout manifest shows "?" where the answers are, and no answer value of the step (from the
  engine's trace, not from the frame) anywhere in its texts; the answer frame is byte-identical to the plain
  render's frame of that step; the question differs from the answer only where the manifest says an answer is.
- GIF: 2 × steps + the hold frame; pptx: a question slide and an answer slide per step.
- The step player in headless Chromium: the question frame, Reveal (button and R) draws the answer frame's pixels
  and the step's text with its value, another step hides it again; the button has an accessible name.
- `quiz = "yes"`: one line naming the file and render.quiz, exit 2.

Without Chromium the browser tests skip locally and FAIL under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require
from PIL import Image
from test_player import Tab, problems, write_player

from convgif.cli import main
from convgif.render.manifest import frame_items
from convgif.render.primitives import fmt_number
from convgif.scene import load_scene
from convgif.sources import frame_source

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"
NUMBER = re.compile(r"[\u2212-]?\d+(?:\.\d+)?")
RESULT = re.compile(r"= (\S+)(?: \(.*\))?$")  # a line's result, and a note after it ("= 0 (negative → 0)")


def scene_of(name: str, *, quiz: bool = True, **render):
    scene = load_scene(SCENES / f"{name}.toml")
    return scene.model_copy(update={"render": scene.render.model_copy(update={"quiz": quiz, **render})})


def numbers(texts) -> list[str]:
    """Every number token in `texts` ("5×(−1) = −14" → 5, −1, −14)."""
    return [n for text in texts for n in NUMBER.findall(text)]


def texts_of(items) -> list[str]:
    """Every text of a frame's manifest but its step counter ("step 5 / 18": not an answer)."""
    return [i["text"] for i in items if "text" in i and i.get("kind") != "counter"]


def pairs_and_plain(name: str, **render):
    """(question frames, answer frames, the quiz's hold frame) of a quiz render, and the plain render's frames."""
    quiz = list(frame_source(scene_of(name, **render)).frames("steps"))
    plain = list(frame_source(scene_of(name, quiz=False, **render)).frames("steps"))
    questions = [f for f in quiz if f.quiz == "question"]
    answers = [f for f in quiz if f.quiz == "answer"]
    assert [f.quiz for f in quiz] == ["question", "answer"] * len(questions) + [""]
    assert [f.step for f in questions] == [f.step for f in answers] == [f.step for f in plain[:-1]]
    return questions, answers, quiz[-1], plain


def changed(question_items, answer_items) -> list[dict]:
    """The manifest items whose text differs between a question and its answer (or that only one of them has)."""
    def keyed(items):
        out = {}
        for item in items:
            key = (item["role"], item.get("tensor"), item.get("channel"), tuple(item.get("index") or ()),
                   item.get("kind"), tuple(item["box"]) if item["role"] != "cell" else None)
            out.setdefault(key, []).append(item)
        return out

    q, a = keyed(question_items), keyed(answer_items)
    out = []
    for key in set(q) | set(a):
        if [i.get("text") for i in q.get(key, [])] != [i.get("text") for i in a.get(key, [])]:
            out += q.get(key, []) + a.get(key, [])
    return out


def kinds_of(items) -> set[tuple]:
    return {(i["role"], i.get("tensor"), i.get("kind")) for i in items}


def assert_differs_only_in(question: np.ndarray, answer: np.ndarray, boxes) -> None:
    differ = (question != answer).any(axis=2)
    assert differ.any(), "the question frame shows the answer frame unchanged"
    allowed = np.zeros_like(differ)
    for x0, y0, x1, y1 in boxes:
        allowed[max(0, y0 - 2):y1 + 2, max(0, x0 - 2):x1 + 2] = True  # a glyph's anti-aliased fringe
    outside = differ & ~allowed
    assert not outside.any(), f"{int(outside.sum())} pixels differ outside the answers, e.g. at " \
                              f"{np.argwhere(outside)[:3].tolist()}"


def current_cells(items) -> list[dict]:
    return [i for i in items if i["role"] == "cell" and i["tensor"] == "output" and i.get("state") == "current"]


def results(items) -> list[str]:
    """What each arithmetic line's last "=" gives."""
    found = (RESULT.search(t["text"]) for t in items if t["role"] == "text" and t["kind"] == "arithmetic")
    return [match.group(1) for match in found if match]


# ---- op scenes: conv, pool, transposed (both views), volume ---------------------------------------------------

# (scene, step, answers of that step from the trace); each step chosen where its answer values appear in no given
# of the frame (inputs, weights, earlier outputs), so "nowhere in the question's texts" is a real check
CASES = {
    "a01_plain_conv": 10,
    "c05_avg_pool": 5,
    "c08_transposed_zero_insertion": 7,
    "a09_everything_volume": 4,
}


def trace_answers(source, step: int) -> list[str]:
    """The values step `step` computes, from the engine's trace: its output value and any channel sums."""
    t = source.trace.step(step)
    sums = getattr(t, "channel_sums", None)
    values = [float(t.value)] + ([] if sums is None else [float(v) for v in np.asarray(sums).reshape(-1)])
    if len(values) == 2:  # one input channel: its sum is the output value (without bias)
        values = values[:1]
    return [fmt_number(v) for v in values]


@pytest.mark.parametrize("name", list(CASES))
def test_question_frame_hides_the_steps_answers(name):
    step = CASES[name]
    questions, answers, hold, plain = pairs_and_plain(name)
    source = frame_source(scene_of(name))
    question_items = frame_items(source.view, step, question=True)
    answer_items = frame_items(source.view, step)
    # the current output cell reads "?", every arithmetic result " = ?"
    assert [c.get("text") for c in current_cells(question_items)] == ["?"]
    assert results(question_items) and set(results(question_items)) == {"?"}
    wanted = trace_answers(source, step)
    assert [c.get("text") for c in current_cells(answer_items)] == [wanted[0]]
    assert wanted[0] in results(answer_items)
    # no answer of the step anywhere in the question frame's texts (cells, labels, arithmetic, sums by the kernels)
    shown = numbers(texts_of(question_items))
    assert not set(wanted) & set(shown), (wanted, sorted(set(shown)))
    assert set(wanted) <= set(numbers(texts_of(answer_items)))
    # the frame's plain text (notes, screen readers) says "= ?" too
    number = [f.step for f in questions].index(step)
    assert "= ?" in questions[number].text and f"= {wanted[0]}" in answers[number].text
    assert not set(wanted) & set(numbers(questions[number].text.split("\n")[1:]))
    # pixels: each answer frame is the plain render's frame; the question differs only where an answer is
    for answer, frame in zip(answers, plain):
        assert np.array_equal(answer.pixels, frame.pixels)
        assert answer.text == frame.text
    assert np.array_equal(hold.pixels, plain[-1].pixels) and hold.step is None
    differing = changed(question_items, answer_items)
    # what changes: the current output cell, the arithmetic, the sums written beside the kernels (labels)
    assert kinds_of(differing) <= {("cell", "output", None), ("text", None, "arithmetic"), ("text", None, "label")}
    assert_differs_only_in(questions[number].pixels, answers[number].pixels, [i["box"] for i in differing])
    cell = current_cells(answer_items)[0]["box"]
    assert (questions[number].pixels[cell[1]:cell[3], cell[0]:cell[2]]
            != answers[number].pixels[cell[1]:cell[3], cell[0]:cell[2]]).any()


def test_max_pool_question_does_not_mark_the_maximum():
    step = 5
    source = frame_source(scene_of("c05_max_pool"))
    question = frame_items(source.view, step, question=True)
    answer = frame_items(source.view, step)
    tag = "max"
    assert any(i.get("text") == tag for i in answer)  # the answer frame tags the selected input cell
    assert not any(i.get("text") == tag for i in question)
    assert [c.get("text") for c in current_cells(question)] == ["?"] and set(results(question)) == {"?"}
    question_frame = next(f for f in source.frames("steps") if f.step == step and f.quiz == "question")
    answer_frame = frame_source(scene_of("c05_max_pool", quiz=False)).view.frames([step])
    tagged = next(i for i in answer if i.get("text") == tag)["box"]  # the selected cell looks as any tapped one
    assert (question_frame.pixels[tagged[1]:tagged[3], tagged[0]:tagged[2]]
            != next(answer_frame)[tagged[1]:tagged[3], tagged[0]:tagged[2]]).any()


def test_scatter_question_hides_the_products_and_the_sums_it_writes():
    name, step = "c08_transposed_scatter", 3
    questions, answers, hold, plain = pairs_and_plain(name)
    source = frame_source(scene_of(name))
    t = source.trace.step(step)
    question_items = frame_items(source.view, step, question=True)
    answer_items = frame_items(source.view, step)
    # the cells the step adds into read "?", as do its products; the sums line gives no result
    written = current_cells(question_items)
    assert len(written) == np.asarray(t.products).size and {c.get("text") for c in written} == {"?"}
    products = [i for i in question_items if i["role"] == "cell" and i["tensor"] == "products"]
    assert products and {i.get("text") for i in products} == {"?"}
    answer_products = sorted(i["text"] for i in answer_items if i["role"] == "cell" and i["tensor"] == "products")
    assert answer_products == sorted(fmt_number(float(v)) for v in np.asarray(t.products).reshape(-1))
    sums = next(i["text"] for i in question_items if i.get("kind") == "arithmetic" and "+" in i["text"])
    assert re.findall(r"= (\S+?)(?:,|$)", sums) and set(re.findall(r"= (\S+?)(?:,|$)", sums)) == {"?"}
    for answer, frame in zip(answers, plain):
        assert np.array_equal(answer.pixels, frame.pixels)
    number = [f.step for f in questions].index(step)
    differing = changed(question_items, answer_items)
    assert_differs_only_in(questions[number].pixels, answers[number].pixels, [i["box"] for i in differing])
    assert kinds_of(differing) <= {("cell", "output", None), ("cell", "products", None), ("text", None, "arithmetic")}


# ---- a chain: its conv, relu, pool, flatten and linear stages ---------------------------------------------------

def test_chain_questions_hide_every_stages_answers():
    from convgif.scene.chain import STEP

    name = "c06_chain_conv_relu_pool_linear"
    source = frame_source(scene_of(name))
    plain = list(frame_source(scene_of(name, quiz=False)).frames("steps"))
    frames = list(source.frames("steps"))
    steps = sum(what == STEP for what, _, _ in source.plan)
    assert len(frames) == len(plain) + steps == source.frame_count
    answers = [f for f in frames if f.quiz != "question"]
    assert [f.quiz for f in answers].count("answer") == steps
    for answer, frame in zip(answers, plain):  # every answer, transition and hold frame as the plain render's
        assert np.array_equal(answer.pixels, frame.pixels) and answer.text == frame.text
    seen = set()
    for k, view in enumerate(source.views):
        stage = source.stages[k]
        first = stage.step_indices()[len(stage.step_indices()) // 2]
        question = frame_items(view, first, question=True)
        answer = frame_items(view, first)
        value = fmt_number(float(view.trace.step(first).value))
        assert [c.get("text") for c in current_cells(question)] == ["?"], stage.kind
        assert [c.get("text") for c in current_cells(answer)] == [value], stage.kind
        assert set(results(question)) == {"?"} and value in results(answer), stage.kind
        seen.add(stage.kind)
    assert seen == {"conv2d", "relu", "max_pool2d", "flatten", "linear"}
    # in the frames: a question directly before its answer, the same step, differing inside the stage's body only
    for question, answer in zip(frames, frames[1:]):
        if question.quiz != "question":
            continue
        assert answer.quiz == "answer" and answer.step == question.step
        assert question.text.endswith("= ?") and not answer.text.endswith("= ?")
        differ = (question.pixels != answer.pixels).any(axis=2)
        assert differ.any() and not differ[:source.header.height].any()  # the header is the same


# ---- writers -------------------------------------------------------------------------------------------------

def test_gif_has_a_question_and_an_answer_per_step(tmp_path):
    assert main(["render", str(SCENES / "a01_plain_conv_quiz.toml"), "-o", str(tmp_path), "-q"]) == 0
    steps = len(frame_source(scene_of("a01_plain_conv")).steps)
    with Image.open(tmp_path / "a01_plain_conv_quiz.gif") as gif:
        assert gif.n_frames == 2 * steps + 1 == 99


def test_pptx_has_a_question_and_an_answer_slide_per_step(tmp_path):
    pptx = require("pptx", "pip install 'convgif[pptx]'")
    path = SCENES / "a01_plain_conv.toml"
    counts = {}
    for flag in ([], ["--quiz"]):
        out = tmp_path / ("quiz" if flag else "plain")
        assert main(["render", str(path), "-o", str(out), "-q", "--format", "pptx", "--aspect", "16:9", *flag]) == 0
        deck = pptx.Presentation(str(out / "a01_plain_conv.pptx"))
        counts[bool(flag)] = [slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
                              for slide in deck.slides]
    steps = len(frame_source(scene_of("a01_plain_conv")).steps)
    assert len(counts[True]) == len(counts[False]) + steps
    questions = [n for n in counts[True] if n.startswith("Step") and ", question." in n.split("\n")[0]]
    answers = [n for n in counts[True] if n.startswith("Step") and ", answer." in n.split("\n")[0]]
    assert len(questions) == len(answers) == steps
    assert all(n.endswith("= ?") for n in questions) and not any(n.endswith("= ?") for n in answers)


def test_quiz_yes_is_one_line_naming_the_file_and_key(tmp_path, capsys):
    scene = tmp_path / "bad.toml"
    scene.write_text((SCENES / "a01_plain_conv.toml").read_text(encoding="utf-8") + 'quiz = "yes"\n',
                     encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", str(scene), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"{scene}: render.quiz: 'yes' is not true or false"
    assert "Traceback" not in "\n".join(err) and not list(out.glob("*.gif"))


def test_a_still_scene_refuses_a_quiz_in_one_line(tmp_path, capsys):
    """A still has no steps whose answers could be hidden: asking for a quiz is an error, not a silent no-op."""
    text = (SCENES / "a11_param_curves.toml").read_text(encoding="utf-8")
    scene = tmp_path / "still.toml"
    scene.write_text(text.replace("[render]\n", "[render]\nquiz = true\n", 1), encoding="utf-8")
    out = tmp_path / "out"
    expected = [f"{scene}: render.quiz: a still scene has no steps whose answers a quiz could hide: remove this key "
                "(or --quiz)"]
    assert main(["render", str(scene), "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == expected
    assert not out.exists() or not any(out.iterdir())
    plain = tmp_path / "plain.toml"
    plain.write_text(text, encoding="utf-8")
    assert main(["render", str(plain), "--quiz", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [line.replace(str(scene), str(plain)) for line in expected]


def test_schema_and_readme_name_the_key():
    from convgif.scene.schema import scene_json_schema

    schema = scene_json_schema()
    render = schema["$defs"]["RenderSpec"]["properties"]
    assert render["quiz"]["type"] == "boolean" and render["quiz"]["default"] is False
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "quiz = false " in readme and "[--quiz]" in readme and "### Quiz" in readme


# ---- the step player in Chromium ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def quiz_player(tmp_path_factory):
    """a01's quiz drawn light and dark, and its player page holding both."""
    frames = {}
    for theme in ("light", "dark"):
        frames[theme] = list(frame_source(scene_of("a01_plain_conv", theme=theme)).frames("steps"))
    deck = frame_source(scene_of("a01_plain_conv")).deck()
    out = tmp_path_factory.mktemp("quiz_player")
    page = write_player(out / "a01_quiz.html", frames["light"] + frames["dark"], deck)
    return {**frames, "page": page, "dir": out}


def _wait(tab: Tab, expression: str, what: str) -> None:
    deadline = time.monotonic() + 5
    while not tab.evaluate(expression):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _click(tab: Tab, selector: str) -> None:
    box = tab.evaluate(f"(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); "
                       "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        tab.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                              "clickCount": 1})
    time.sleep(0.05)


def _scrub(tab: Tab, frame: int) -> None:
    tab.evaluate(f"(() => {{ const s = document.querySelector('.cgp-scrub'); s.value = '{frame}'; "
                 "s.dispatchEvent(new Event('input')); })()")
    tab.wait_drawn(frame)


def _revealed(tab: Tab):
    return tab.evaluate("document.querySelector('.cgp').getAttribute('data-revealed')")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_player_reveals_the_answer_and_hides_it_on_another_step(quiz_player, browser, scheme):
    frames = quiz_player[scheme]
    questions = [f for f in frames if f.quiz != "answer"]  # what the player steps through: questions, then hold
    answers = {f.step: f for f in frames if f.quiz == "answer"}
    tab = Tab(browser, quiz_player["page"].as_uri(), media={"prefers-color-scheme": scheme})
    try:
        tab.press(" ", 32)  # pause
        k = 10
        _scrub(tab, k)
        assert np.array_equal(tab.canvas(), questions[k].pixels)  # the question: "?"
        assert tab.state()["text"] == questions[k].text.strip() and tab.state()["text"].endswith("= ?")
        assert tab.evaluate("document.querySelector('.cgp-reveal').getAttribute('aria-pressed')") == "false"
        _click(tab, ".cgp-reveal")
        _wait(tab, f"document.querySelector('.cgp').getAttribute('data-painted') === '{k}'", "no answer drawn")
        step = questions[k].step
        assert np.array_equal(tab.canvas(), answers[step].pixels)  # exactly the answer frame
        assert tab.state()["text"] == answers[step].text.strip() and not tab.state()["text"].endswith("= ?")
        assert tab.evaluate("document.querySelector('.cgp-reveal').getAttribute('aria-pressed')") == "true"
        tab.press("ArrowRight", 39)  # another step: its question again
        tab.wait_drawn(k + 1)
        assert _revealed(tab) is None
        assert np.array_equal(tab.canvas(), questions[k + 1].pixels)
        assert tab.state()["text"] == questions[k + 1].text.strip()
        tab.press("r", 82)  # R reveals too
        _wait(tab, f"document.querySelector('.cgp').getAttribute('data-painted') === '{k + 1}'", "R drew nothing")
        assert np.array_equal(tab.canvas(), answers[questions[k + 1].step].pixels)
        assert tab.state()["text"] == answers[questions[k + 1].step].text.strip()
        tab.press("r", 82)  # and again hides it
        tab.wait_drawn(k + 1)
        assert _revealed(tab) is None and tab.state()["text"] == questions[k + 1].text.strip()
        assert np.array_equal(tab.canvas(), questions[k + 1].pixels)
        tab.press("ArrowLeft", 39 - 2)
        tab.wait_drawn(k)
        assert np.array_equal(tab.canvas(), questions[k].pixels)  # what was revealed there is hidden again
        _scrub(tab, len(questions) - 1)  # the finished picture has nothing to reveal
        assert tab.evaluate("document.querySelector('.cgp-reveal').disabled") is True
        events = tab.events()
    finally:
        tab.close()
    assert problems(events) == []


def test_reveal_button_is_named_for_assistive_technology(quiz_player, browser):
    tab = Tab(browser, quiz_player["page"].as_uri())
    try:
        tab.call("Accessibility.enable")
        nodes = tab.call("Accessibility.getFullAXTree")["nodes"]
        buttons = [(n.get("name", {}).get("value", ""), n.get("ignored", False)) for n in nodes
                   if n.get("role", {}).get("value") == "button"]
        tag = tab.evaluate("document.querySelector('.cgp-reveal').tagName + ' ' + "
                           "document.querySelector('.cgp-reveal').type")
        visible = tab.evaluate("document.querySelector('.cgp-reveal').textContent.trim()")
        figure = tab.evaluate("document.querySelector('.cgp').getAttribute('aria-label')")
    finally:
        tab.close()
    assert ("Reveal the answer", False) in buttons  # an accessible name, not ignored
    assert all(name for name, ignored in buttons if not ignored)  # every button has one
    assert tag == "BUTTON button" and "Reveal the answer".startswith(visible)  # the visible label is in its name
    assert "R reveals the answer" in figure


def test_a_plain_player_has_no_reveal(tmp_path):
    frames = list(frame_source(scene_of("a01_plain_conv", quiz=False)).frames("steps"))
    page = write_player(tmp_path / "plain.html", frames, frame_source(scene_of("a01_plain_conv", quiz=False)).deck())
    text = page.read_text(encoding="utf-8")
    assert "cgp-reveal" not in text and "convgifQuiz1" not in text and '"answers"' not in text


def test_pointing_at_a_cell_of_a_quiz_player_does_not_tell_its_value(quiz_player):
    from test_player import player_data

    data = player_data(quiz_player["page"].read_text(encoding="utf-8"))
    assert data["cells"] and not any(" = " in cell[4] for cell in data["cells"])
    assert all(text.endswith("= ?") for text, answer in zip(data["texts"], data["answers"]) if answer is not None)
