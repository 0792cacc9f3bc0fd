"""`convgif schema` checked by a real JSON Schema validator, against the loader: every scene file in the
repository validates, and documents the loader rejects key by key are rejected too, for the same key."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from convgif.cli import main
from convgif.errors import SceneError
from convgif.scene import parse_scene
from convgif.scene.still import STILL_TOP_KEYS, still_models

SCENES = Path(__file__).resolve().parent.parent / "scenes"

OP_SCENE = {"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]}}
STILL_SCENE = {"still": {"kind": "relu_map", "shape": [4, 4]}}


@pytest.fixture(scope="module")
def schema() -> dict:
    """What `convgif schema` prints, checked to be a valid Draft 2020-12 schema."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["schema"]) == 0
    schema = json.loads(printed.getvalue())
    Draft202012Validator.check_schema(schema)
    return schema


def changed(document: dict, dotted_key: str, value) -> dict:
    """A deep copy of `document` with `dotted_key` set to `value` (tables made on the way)."""
    document = copy.deepcopy(document)
    *tables, key = dotted_key.split(".")
    table = document
    for name in tables:
        table = table.setdefault(name, {})
    table[key] = value
    return document


def failures(schema: dict, document: dict, still_ref: str | None = None) -> set[tuple[str, str]]:
    """(dotted key, JSON Schema keyword) of every innermost failure of `document` against its own branch: the op
    scene's, or the still scene's with `[still]` narrowed to `still_ref` (default: the model of its kind)."""
    defs = copy.deepcopy(schema["$defs"])
    if "still" in document:
        still = defs["StillSceneFile"]["properties"]["still"]
        still_ref = still_ref or still["discriminator"]["mapping"].get(document["still"].get("kind"))
        if still_ref:
            defs["StillSceneFile"]["properties"]["still"] = {"$ref": still_ref}
        branch = {"$ref": "#/$defs/StillSceneFile", "$defs": defs}
    else:
        branch = {"$ref": "#/$defs/SceneFile", "$defs": defs}
    found = set()

    def walk(errors) -> None:
        for error in errors:
            if error.context:
                walk(error.context)
            else:
                found.add((".".join(map(str, error.absolute_path)), error.validator))

    walk(Draft202012Validator(branch).iter_errors(document))
    return found


def loader_problem_keys(document: dict) -> list[str]:
    with pytest.raises(SceneError) as caught:
        parse_scene(document, "x.toml")
    return [key for key, _ in caught.value.problems]


def assert_both_accept(schema: dict, document: dict, source: str = "x.toml") -> None:
    parse_scene(document, source)
    Draft202012Validator(schema).validate(document)


