# Copyright (c) interwild_mm contributors.
"""Template mesh of the synthetic right MANO hand (construction only).

Right hand, metres; fingers point to -x, the palm faces -y, the thumb is on
the +z side; wrist at x = 0.09, middle tip at x = -0.09:

* palm: a closed tube along x with a rounded-rectangle cross-section of
  ``PALM_RING`` = 22 vertices and ``PALM_RINGS`` = 13 rings (wrist ring at the
  wrist joint), closed at both ends by a fan around a centre vertex:
  22 * 13 + 2 = 288 vertices, 2 * 22 * 13 = 572 faces;
* five fingers: each a closed tube of ``FINGER_RINGS`` = 12 rings of
  ``FINGER_RING`` = 8 vertices following the finger's joints (a base ring
  hidden inside the palm, rings exactly at the three finger joints), closed
  by a base centre vertex and a tip vertex (the fingertip vertex):
  5 * (8 * 12 + 2) = 490 vertices, 5 * 2 * 8 * 12 = 960 faces;
* ``NUM_PADDING_FACES`` = 6 padding faces, all inside the palm (hidden):
  4 triangles joining the base centres of neighbouring fingers to the
  palm's knuckle-end centre and 2 joining the thumb base centre to the
  index base and the wrist centre.

Total 778 vertices and 1538 faces (closed components satisfy F = 2V - 4
each, so 2 * 778 - 4 * 6 = 1532 faces + 6 padding faces), the counts of the
official model (``docs/official_conventions.md §0.1``).
:func:`permute_to_official_tips` then gives the five tip vertices the
official fingertip ids (Thumb 745, Index 317, Middle 445, Ring 556,
Pinky 673).
"""
from typing import Dict, List, Tuple

import numpy as np

from interwild_mm.mano.constants import FINGERTIP_VERTEX_IDS

__all__ = [
    'PALM_RING', 'PALM_RINGS', 'FINGER_RING', 'FINGER_RINGS',
    'NUM_PADDING_FACES', 'WRIST', 'PALM_X', 'build_right_mesh',
    'permute_to_official_tips'
]

PALM_RING = 22
PALM_RINGS = 13
FINGER_RING = 8
FINGER_RINGS = 12
NUM_PADDING_FACES = 6

#: Fingers in construction order.
_FINGERS = ('Thumb', 'Index', 'Middle', 'Ring', 'Pinky')

#: Right-hand wrist position (metres).
WRIST = np.array([0.09, 0.0, -0.005])
# Per finger the three joints and the tip (metres).
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
#: Palm extent in x (metres): from the wrist to just past the knuckles.
PALM_X = (0.09, -0.004)
# Palm cross-section: rounded rectangle in (z, y), metres.
_PALM_Z = (-0.046, 0.031)
_PALM_HALF_Y = 0.014

Face = Tuple[int, int, int]


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
                end_center: int) -> List[Face]:
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


def _finger_ring_centres(pts: np.ndarray) -> List[np.ndarray]:
    """The 12 ring centres of a finger from its (4, 3) joints + tip.

    Base (hidden inside the palm), J1, 3 between J1-J2, J2, 2 between
    J2-J3, J3, 2 between J3-tip and one just before the tip.
    """
    j1, tip = pts[0], pts[3]
    first_dir = (pts[1] - pts[0]) / np.linalg.norm(pts[1] - pts[0])
    base = j1 - 0.012 * first_dir
    centres = [base, pts[0]]
    centres += [pts[0] + (pts[1] - pts[0]) * f for f in (0.25, 0.5, 0.75)]
    centres += [pts[1]]
    centres += [pts[1] + (pts[2] - pts[1]) * f for f in (1 / 3, 2 / 3)]
    centres += [pts[2]]
    centres += [pts[2] + (tip - pts[2]) * f for f in (0.3, 0.6, 0.88)]
    assert len(centres) == FINGER_RINGS
    return centres


