"""convgif: declarative scene files to convolution-teaching GIFs."""

__version__ = "0.1.0"

__all__ = ["Rendering", "Scene", "load", "scene_from", "__version__"]


def __getattr__(name: str):
    # the notebook API, imported on first use: the command line (`import convgif.cli`) does not need it
    if name in ("Rendering", "Scene", "load", "scene_from"):
        from convgif import api

        return getattr(api, name)
    raise AttributeError(f"module 'convgif' has no attribute {name!r}")
