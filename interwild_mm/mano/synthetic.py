# Copyright (c) interwild_mm contributors.
"""A synthetic MANO model pair with the official file layout (for tests).

The real MANO files are licensed and cannot be shipped; tests and CI use this
stand-in instead. It has exactly the official entries, shapes and pickle
encoding (a Python-2 style protocol-2 pickle whose ``shapedirs`` is a
``chumpy.ch.Ch`` object and whose ``J_regressor`` is a
``scipy.sparse.csc.csc_matrix``), so the restricted unpickler and
``ManoLayer`` are exercised exactly as with the real files.

Mesh construction (right hand, metres; fingers point to -x, the palm faces
-y, the thumb is on the +z side; wrist at x = 0.09, middle tip at x = -0.09):

* palm: a closed tube along x with a rounded-rectangle cross-section of
  ``PALM_RING`` = 22 vertices and ``PALM_RINGS`` = 13 rings (wrist ring at the
  wrist joint), closed at both ends by a fan around a centre vertex:
  22 * 13 + 2 = 288 vertices, 2 * 22 * 13 = 572 faces;
* five fingers: each a closed tube of ``FINGER_RINGS`` = 12 rings of
  ``FINGER_RING`` = 8 vertices following the finger's joints (a base ring
  hidden inside the palm, rings exactly at the three finger joints), closed
  by a base centre vertex and a tip vertex (the fingertip vertex):
  5 * (8 * 12 + 2) = 490 vertices, 5 * 2 * 8 * 12 = 960 faces;
* 6 padding faces, all inside the palm (hidden): 4 triangles joining the
  base centres of neighbouring fingers to the palm's knuckle-end centre and
  2 joining the thumb base centre to the index base and the wrist centre.

Total 778 vertices and 1538 faces (closed components satisfy
F = 2V - 4 each, so 2 * 778 - 4 * 6 = 1532 faces + 6 padding faces). The
vertices are then permuted so that the five tip vertices get the official
fingertip ids (Thumb 745, Index 317, Middle 445, Ring 556, Pinky 673).

``J_regressor`` rows average the 8 (finger) or 22 (wrist) vertices of the
ring placed exactly at each joint; skinning weights fall off with the
distance to the bones (top 3 bones per vertex); ``posedirs``/``shapedirs``
are small smooth fields. The left model is the right one mirrored in x
(``v -> (-x, y, z)``, faces re-wound, pose-dependent terms mirrored so that
left(mirrored pose) == mirror(right(pose)) exactly once the shapedirs fix is
applied) and carries the official defect: its ``shapedirs`` equal the right
ones, so ``ManoLayer`` negates ``shapedirs[:, 0, :]``.
"""
import copyreg
import io
import os
import pickle
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import numpy as np
import scipy.sparse as sp

from .constants import (FINGERTIP_VERTEX_IDS, MANO_JOINT_NAMES, MANO_PARENTS,
                        NUM_FACES, NUM_VERTS)

PALM_RING = 22
PALM_RINGS = 13
FINGER_RING = 8
FINGER_RINGS = 12
NUM_PADDING_FACES = 6

#: Fingers in construction order.
_FINGERS = ('Thumb', 'Index', 'Middle', 'Ring', 'Pinky')

# Right-hand joint positions (metres): wrist, then per finger the three
# joints and the tip.
_WRIST = np.array([0.09, 0.0, -0.005])
_FINGER_POINTS = {
    # joint 1, joint 2, joint 3, tip
    'Thumb': [(0.068, -0.006, 0.022), (0.040, -0.010, 0.040),
              (0.014, -0.012, 0.054), (-0.012, -0.013, 0.065)],
    'Index': [(0.010, 0.0, 0.022), (-0.030, 0.0, 0.025),
              (-0.054, 0.0, 0.026), (-0.076, 0.0, 0.027)],
    'Middle': [(0.005, 0.0, 0.001), (-0.040, 0.0, 0.001),
               (-0.068, 0.0, 0.001), (-0.090, 0.0, 0.001)],
    'Ring': [(0.010, 0.0, -0.019), (-0.032, 0.0, -0.021),
             (-0.059, 0.0, -0.022), (-0.081, 0.0, -0.023)],
    'Pinky': [(0.018, 0.0, -0.037), (-0.014, 0.0, -0.040),
              (-0.034, 0.0, -0.042), (-0.054, 0.0, -0.043)],
}
_FINGER_RADIUS = {'Thumb': 0.0105, 'Index': 0.0090, 'Middle': 0.0092,
                  'Ring': 0.0087, 'Pinky': 0.0075}
