# Copyright (c) interwild_mm contributors.
"""Reference triangle coverage for the rasteriser and visualiser tests.

Independent of the rasteriser's edge functions: every pixel centre is
expressed in barycentric coordinates by solving the 2x2 linear system
``p = v2 + l0 (v0 - v2) + l1 (v1 - v2)`` with ``np.linalg.solve``
(float64).
"""
import numpy as np

#: triangles whose 2x2 system has |det| below this (twice the area, px^2)
#: cover no pixel centre and are skipped
DEGENERATE_DET = 1e-12


def _edges(tri2d: np.ndarray) -> np.ndarray:
    """The 2x2 matrix ``[v0 - v2, v1 - v2]`` (columns) of a triangle."""
    t = tri2d
    return np.array([[t[0, 0] - t[2, 0], t[1, 0] - t[2, 0]],
                     [t[0, 1] - t[2, 1], t[1, 1] - t[2, 1]]])


def barycentric_solve(tri2d, points: np.ndarray) -> np.ndarray:
    """(P, 3) barycentric coords of (P, 2) points w.r.t. one 2D triangle."""
    t = np.asarray(tri2d, np.float64)
    rhs = (points - t[2]).T  # (2, P)
    l01 = np.linalg.solve(_edges(t), rhs).T
    return np.concatenate([l01, 1 - l01.sum(1, keepdims=True)], 1)


def coverage_reference(tris2d, h: int, w: int,
                       eps: float = 0.0) -> np.ndarray:
    """(h, w) bool: pixels whose centre lies inside any triangle, with a
    margin ``eps`` on the barycentric coordinates (negative: strictly
    inside); degenerate triangles (:data:`DEGENERATE_DET`) are skipped."""
    inside = np.zeros((h, w), bool)
    for t in tris2d:
        t = np.asarray(t, np.float64)
        if abs(np.linalg.det(_edges(t))) < DEGENERATE_DET:
            continue
        x0, y0 = np.maximum(np.floor(t.min(0)).astype(int) - 1, 0)
        x1, y1 = np.minimum(np.ceil(t.max(0)).astype(int) + 1, [w - 1, h - 1])
        if x1 < x0 or y1 < y0:
            continue
        ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
        pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        lam = barycentric_solve(t, pts)
        hit = (lam >= -eps).all(1)
        inside[ys.ravel()[hit], xs.ravel()[hit]] = True
    return inside
