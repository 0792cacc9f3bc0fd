"""Scene files: TOML -> validated frozen `Scene`, or one `SceneError` listing every problem at once."""

from convgif.scene.load import load_scene, parse_scene, read_document
from convgif.scene.schema import scene_json_schema
from convgif.scene.spec import InputSpec, OpSpec, OutputSpec, RenderSpec, Scene, SceneFile, WeightsSpec


__all__ = [
    "load_scene", "parse_scene", "read_document", "scene_json_schema", "Scene", "SceneFile", "OpSpec", "InputSpec",
    "WeightsSpec", "RenderSpec", "OutputSpec",
]
