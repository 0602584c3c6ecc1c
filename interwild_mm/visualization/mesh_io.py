# Copyright (c) interwild_mm contributors.
"""Mesh file writers (OBJ in the InterWild demo layout, PLY via trimesh).

* :func:`save_ply` uses `trimesh <https://trimesh.org>`_, a well-maintained
  mesh library already in the environment (``process=False`` so the vertex
  order is kept exactly: HIC-style PLY ground truth relies on the MANO vertex
  order).
* :func:`save_obj` writes the file directly. trimesh's OBJ exporter writes a
  header comment and plain ``f a b c`` face lines; the InterWild demo (spec,
  section 5) writes ``v x y z`` lines followed by ``f a/a b/b c/c`` lines
  (1-based, texture index = vertex index, no ``vt`` lines). Both describe
  the same mesh, but downstream tools written for the official outputs may
  parse the exact layout, so it is reproduced here (two ``join`` calls).
"""
import os
import os.path as osp
from typing import Any

import numpy as np

__all__ = ['save_obj', 'save_ply']


def _check_mesh(vertices: Any, faces: Any):
    if hasattr(vertices, 'detach'):
        vertices = vertices.detach().cpu().numpy()
    if hasattr(faces, 'detach'):
        faces = faces.detach().cpu().numpy()
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f'vertices must be (V, 3), got {v.shape}')
    if f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f'faces must be (F, 3) triangles, got {f.shape}')
    if f.size and (f.min() < 0 or f.max() >= v.shape[0]):
        raise ValueError('face indices must be 0-based and < the number of '
                         f'vertices ({v.shape[0]}); got range '
                         f'[{f.min()}, {f.max()}]')
    if not np.isfinite(v).all():
        raise ValueError('vertices contain NaN or inf')
    return v, f


def _make_parent(path: str) -> None:
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)


def save_obj(path: str, vertices: Any, faces: Any) -> None:
    """Write a triangle mesh as OBJ in the InterWild demo layout.

    The file holds ``V`` lines ``v x y z`` then ``F`` lines
    ``f a/a b/b c/c`` with 1-based indices.

    Args:
        path (str): output file (parent folders are created).
        vertices (ArrayLike): (V, 3) vertex positions (metres for hands).
        faces (ArrayLike): (F, 3) 0-based vertex indices.
    """
    v, f = _check_mesh(vertices, faces)
    _make_parent(path)
    f1 = f + 1
    lines = [f'v {x:.8f} {y:.8f} {z:.8f}' for x, y, z in v]
    lines += [f'f {a}/{a} {b}/{b} {c}/{c}' for a, b, c in f1]
    with open(path, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')


def save_ply(path: str,
             vertices: Any,
             faces: Any,
             binary: bool = True) -> None:
    """Write a triangle mesh as PLY with trimesh, keeping the vertex order.

    Args:
        path (str): output file (parent folders are created).
        vertices (ArrayLike): (V, 3) vertex positions.
        faces (ArrayLike): (F, 3) 0-based vertex indices.
        binary (bool): binary little-endian PLY if True, ASCII otherwise.
            trimesh stores the coordinates as float32 either way.
    """
    import trimesh
    v, f = _check_mesh(vertices, faces)
    _make_parent(path)
    mesh = trimesh.Trimesh(vertices=v, faces=f, process=False)
    data = trimesh.exchange.ply.export_ply(
        mesh, encoding='binary' if binary else 'ascii')
    with open(path, 'wb') as fh:
        fh.write(data)