def test_schema_covers_op_and_still_scenes(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["anyOf"] == [{"$ref": "#/$defs/SceneFile"}, {"$ref": "#/$defs/StillSceneFile"}]
    still_scene = schema["$defs"]["StillSceneFile"]
    assert tuple(still_scene["properties"]) == STILL_TOP_KEYS
    assert set(still_scene["properties"]["still"]["discriminator"]["mapping"]) == set(still_models())


@pytest.mark.parametrize("path", sorted(SCENES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_scene_file_validates(schema, path):
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert_both_accept(schema, document, str(path))


def test_the_scene_files_include_still_scenes():
    stills = [p for p in SCENES.glob("*.toml") if "still" in tomllib.loads(p.read_text(encoding="utf-8"))]
    assert len(stills) >= 10


def test_the_base_documents_are_valid(schema):
    for document in (OP_SCENE, STILL_SCENE):
        assert_both_accept(schema, document)
        assert failures(schema, document) == set()


REJECTED = [  # (document, the key the loader names, the failure in the schema: (dotted key, keyword))
    (changed(OP_SCENE, "output.name", "../../evil/x"), "output.name", ("output.name", "pattern")),
    (changed(OP_SCENE, "output.name", "evil/x"), "output.name", ("output.name", "pattern")),
    (changed(OP_SCENE, "output.name", "a..b"), "output.name", ("output.name", "pattern")),
    (changed(OP_SCENE, "output.name", ".."), "output.name", ("output.name", "pattern")),
    (changed(OP_SCENE, "output.name", "x" * 101), "output.name", ("output.name", "pattern")),
    (changed(STILL_SCENE, "output.name", "../x"), "output.name", ("output.name", "pattern")),
    (changed(OP_SCENE, "colour", "red"), "colour", ("", "additionalProperties")),
    (changed(STILL_SCENE, "input", {"shape": [1, 4, 4]}), "input", ("", "additionalProperties")),
    (changed(OP_SCENE, "op.padding_type", "zeros"), "op.padding_type", ("op", "additionalProperties")),
    (changed(STILL_SCENE, "still.colour", "red"), "still.colour", ("still", "additionalProperties")),
    (changed(OP_SCENE, "op.kernel_size", "three"), "op.kernel_size", ("op.kernel_size", "type")),
    (changed(STILL_SCENE, "still.seed", "three"), "still.seed", ("still.seed", "type")),
    (changed(OP_SCENE, "render.width", 100), "render.width", ("render.width", "minimum")),
    (changed(OP_SCENE, "render.width", 5000), "render.width", ("render.width", "maximum")),
    (changed(STILL_SCENE, "render.width", 5000), "render.width", ("render.width", "maximum")),
    (changed(STILL_SCENE, "output.key_steps", [0]), "output.key_steps", ("output", "additionalProperties")),
    (changed(STILL_SCENE, "output.svg_step", "final"), "output.svg_step", ("output", "additionalProperties")),
    (changed(OP_SCENE, "render.colours", {"window": "#0072b2ff"}), "render.colours",
     ("render.colours.window", "pattern")),
]


@pytest.mark.parametrize("document, loader_key, failure", REJECTED,
                         ids=[f"{key}-{failure[1]}-{i}" for i, (_, key, failure) in enumerate(REJECTED)])
def test_what_the_loader_rejects_the_schema_rejects(schema, document, loader_key, failure):
    assert loader_problem_keys(document) == [loader_key]
    assert not Draft202012Validator(schema).is_valid(document)
    # the one failure in the document's own branch is the intended one (the base document has none)
    assert failures(schema, document) == {failure}


def test_an_unknown_still_kind_is_rejected_by_every_kind(schema):
    document = changed(STILL_SCENE, "still.kind", "histogram")
    assert not Draft202012Validator(schema).is_valid(document)
    alternatives = schema["$defs"]["StillSceneFile"]["properties"]["still"]["oneOf"]
    assert len(alternatives) == len(still_models())
    for alternative in alternatives:
        assert ("still.kind", "const") in failures(schema, document, alternative["$ref"])
    assert loader_problem_keys(document) == ["still.kind"]


def test_a_pipeline_layer_names_its_channels_filters_or_out_channels_once(schema):
    scene = {"still": {"kind": "cnn_pipeline", "input_shape": [1, 8, 8]}}
    layer = {"type": "conv2d", "kernel_size": 3}
    for names in ({"filters": 2}, {"out_channels": 2}):
        assert_both_accept(schema, changed(scene, "still.layers", [{**layer, **names}]))
    for names in ({}, {"filters": 2, "out_channels": 2}):
        document = changed(scene, "still.layers", [{**layer, **names}])
        assert not Draft202012Validator(schema).is_valid(document)
        assert loader_problem_keys(document)


def test_variations_with_every_section_are_accepted(schema):
    output = {"name": "my_scene.v2", "formats": ["gif", "png", "svg"], "key_steps": [0, 2, "final"],
              "svg_step": "final", "dpi": 300}
    render = {"duration_ms": 500, "hold_ms": 1000, "width": 640, "theme": "dark", "colours": {"window": "#0072B2"},
              "steps": {"every": 2}, "max_frames": 100, "font_scale": 1.25, "text": "smooth", "taps": "fill"}
    op_scene = {
        "title": "Everything", "description": "every section", "caption": "{input_shape} -> {output_shape}",
        "language": "zh",
        "op": {"kind": "conv2d", "out_channels": 2, "kernel_size": [3, 3], "stride": 1, "padding": 1, "dilation": 1,
               "groups": 1, "bias": True, "padding_mode": "reflect"},
        "input": {"shape": [2, 5, 5], "values": "arange", "seed": 3, "range": [0, 4]},
        "weights": {"values": "random", "seed": 4, "range": [-2, 2], "bias": [0.5, -0.5]},
        "render": render, "output": output,
    }
    still_scene = {"title": "ReLU", "description": "a still", "caption": "plain text", "language": "en",
                   **STILL_SCENE, "render": render, "output": {"name": "relu", "formats": ["png", "pdf"], "dpi": 200}}
    for document in (op_scene, still_scene):
        assert_both_accept(schema, document)
