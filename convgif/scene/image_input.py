"""`[input] image`: a PNG/JPEG file as the input tensor, checked at load time and read as 0..255 values.

Values are whole numbers 0..255 (the pixel values a reader knows from image editors; "128" reads better in a
cell than "0.502"). One channel in the scene's shape means grayscale, three mean R, G, B. The image is resized
to the grid's H×W with Pillow's area-averaging (`Image.reduce`-like BOX filter when shrinking, LANCZOS when
enlarging), so a photo shrunk to 8×8 cells keeps its mean brightness per cell.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

MAX_IMAGE_PIXELS = 4096 * 4096  # decompression-bomb limit, set explicitly (Pillow's default is ~89 Mpx)
IMAGE_FORMATS = ("PNG", "JPEG")
CHANNEL_MODES = {1: "L", 3: "RGB"}


def resolve_image_path(image: str, source: str) -> str:
    """`image` relative to the scene file's folder (or absolute), made absolute."""
    base = Path(source).parent if source and not source.startswith("<") else Path.cwd()
    return os.path.abspath(image if os.path.isabs(image) else base / image)


def _open(path: str):
    """The image, header read, pixels not yet decoded; refused when over MAX_IMAGE_PIXELS (our explicit limit,
    checked here rather than by changing Pillow's process-wide `Image.MAX_IMAGE_PIXELS`)."""
    from PIL import Image

    # Pillow warns (not raises) between 1x and 2x its own limit: every bomb warning is an error here
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(path)
    if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
        image.close()
        raise Image.DecompressionBombError(f"{image.size[0]}x{image.size[1]} px")
    return image


def image_problem(path: str, shape: tuple[int, ...]) -> str | None:
    """Why the file at `path` cannot fill an input of `shape`, or None when it can (reads the header only)."""
    from PIL import Image

    if len(shape) != 3:
        return f"an image fills a 2-D input: write input.shape as [C, H, W], not {list(shape)}"
    if shape[0] not in CHANNEL_MODES:
        return (f"an image gives 1 channel (grayscale) or 3 (R, G, B), but input.shape asks for {shape[0]}")
    if not os.path.isfile(path):
        return f"no such file: {path}"
    try:
        with _open(path) as image:
            kind = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"{path} has more than {MAX_IMAGE_PIXELS} pixels: too large to decode safely"
    except (OSError, SyntaxError) as error:
        return f"{path} is not a readable image ({error})"
    if kind not in IMAGE_FORMATS:
        return f"{path} is a {kind} image; use PNG or JPEG"
    return None


def image_values(path: str, shape: tuple[int, int, int], *, resample=None) -> np.ndarray:
    """(C, H, W) float64 whole numbers 0..255: the image in grayscale (C=1) or RGB (C=3), resized to H×W
    (with `resample`, a Pillow filter, when given)."""
    from PIL import Image

    channels, height, width = shape
    with _open(path) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            # transparent pixels are shown over white, as a browser shows the file
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        converted = image.convert(CHANNEL_MODES[channels])
    if resample is None:
        shrinking = width <= converted.width and height <= converted.height
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.LANCZOS
    resized = converted.resize((width, height), resample)
    pixels = np.asarray(resized, dtype=np.float64)
    return pixels[np.newaxis] if channels == 1 else np.moveaxis(pixels, -1, 0).copy()
