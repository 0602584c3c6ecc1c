# Copyright (c) interwild_mm contributors.
"""MANO joint sets and index maps shared by the whole project.

Joint sets (see the spec, section 0.1 and 3.2):

* ``MANO_JOINT_NAMES`` -- the 16 joints of the MANO ``J_regressor`` (the
  kinematic order of the model files), with parents ``MANO_PARENTS``.
* ``SH_JOINT_NAMES`` -- the single-hand 21-joint set used by every network
  joint output: wrist, then each finger from its base to its tip.
* ``TH_JOINT_NAMES`` -- the two-hand 42-joint set: ``'R_'`` + SH names, then
  ``'L_'`` + SH names (wrists at 0 and 21, flip pairs ``(i, i + 21)``).
* ``IH26M_JOINT_NAMES`` -- the InterHand2.6M annotation order (tips first,
  wrist last per hand; right hand then left hand) and ``IH26M_TO_TH`` such
  that ``joints_th = joints_ih26m[IH26M_TO_TH]``.
"""
from typing import Dict, List, Tuple

import numpy as np

NUM_VERTS: int = 778
NUM_FACES: int = 1538
NUM_BETAS: int = 10
NUM_MANO_JOINTS: int = 16
NUM_SH_JOINTS: int = 21
NUM_TH_JOINTS: int = 42

FINGERS: Tuple[str, ...] = ('Thumb', 'Index', 'Middle', 'Ring', 'Pinky')

#: The 16 MANO joints in J_regressor / kinematic-tree order.
MANO_JOINT_NAMES: List[str] = [
    'Wrist',
    'Index_1', 'Index_2', 'Index_3',
    'Middle_1', 'Middle_2', 'Middle_3',
    'Pinky_1', 'Pinky_2', 'Pinky_3',
    'Ring_1', 'Ring_2', 'Ring_3',
    'Thumb_1', 'Thumb_2', 'Thumb_3',
]

#: Kinematic parent of each MANO joint (-1 for the root).
MANO_PARENTS: List[int] = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]

#: Fingertip vertex ids of the MANO mesh (used as the ``*_4`` joints).
FINGERTIP_VERTEX_IDS: Dict[str, int] = {
    'Thumb_4': 745,
    'Index_4': 317,
    'Middle_4': 445,
    'Ring_4': 556,
    'Pinky_4': 673,
}

#: Single-hand 21-joint set (index 0 = wrist = root).
SH_JOINT_NAMES: List[str] = ['Wrist'] + [
    f'{finger}_{i}' for finger in FINGERS for i in range(1, 5)
]

#: Wrist index in the SH set.
SH_ROOT_IDX: int = 0

#: Skeleton edges of the SH set: each finger chain starting at the wrist.
SH_SKELETON: List[Tuple[int, int]] = [
    edge for f in range(len(FINGERS)) for edge in (
        (0, 1 + 4 * f),
        (1 + 4 * f, 2 + 4 * f),
        (2 + 4 * f, 3 + 4 * f),
        (3 + 4 * f, 4 + 4 * f),
    )
]

#: Two-hand 42-joint set: right hand, then left hand.
TH_JOINT_NAMES: List[str] = ['R_' + n for n in SH_JOINT_NAMES] + \
    ['L_' + n for n in SH_JOINT_NAMES]

#: Wrist (root) indices of the right and left hand in the TH set.
TH_ROOT_IDX: Dict[str, int] = {'right': 0, 'left': NUM_SH_JOINTS}

#: Left/right flip pairs of the TH set.
TH_FLIP_PAIRS: List[Tuple[int, int]] = [
    (i, i + NUM_SH_JOINTS) for i in range(NUM_SH_JOINTS)
]

#: Skeleton edges of the TH set (right edges, then left edges).
TH_SKELETON: List[Tuple[int, int]] = SH_SKELETON + [
    (a + NUM_SH_JOINTS, b + NUM_SH_JOINTS) for a, b in SH_SKELETON
]

#: For each SH joint, its row in the 16-joint MANO J_regressor, or -1 for a
#: fingertip (taken from ``FINGERTIP_VERTEX_IDS`` instead).
SH_FROM_MANO: List[int] = [
    MANO_JOINT_NAMES.index(n) if n in MANO_JOINT_NAMES else -1
    for n in SH_JOINT_NAMES
]

_IH26M_HAND: List[str] = [
    f'{finger}_{i}' for finger in FINGERS for i in (4, 3, 2, 1)
] + ['Wrist']

#: InterHand2.6M 42-joint order: per hand tips first, wrist last; right
#: hand then left hand.
IH26M_JOINT_NAMES: List[str] = ['R_' + n for n in _IH26M_HAND] + \
    ['L_' + n for n in _IH26M_HAND]

#: Index array with ``joints_th = joints_ih26m[IH26M_TO_TH]`` (shape (42,)).
IH26M_TO_TH: np.ndarray = np.array(
    [IH26M_JOINT_NAMES.index(n) for n in TH_JOINT_NAMES], dtype=np.int64)

#: Inverse map: ``joints_ih26m = joints_th[TH_TO_IH26M]`` (shape (42,)).
TH_TO_IH26M: np.ndarray = np.array(
    [TH_JOINT_NAMES.index(n) for n in IH26M_JOINT_NAMES], dtype=np.int64)

__all__ = [
    'NUM_VERTS', 'NUM_FACES', 'NUM_BETAS', 'NUM_MANO_JOINTS', 'NUM_SH_JOINTS',
    'NUM_TH_JOINTS', 'FINGERS', 'MANO_JOINT_NAMES', 'MANO_PARENTS',
    'FINGERTIP_VERTEX_IDS', 'SH_JOINT_NAMES', 'SH_ROOT_IDX', 'SH_SKELETON',
    'TH_JOINT_NAMES', 'TH_ROOT_IDX', 'TH_FLIP_PAIRS', 'TH_SKELETON',
    'SH_FROM_MANO', 'IH26M_JOINT_NAMES', 'IH26M_TO_TH', 'TH_TO_IH26M'
]
