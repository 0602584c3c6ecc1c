"""float64 numpy references shared by tests in several folders.

Written from the formulas (no interwild_mm code): tests compare the
library's torch operations against them.
"""
import numpy as np


def bilinear_np(f: np.ndarray, x: float, y: float) -> np.ndarray:
    """Bilinear sample of a (C, H, W) map at ``(x, y)``: pixel centres at
    integer coordinates, zero outside the map (``grid_sample`` with
    ``align_corners=True``, ``padding_mode='zeros'``).

    Returns:
        np.ndarray: (C,) float64.
    """
    c, h, w = f.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    out = np.zeros(c)
    for xi, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
        for yi, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
            if 0 <= xi < w and 0 <= yi < h:
                out += wx * wy * f[:, yi, xi]
    return out