# Palm: extends in x from the wrist to just past the knuckles; rounded
# rectangle in (z, y).
_PALM_X = (0.09, -0.004)
_PALM_Z = (-0.046, 0.031)
_PALM_HALF_Y = 0.014

#: Sign of each axis under the x-mirror.
_MIRROR = np.array([-1.0, 1.0, 1.0])


def _rounded_rect(n: int, z_range: Tuple[float, float], half_y: float,
                  corner: float) -> np.ndarray:
    """(n, 2) points (z, y) on a rounded rectangle, counter-clockwise."""
    zc, hz = (z_range[0] + z_range[1]) / 2, (z_range[1] - z_range[0]) / 2
    t = 2 * np.pi * (np.arange(n) + 0.5) / n
    # superellipse |z/hz|^p + |y/hy|^p = 1 (p = 4 ~ rounded rectangle)
    c, s = np.cos(t), np.sin(t)
    p = 2.0 / (1.0 + 8.0 * corner)
    z = zc + hz * np.sign(c) * np.abs(c)**p
    y = half_y * np.sign(s) * np.abs(s)**p
    return np.stack([z, y], axis=1)


def _tube_faces(offset: int, ring: int, rings: int, start_center: int,
                end_center: int) -> List[Tuple[int, int, int]]:
    """Faces of a tube of ``rings`` rings of ``ring`` vertices (counter-
    clockwise seen from the end cap), capped by two fan centres."""
    faces = []
    for r in range(rings - 1):
        a0, b0 = offset + r * ring, offset + (r + 1) * ring
        for i in range(ring):
            j = (i + 1) % ring
            faces.append((a0 + i, b0 + i, b0 + j))
            faces.append((a0 + i, b0 + j, a0 + j))
    first, last = offset, offset + (rings - 1) * ring
    for i in range(ring):
        j = (i + 1) % ring
        faces.append((start_center, first + j, first + i))
        faces.append((end_center, last + i, last + j))
    return faces


