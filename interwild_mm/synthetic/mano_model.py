# Copyright (c) interwild_mm contributors.
"""A synthetic MANO model pair with the official file layout (for tests).

The real MANO files are licensed and cannot be shipped; tests, CI and the
quickstart use this stand-in instead. It has exactly the official entries,
shapes and pickle encoding (``docs/official_conventions.md §0.1``; see
:mod:`.mano_pickle`), so the restricted unpickler and ``ManoLayer`` are
exercised exactly as with the real files.

The template mesh is built by :mod:`.mano_mesh`. On top of it:
``J_regressor`` rows average the 8 (finger) or 22 (wrist) vertices of the
ring placed exactly at each joint; skinning weights fall off with the
distance to the bones (top 3 bones per vertex); ``posedirs``/``shapedirs``
are small smooth fields. The left model is the right one mirrored in x
(``v -> (-x, y, z)``, faces re-wound, pose-dependent terms mirrored so that
left(mirrored pose) == mirror(right(pose)) exactly once the shapedirs fix is
applied) and carries the official defect: its ``shapedirs`` equal the right
ones, so ``ManoLayer`` negates ``shapedirs[:, 0, :]``.
"""
import os
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np
import scipy.sparse as sp

from interwild_mm.mano.constants import (FINGERTIP_VERTEX_IDS,
                                         MANO_JOINT_NAMES, MANO_PARENTS,
                                         NUM_FACES, NUM_VERTS)
from .mano_mesh import (PALM_X, WRIST, build_right_mesh,
                        permute_to_official_tips)
from .mano_pickle import dumps_official_style

__all__ = ['make_synthetic_mano', 'write_synthetic_mano']

#: Sign of each axis under the x-mirror.
_MIRROR = np.array([-1.0, 1.0, 1.0])


def _template() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The template in the official vertex order.

    Returns:
        tuple: ``v`` (778, 3) metres, ``f`` (1538, 3) int64 and the
        (16, 778) ``J_regressor`` (mean of the ring at each joint).
    """
    mesh = build_right_mesh()
    assert mesh['verts'].shape[0] == NUM_VERTS
    assert mesh['faces'].shape[0] == NUM_FACES
    new_of_old = permute_to_official_tips(NUM_VERTS, mesh['tips'])
    v = np.empty_like(mesh['verts'])
    v[new_of_old] = mesh['verts']
    f = new_of_old[mesh['faces']]
    jreg = np.zeros((16, NUM_VERTS))
    for j, name in enumerate(MANO_JOINT_NAMES):
        ids = new_of_old[mesh['joint_rings'][name]]
        jreg[j, ids] = 1.0 / len(ids)
    return v, f, jreg


def _point_segment_distance(p: np.ndarray, a: np.ndarray,
                            b: np.ndarray) -> np.ndarray:
    """(N,) distance of points ``p`` (N, 3) to the segment ``a``-``b``."""
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def _skinning_weights(v: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """(778, 16) weights: softmax over the 3 nearest bones of each vertex.

    Each joint moves the bone from itself to its child (the tip for the
    last joint of a finger; the palm for the wrist).
    """
    child_point = {}
    for j, name in enumerate(MANO_JOINT_NAMES):
        if name == 'Wrist':
            child_point[j] = joints[MANO_JOINT_NAMES.index('Middle_1')]
        elif name.endswith('_3'):
            finger = name.split('_')[0]
            child_point[j] = v[FINGERTIP_VERTEX_IDS[f'{finger}_4']]
        else:
            child_point[j] = joints[MANO_PARENTS.index(j)]
    dist = np.stack([
        _point_segment_distance(v, joints[j], child_point[j])
        for j in range(16)
    ], axis=1)
    # the palm (wrist bone) is wide: measure from the palm axis, in z too
    dist[:, 0] *= 0.5
    logits = -(dist / 0.008)**2
    top = np.argsort(-logits, axis=1)[:, :3]
    weights = np.zeros_like(logits)
    rows = np.arange(NUM_VERTS)[:, None]
    sel = logits[rows, top]
    sel = np.exp(sel - sel.max(axis=1, keepdims=True))
    weights[rows, top] = sel / sel.sum(axis=1, keepdims=True)
    return weights


def _pose_correctives(rng: np.random.Generator,
                      weights: np.ndarray) -> np.ndarray:
    """(778, 3, 135) small smooth offsets driven by the vertex' bones."""
    posedirs = np.zeros((NUM_VERTS, 3, 135))
    for j in range(1, 16):
        infl = weights[:, j] + weights[:, MANO_PARENTS[j]]
        basis = rng.normal(size=(3, 9)) * 2e-3
        posedirs[:, :, 9 * (j - 1):9 * j] = infl[:, None, None] * basis
    return posedirs


