"""Draw the sample image of the feature-map scene: a house, a sun and diagonal stripes (edges in many directions).

Run `python scenes/images/make_sample.py` to rewrite `scenes/images/shapes.png` (deterministic).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 256, 192


def draw_sample() -> Image.Image:
    """The picture as an 8-bit grayscale image: dark shapes and stripes on a light sky over dark ground."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    sky = 215 - 40 * rows / HEIGHT  # a gentle vertical gradient: smooth areas give weak responses
    image = Image.fromarray(sky.astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, WIDTH, HEIGHT), fill=70)  # ground: one long horizontal edge
    draw.ellipse((182, 16, 232, 66), fill=250, outline=120, width=2)  # sun: edges in every direction
    for i in range(8):  # rays
        angle = i * np.pi / 4
        cx, cy = 207, 41
        draw.line((cx + 32 * np.cos(angle), cy + 32 * np.sin(angle), cx + 44 * np.cos(angle),
                   cy + 44 * np.sin(angle)), fill=250, width=3)
    draw.rectangle((40, 90, 130, 150), fill=110)  # house walls: vertical and horizontal edges
    draw.polygon([(30, 92), (85, 45), (140, 92)], fill=50)  # roof: two diagonals
    draw.rectangle((75, 112, 97, 150), fill=35)  # door
    draw.rectangle((50, 100, 68, 116), fill=235)  # window
    draw.rectangle((106, 100, 124, 116), fill=235)
    for k in range(6):  # stripes at 45 degrees on the right
        x0 = 150 + 14 * k
        draw.polygon([(x0, 150), (x0 + 7, 150), (x0 + 47, 90), (x0 + 40, 90)], fill=40)
    return image


def main() -> None:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes.png")
    draw_sample().save(path, optimize=True)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
