"""Scene files: TOML -> validated frozen `Scene`, or one `SceneError` listing every problem at once."""

from convgif.scene.load import load_scene, parse_scene, read_document
from convgif.scene.spec import InputSpec, OpSpec, OutputSpec, RenderSpec, Scene, SceneFile, WeightsSpec


def scene_json_schema() -> dict:
    """A JSON Schema of the scene format, for editors (generated from the pydantic models)."""
    schema = SceneFile.model_json_schema()
    schema["title"] = "convgif scene"
    return schema


__all__ = [
    "load_scene", "parse_scene", "read_document", "scene_json_schema", "Scene", "SceneFile", "OpSpec", "InputSpec",
    "WeightsSpec", "RenderSpec", "OutputSpec",
]