def _frame(direction: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to ``direction`` (right-handed)."""
    d = direction / np.linalg.norm(direction)
    up = np.array([0.0, 1.0, 0.0])
    u = np.cross(d, up)
    if np.linalg.norm(u) < 1e-6:
        u = np.cross(d, np.array([0.0, 0.0, 1.0]))
    u /= np.linalg.norm(u)
    return u, np.cross(u, d)


def _build_right_mesh() -> Dict[str, Any]:
    """Vertices/faces (construction order) and per-vertex labels."""
    verts: List[np.ndarray] = []
    faces: List[Tuple[int, int, int]] = []
    joint_rings: Dict[str, List[int]] = {}
    tips: Dict[str, int] = {}
    base_centres: Dict[str, int] = {}

    # ---- palm (tube along -x)
    zy = _rounded_rect(PALM_RING, _PALM_Z, _PALM_HALF_Y, corner=0.35)
    xs = np.linspace(_PALM_X[0], _PALM_X[1], PALM_RINGS)
    for r, x in enumerate(xs):
        taper = 1.0 - 0.12 * (1.0 - r / (PALM_RINGS - 1))  # narrower wrist
        zc = (_PALM_Z[0] + _PALM_Z[1]) / 2
        for z, y in zy:
            verts.append(np.array([x, y * taper, zc + (z - zc) * taper]))
    joint_rings['Wrist'] = list(range(PALM_RING))
    wrist_centre = len(verts)
    verts.append(np.array([xs[0], 0.0, (_PALM_Z[0] + _PALM_Z[1]) / 2]))
    knuckle_centre = len(verts)
    verts.append(np.array([xs[-1], 0.0, (_PALM_Z[0] + _PALM_Z[1]) / 2]))
    faces += _tube_faces(0, PALM_RING, PALM_RINGS, wrist_centre,
                         knuckle_centre)
    # The palm ring runs the other way round with respect to -x: flip the
    # palm faces so that all normals point outwards.
    faces = [(a, c, b) for a, b, c in faces]

    # ---- fingers
    for finger in _FINGERS:
        pts = np.array(_FINGER_POINTS[finger], dtype=np.float64)
        j1, tip = pts[0], pts[3]
        first_dir = (pts[1] - pts[0]) / np.linalg.norm(pts[1] - pts[0])
        base = j1 - 0.012 * first_dir  # hidden inside the palm
        # ring centres: base, J1, 3 between J1-J2, J2, 2 between J2-J3, J3,
        # 2 between J3-tip, one just before the tip -> 12 rings
        centres = [base, pts[0]]
        centres += [pts[0] + (pts[1] - pts[0]) * f for f in (0.25, 0.5, 0.75)]
        centres += [pts[1]]
        centres += [pts[1] + (pts[2] - pts[1]) * f for f in (1 / 3, 2 / 3)]
        centres += [pts[2]]
        centres += [pts[2] + (tip - pts[2]) * f for f in (0.3, 0.6, 0.88)]
        assert len(centres) == FINGER_RINGS
        radius0 = _FINGER_RADIUS[finger]
        offset = len(verts)
        for r, c in enumerate(centres):
            seg = min(r, FINGER_RINGS - 2)
            d = centres[seg + 1] - centres[seg]
            u, w = _frame(d)
            frac = r / (FINGER_RINGS - 1)
            rad = radius0 * (1.0 - 0.25 * frac)
            if r == FINGER_RINGS - 1:
                rad *= 0.6  # round the tip
            for i in range(FINGER_RING):
                a = 2 * np.pi * i / FINGER_RING
                verts.append(c + rad * (np.cos(a) * u + np.sin(a) * w))
        for name_idx, ring_idx in ((1, 1), (2, 5), (3, 8)):
            start = offset + ring_idx * FINGER_RING
            joint_rings[f'{finger}_{name_idx}'] = list(
                range(start, start + FINGER_RING))
        base_centres[finger] = len(verts)
        verts.append(base.copy())
        tips[finger] = len(verts)
        verts.append(tip.copy())
        faces += _tube_faces(offset, FINGER_RING, FINGER_RINGS,
                             base_centres[finger], tips[finger])

    # ---- padding faces (inside the palm)
    order = ['Index', 'Middle', 'Ring', 'Pinky']
    for a, b in zip(order[:-1], order[1:]):
        faces.append((base_centres[a], base_centres[b], knuckle_centre))
    faces.append((base_centres['Pinky'], base_centres['Index'],
                  knuckle_centre))
    faces.append((base_centres['Thumb'], base_centres['Index'],
                  wrist_centre))
    faces.append((base_centres['Thumb'], wrist_centre, knuckle_centre))
    assert len(faces) - 5 * 2 * FINGER_RING * FINGER_RINGS - \
        2 * PALM_RING * PALM_RINGS == NUM_PADDING_FACES
    return dict(
        verts=np.stack(verts), faces=np.array(faces, dtype=np.int64),
        joint_rings=joint_rings, tips=tips)


def _permutation(num: int, tips: Dict[str, int]) -> np.ndarray:
    """``new_of_old`` putting each tip at its official vertex id."""
    fixed = {tips[k.split('_')[0]]: v for k, v in FINGERTIP_VERTEX_IDS.items()}
    free_new = [i for i in range(num) if i not in fixed.values()]
    free_old = [i for i in range(num) if i not in fixed]
    new_of_old = np.empty(num, dtype=np.int64)
    new_of_old[free_old] = free_new
    for old, new in fixed.items():
        new_of_old[old] = new
    return new_of_old


def _point_segment_distance(p: np.ndarray, a: np.ndarray,
                            b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def _mirror_pose_signs() -> np.ndarray:
    """(45,) signs turning an axis-angle pose (x, y, z) into (x, -y, -z)."""
    return np.tile(np.array([1.0, -1.0, -1.0]), 15)


def _make_right_model(rng: np.random.Generator) -> Dict[str, Any]:
    mesh = _build_right_mesh()
    assert mesh['verts'].shape[0] == NUM_VERTS
    assert mesh['faces'].shape[0] == NUM_FACES
    new_of_old = _permutation(NUM_VERTS, mesh['tips'])
    v = np.empty_like(mesh['verts'])
    v[new_of_old] = mesh['verts']
    f = new_of_old[mesh['faces']]

    # J_regressor: mean of the ring at each joint
    jreg = np.zeros((16, NUM_VERTS))
    for j, name in enumerate(MANO_JOINT_NAMES):
        ids = new_of_old[mesh['joint_rings'][name]]
        jreg[j, ids] = 1.0 / len(ids)
    joints = jreg @ v

    # skinning weights: each joint moves the bone from itself to its child
    # (the tip for the last joint of a finger; the palm for the wrist)
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

    # pose correctives: small smooth offsets driven by the vertex' bones
    posedirs = np.zeros((NUM_VERTS, 3, 135))
    for j in range(1, 16):
        infl = weights[:, j] + weights[:, MANO_PARENTS[j]]
        basis = rng.normal(size=(3, 9)) * 2e-3
        posedirs[:, :, 9 * (j - 1):9 * j] = infl[:, None, None] * basis

    # shape space: 0 global size, 1 finger length, 2 palm width, rest smooth
    centroid = v.mean(axis=0)
    shapedirs = np.zeros((NUM_VERTS, 3, 10))
    shapedirs[:, :, 0] = 0.06 * (v - _WRIST)
    ahead = np.clip((_PALM_X[1] + 0.01) - v[:, 0], 0.0, None)
    shapedirs[:, 0, 1] = -0.15 * ahead
    shapedirs[:, 2, 2] = 0.08 * (v[:, 2] - centroid[2])
    for k in range(3, 10):
        freq = rng.uniform(10.0, 40.0, size=3)
        phase = rng.uniform(0, 2 * np.pi, size=3)
        field = np.sin(v * freq + phase)
        shapedirs[:, :, k] = 1.5e-3 * field[:, rng.permutation(3)]

    # mean pose: flexion (about +z for the right hand) plus small spread
    hands_mean = np.zeros((15, 3))
    flex = np.array([0.10, 0.20, 0.15, 0.18, 0.22, 0.15, 0.20, 0.25, 0.18,
                     0.22, 0.28, 0.20, 0.30, 0.15, 0.10])
    hands_mean[:, 2] = flex
    hands_mean[:, :2] = rng.normal(scale=0.03, size=(15, 2))
    hands_mean = hands_mean.reshape(45)
    hands_components = np.linalg.qr(rng.normal(size=(45, 45)))[0].T
    hands_coeffs = rng.normal(scale=0.3, size=(64, 45))

    kintree = np.array([[4294967295] + MANO_PARENTS[1:],
                        list(range(16))], dtype=np.int64)
    return {
        'hands_components': hands_components,
        'f': f.astype(np.uint32),
        'J_regressor': sp.csc_matrix(jreg),
        'kintree_table': kintree,
        'J': joints,
        'bs_style': 'lbs',
        'hands_coeffs': hands_coeffs,
        'weights': weights,
        'posedirs': posedirs,
        'hands_mean': hands_mean,
        'v_template': v,
        'shapedirs': shapedirs,
        'bs_type': 'lrotmin',
    }


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


# ---------------------------------------------------------------------------
# Writing pickles that look like the official (Python 2, chumpy) ones.
# ---------------------------------------------------------------------------
class _ChumpyLike:
    """Pickles as a ``chumpy.ch.Ch`` holding ``x`` (like chumpy does)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __reduce_ex__(self, protocol: int) -> Tuple:
        state = {
            'x': self.x,
            '_dirty_vars': set(),
            '_itr': None,
            '_depends_on_deps': {},
            '_make_dense': False,
            '_make_sparse': False,
        }
        return (copyreg.__newobj__, (type(self), ), state)


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Protocol-2 pickler writing Python-2 names and byte strings."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    _RENAMES = {
        _ChumpyLike: ('chumpy.ch', 'Ch'),
        sp.csc_matrix: ('scipy.sparse.csc', 'csc_matrix'),
    }

    def save_global(self, obj: Any, name: Any = None) -> None:
        target = self._RENAMES.get(obj) if isinstance(obj, type) else None
        module = getattr(obj, '__module__', '') or ''
        if target is None and module.startswith('numpy._core'):
            target = ('numpy.core' + module[len('numpy._core'):],
                      name or obj.__qualname__)
        if target is None:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL +
                   f'{target[0]}\n{target[1]}\n'.encode('ascii'))
        self.memoize(obj)

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[type] = save_global


def _dumps_official_style(model: Dict[str, Any]) -> bytes:
    data = dict(model)
    data['shapedirs'] = _ChumpyLike(np.asarray(model['shapedirs']))
    jreg = model['J_regressor']
    data['J_regressor'] = sp.csc_matrix(
        (jreg.data, jreg.indices, jreg.indptr), shape=jreg.shape)
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(data)
    return buf.getvalue()


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
        (out / fname).write_bytes(_dumps_official_style(models[side]))
    return out