class _MeshBuilder:
    """Accumulates vertices, faces and the labels the model fields need.

    Attributes:
        verts (list[np.ndarray]): (3,) vertex positions, construction order.
        faces (list[tuple]): triangles (vertex indices).
        joint_rings (dict): joint name -> indices of its ring of vertices.
        tips (dict): finger -> index of its tip vertex.
        base_centres (dict): finger -> index of its base-cap centre.
        wrist_centre (int): centre of the palm's wrist cap.
        knuckle_centre (int): centre of the palm's knuckle cap.
    """

    def __init__(self) -> None:
        self.verts: List[np.ndarray] = []
        self.faces: List[Face] = []
        self.joint_rings: Dict[str, List[int]] = {}
        self.tips: Dict[str, int] = {}
        self.base_centres: Dict[str, int] = {}
        self.wrist_centre = -1
        self.knuckle_centre = -1

    def _add(self, v: np.ndarray) -> int:
        self.verts.append(v)
        return len(self.verts) - 1

    def add_palm(self) -> None:
        """The palm tube along -x (must be added first: offset 0)."""
        zy = _rounded_rect(PALM_RING, _PALM_Z, _PALM_HALF_Y, corner=0.35)
        xs = np.linspace(PALM_X[0], PALM_X[1], PALM_RINGS)
        for r, x in enumerate(xs):
            taper = 1.0 - 0.12 * (1.0 - r / (PALM_RINGS - 1))  # narrower wrist
            zc = (_PALM_Z[0] + _PALM_Z[1]) / 2
            for z, y in zy:
                self._add(np.array([x, y * taper, zc + (z - zc) * taper]))
        self.joint_rings['Wrist'] = list(range(PALM_RING))
        zc = (_PALM_Z[0] + _PALM_Z[1]) / 2
        self.wrist_centre = self._add(np.array([xs[0], 0.0, zc]))
        self.knuckle_centre = self._add(np.array([xs[-1], 0.0, zc]))
        faces = _tube_faces(0, PALM_RING, PALM_RINGS, self.wrist_centre,
                            self.knuckle_centre)
        # The palm ring runs the other way round with respect to -x: flip
        # the palm faces so that all normals point outwards.
        self.faces += [(a, c, b) for a, b, c in faces]

    def add_finger(self, finger: str) -> None:
        """One finger tube along its joints, capped at base and tip."""
        pts = np.array(_FINGER_POINTS[finger], dtype=np.float64)
        centres = _finger_ring_centres(pts)
        radius0 = _FINGER_RADIUS[finger]
        offset = len(self.verts)
        for r, c in enumerate(centres):
            seg = min(r, FINGER_RINGS - 2)
            u, w = _frame(centres[seg + 1] - centres[seg])
            frac = r / (FINGER_RINGS - 1)
            rad = radius0 * (1.0 - 0.25 * frac)
            if r == FINGER_RINGS - 1:
                rad *= 0.6  # round the tip
            for i in range(FINGER_RING):
                a = 2 * np.pi * i / FINGER_RING
                self._add(c + rad * (np.cos(a) * u + np.sin(a) * w))
        for name_idx, ring_idx in ((1, 1), (2, 5), (3, 8)):
            start = offset + ring_idx * FINGER_RING
            self.joint_rings[f'{finger}_{name_idx}'] = list(
                range(start, start + FINGER_RING))
        self.base_centres[finger] = self._add(centres[0].copy())
        self.tips[finger] = self._add(pts[3].copy())
        self.faces += _tube_faces(offset, FINGER_RING, FINGER_RINGS,
                                  self.base_centres[finger],
                                  self.tips[finger])

    def add_padding_faces(self) -> None:
        """The hidden faces inside the palm that complete the face count."""
        base, knuckle = self.base_centres, self.knuckle_centre
        order = ['Index', 'Middle', 'Ring', 'Pinky']
        for a, b in zip(order[:-1], order[1:]):
            self.faces.append((base[a], base[b], knuckle))
        self.faces.append((base['Pinky'], base['Index'], knuckle))
        self.faces.append((base['Thumb'], base['Index'], self.wrist_centre))
        self.faces.append((base['Thumb'], self.wrist_centre, knuckle))


def build_right_mesh() -> Dict[str, object]:
    """Vertices/faces of the right hand (construction order) and labels.

    Returns:
        dict: ``verts`` (778, 3) float64 metres, ``faces`` (1538, 3) int64,
        ``joint_rings`` (joint name -> vertex indices of the ring placed at
        that joint), ``tips`` (finger -> tip vertex index).
    """
    mesh = _MeshBuilder()
    mesh.add_palm()
    for finger in _FINGERS:
        mesh.add_finger(finger)
    mesh.add_padding_faces()
    assert len(mesh.faces) - 5 * 2 * FINGER_RING * FINGER_RINGS - \
        2 * PALM_RING * PALM_RINGS == NUM_PADDING_FACES
    return dict(
        verts=np.stack(mesh.verts),
        faces=np.array(mesh.faces, dtype=np.int64),
        joint_rings=mesh.joint_rings,
        tips=mesh.tips)


def permute_to_official_tips(num: int, tips: Dict[str, int]) -> np.ndarray:
    """``new_of_old`` (num,) putting each tip at its official vertex id.

    The other vertices keep their relative order in the free slots.
    """
    fixed = {tips[k.split('_')[0]]: v for k, v in FINGERTIP_VERTEX_IDS.items()}
    free_new = [i for i in range(num) if i not in fixed.values()]
    free_old = [i for i in range(num) if i not in fixed]
    new_of_old = np.empty(num, dtype=np.int64)
    new_of_old[free_old] = free_new
    for old, new in fixed.items():
        new_of_old[old] = new
    return new_of_old