def _shape_space(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    """(778, 3, 10) shape space: 0 global size, 1 finger length, 2 palm
    width, the rest small smooth fields."""
    centroid = v.mean(axis=0)
    shapedirs = np.zeros((NUM_VERTS, 3, 10))
    shapedirs[:, :, 0] = 0.06 * (v - WRIST)
    ahead = np.clip((PALM_X[1] + 0.01) - v[:, 0], 0.0, None)
    shapedirs[:, 0, 1] = -0.15 * ahead
    shapedirs[:, 2, 2] = 0.08 * (v[:, 2] - centroid[2])
    for k in range(3, 10):
        freq = rng.uniform(10.0, 40.0, size=3)
        phase = rng.uniform(0, 2 * np.pi, size=3)
        field = np.sin(v * freq + phase)
        shapedirs[:, :, k] = 1.5e-3 * field[:, rng.permutation(3)]
    return shapedirs


def _pose_space(rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Mean pose (flexion about +z for the right hand plus small spread),
    PCA components and coefficients."""
    hands_mean = np.zeros((15, 3))
    flex = np.array([0.10, 0.20, 0.15, 0.18, 0.22, 0.15, 0.20, 0.25, 0.18,
                     0.22, 0.28, 0.20, 0.30, 0.15, 0.10])
    hands_mean[:, 2] = flex
    hands_mean[:, :2] = rng.normal(scale=0.03, size=(15, 2))
    return dict(
        hands_mean=hands_mean.reshape(45),
        hands_components=np.linalg.qr(rng.normal(size=(45, 45)))[0].T,
        hands_coeffs=rng.normal(scale=0.3, size=(64, 45)))


def _make_right_model(rng: np.random.Generator) -> Dict[str, Any]:
    """The right model dict (entries in the official files' order)."""
    v, f, jreg = _template()
    joints = jreg @ v
    weights = _skinning_weights(v, joints)
    posedirs = _pose_correctives(rng, weights)
    shapedirs = _shape_space(rng, v)
    pose = _pose_space(rng)
    kintree = np.array([[4294967295] + MANO_PARENTS[1:],
                        list(range(16))], dtype=np.int64)
    return {
        'hands_components': pose['hands_components'],
        'f': f.astype(np.uint32),
        'J_regressor': sp.csc_matrix(jreg),
        'kintree_table': kintree,
        'J': joints,
        'bs_style': 'lbs',
        'hands_coeffs': pose['hands_coeffs'],
        'weights': weights,
        'posedirs': posedirs,
        'hands_mean': pose['hands_mean'],
        'v_template': v,
        'shapedirs': shapedirs,
        'bs_type': 'lrotmin',
    }


def _mirror_pose_signs() -> np.ndarray:
    """(45,) signs turning an axis-angle pose (x, y, z) into (x, -y, -z)."""
    return np.tile(np.array([1.0, -1.0, -1.0]), 15)


def _pose_feature_signs() -> np.ndarray:
    """(135,) sign of each pose-feature entry (R - I) under the x-mirror.

    Mirrored rotations are ``M R M`` with ``M = diag(-1, 1, 1)``, so entry
    (a, b) of ``R - I`` changes sign by ``s_a * s_b``.
    """
    s = _MIRROR
    return np.tile(np.outer(s, s).reshape(9), 15)


def _mirror_model(right: Dict[str, Any]) -> Dict[str, Any]:
    """The left model: right mirrored in x with the official shapedirs
    defect (shapedirs copied unchanged)."""
    pose_signs = _mirror_pose_signs()
    left = dict(right)
    left['v_template'] = right['v_template'] * _MIRROR
    left['J'] = right['J'] * _MIRROR
    left['f'] = right['f'][:, [0, 2, 1]].copy()
    left['posedirs'] = (right['posedirs'] * _MIRROR[None, :, None] *
                        _pose_feature_signs()[None, None, :])
    left['hands_mean'] = right['hands_mean'] * pose_signs
    left['hands_components'] = right['hands_components'] * pose_signs
    left['J_regressor'] = right['J_regressor'].copy()
    left['weights'] = right['weights'].copy()
    left['shapedirs'] = right['shapedirs'].copy()  # the official defect
    return left


def make_synthetic_mano(seed: int = 0) -> Dict[str, Dict[str, Any]]:
    """Build the synthetic right/left MANO model dicts (plain arrays).

    Args:
        seed (int): Seed of the random smooth fields. Defaults to 0.

    Returns:
        dict: ``{'right': model, 'left': model}`` with the official entries.
    """
    rng = np.random.default_rng(seed)
    right = _make_right_model(rng)
    return {'right': right, 'left': _mirror_model(right)}


def write_synthetic_mano(out_dir: Union[str, os.PathLike],
                         seed: int = 0) -> Path:
    """Write ``MANO_RIGHT.pkl`` and ``MANO_LEFT.pkl`` (synthetic) to a folder.

    Args:
        out_dir (str | PathLike): Output folder (created if missing).
        seed (int): Seed of the random smooth fields. Defaults to 0.

    Returns:
        Path: ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models = make_synthetic_mano(seed)
    for side, fname in (('right', 'MANO_RIGHT.pkl'), ('left',
                                                       'MANO_LEFT.pkl')):
        (out / fname).write_bytes(dumps_official_style(models[side]))
    return out
