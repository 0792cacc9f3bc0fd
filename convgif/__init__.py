"""convgif: declarative scene files to convolution-teaching GIFs."""

__version__ = "0.1.0"

from convgif.api import Rendering, Scene, load, scene_from  # noqa: E402  (the notebook API)

__all__ = ["Rendering", "Scene", "load", "scene_from", "__version__"]
