"""Scene files: TOML -> a validated frozen `SceneSpec` (an `OpSceneSpec` or a `StillSceneSpec`), or one
`SceneError` listing every problem at once."""

from convgif.scene.load import load_scene, parse_scene, read_document
from convgif.scene.schema import scene_json_schema
from convgif.scene.spec import (
    InputSpec, OpSceneSpec, OpSpec, OutputSpec, RenderSpec, SceneFile, SceneSpec, WeightsSpec,
)
from convgif.scene.still import StillSceneSpec


__all__ = [
    "load_scene", "parse_scene", "read_document", "scene_json_schema", "SceneSpec", "OpSceneSpec", "StillSceneSpec", "SceneFile", "OpSpec", "InputSpec",
    "WeightsSpec", "RenderSpec", "OutputSpec",
]
