"""The 3×3 teaching kernels (identity, box, sobel, laplacian, sharpen, gaussian), defined once.

Stored as integer numerators over a divisor, so figures can print `1/16 ×` with small integers.
"""

from __future__ import annotations

import numpy as np

KERNEL_PRESETS: dict[str, tuple[tuple[tuple[int, ...], ...], int]] = {
    "identity": (((0, 0, 0), (0, 1, 0), (0, 0, 0)), 1),
    "box": (((1, 1, 1), (1, 1, 1), (1, 1, 1)), 9),
    "sobel_x": (((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)), 1),
    "sobel_y": (((-1, -2, -1), (0, 0, 0), (1, 2, 1)), 1),
    "laplacian": (((0, 1, 0), (1, -4, 1), (0, 1, 0)), 1),
    "sharpen": (((0, -1, 0), (-1, 5, -1), (0, -1, 0)), 1),
    "gaussian": (((1, 2, 1), (2, 4, 2), (1, 2, 1)), 16),
}


def preset_kernel(name: str) -> np.ndarray:
    """The float64 3×3 kernel of a preset."""
    numerators, divisor = KERNEL_PRESETS[name]
    return np.array(numerators, dtype=np.float64) / divisor
