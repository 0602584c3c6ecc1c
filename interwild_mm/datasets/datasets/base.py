# Copyright (c) interwild_mm contributors.
"""Shared pieces of the InterWild datasets.

Every InterWild dataset turns its annotation into the same flat *raw sample*
(one person / image = one sample), so that :class:`CombinedDataset` can mix
them and one pipeline serves all of them. Keys (th = 42-joint two-hand order,
right hand first; all numpy float32 unless said otherwise):

* ``img_path`` (str), ``img_id`` (int), ``id`` (int, annotation id),
  ``ann_img_shape`` (tuple ``(H, W)`` from the annotation),
* ``body_bbox`` (4,): processed body box, xywh original pixels (aspect
  384/512 and extension already applied, docs/official_conventions.md §3.1),
* ``joint_img`` (42, 2): 2D joints, original pixels,
* ``joint_cam`` (42, 3): 3D joints, metres, camera frame (zeros if 2D only
  and where neither flag set marks the joint valid),
* ``joint_valid`` (42,): the flags of the training targets: 1 for annotated
  joints (for InterHand2.6M the joint_3d flags),
* ``joint_valid_eval`` (42,): the flags of the hand boxes and the evaluation
  (for InterHand2.6M the per-image data.json flags,
  ``docs/official_conventions.md §3.2``); equal to ``joint_valid`` for the
  datasets with one flag set,
* ``hand_bbox`` (2, 4): [right, left] hand boxes, xyxy original pixels,
  ``hand_bbox_valid`` (2,),
* ``hand_type`` (str): ``'right'``, ``'left'`` or ``'interacting'``,
* ``is_3D`` (float): 1 for 3D datasets, 0 for 2D ones,
* ``cam_focal``/``cam_princpt`` (2,): the camera of ``joint_cam`` (ones /
  zeros when there is none),
* ``mano_params`` (list of 2, [right, left]): ``None`` or a dict with
  ``pose`` (48,) axis-angle, ``shape`` (10,), ``trans`` (3,) metres,
  ``focal`` (2,), ``princpt`` (2,), ``R`` (3, 3) world->camera or ``None``
  and ``t`` (3,) metres or ``None`` (the fit's own coordinate frame),
* ``mesh_cam`` (2, 778, 3) metres camera frame, ``mesh_valid`` (2,): ground
  truth meshes (HIC); zeros / 0 elsewhere.
"""
import logging
import os.path as osp
from copy import deepcopy
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.fileio import exists, load
from mmengine.logging import print_log

from interwild_mm.geometry.bbox import bbox_from_points, sanitize_bbox
from interwild_mm.geometry.camera import project_points
from interwild_mm.mano.constants import NUM_SH_JOINTS, NUM_TH_JOINTS, NUM_VERTS

#: Absolute path of the 42-keypoint metainfo file (independent of the CWD).
METAINFO_FILE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'metainfo',
    'interwild_hands.py')

#: Keys shared by every raw sample of every InterWild dataset.
RAW_SAMPLE_KEYS = ('img_path', 'img_id', 'id', 'ann_img_shape', 'body_bbox',
                   'joint_img', 'joint_cam', 'joint_valid',
                   'joint_valid_eval', 'hand_bbox',
                   'hand_bbox_valid', 'hand_type', 'is_3D', 'cam_focal',
                   'cam_princpt', 'mano_params', 'mesh_cam', 'mesh_valid')

HAND_SIDES = ('right', 'left')

#: Where the official InterHand2.6M loader puts a joint whose 3D annotation
#: is invalid: ``(1, 1, 1)`` mm, in metres.
OFFICIAL_PLACEHOLDER_M = np.full(3, 1e-3)


def load_annotation_file(path: str, what: str) -> Any:
    """Load a json annotation file with a clear error when it is missing.

    Args:
        path (str): file path.
        what (str): human description used in the error message.

    Returns:
        The decoded json content.
    """
    if not exists(path):
        raise FileNotFoundError(
            f'{what} not found: "{path}". Check `data_root` and the file '
            'arguments of the dataset config (see '
            'configs/_base_/datasets/interwild_ih26m_coco.py for the expected '
            'layout of the official annotation files).')
    return load(path)


def hand_type_from_valid(right: bool, left: bool) -> Optional[str]:
    """Handedness string of a sample from the per-hand presence flags."""
    if right and left:
        return 'interacting'
    if right:
        return 'right'
    if left:
        return 'left'
    return None


def world_joints_to_camera(
        world_mm: np.ndarray,
        valid: np.ndarray,
        R: np.ndarray,
        t_mm: np.ndarray,
        focal: np.ndarray,
        princpt: np.ndarray,
        coord_valid: Optional[np.ndarray] = None) -> Tuple[np.ndarray,
                                                          np.ndarray]:
    """World joints (mm) -> camera joints (m) and their pixel projections.

    ``X_cam = R X_w + t``. Joints with ``valid == 0`` are projected from 1 mm
    in front of the camera (no division by zero) and are zero in both
    outputs. Joints that are ``valid`` but whose 3D annotation is not
    (``coord_valid == 0``) are put at the official loader's placeholder
    ``(1, 1, 1)`` mm before the projection and KEPT there, in both outputs
    (``docs/official_conventions.md §3.2``): the official InterHand2.6M
    evaluation scores such a joint against that placeholder and its
    projection enters the hand box.

    Args:
        world_mm (np.ndarray): ``(J, 3)`` world coordinates, millimetres.
        valid (np.ndarray): ``(J,)`` 0/1 validity of the outputs.
        R (np.ndarray): ``(3, 3)`` world -> camera rotation.
        t_mm (np.ndarray): ``(3,)`` translation, millimetres.
        focal, princpt (np.ndarray): ``(2,)`` intrinsics, pixels.
        coord_valid (np.ndarray, optional): ``(J,)`` 0/1 validity of the 3D
            annotation; ``None`` = same as ``valid``.

    Returns:
        tuple: ``joint_cam`` ``(J, 3)`` metres and ``joint_img`` ``(J, 2)``
        pixels.
    """
    joint_cam = (world_mm @ R.T + t_mm) / 1000.0
    if coord_valid is not None:
        joint_cam[np.asarray(coord_valid) == 0] = OFFICIAL_PLACEHOLDER_M
    joint_cam[valid == 0] = np.array([0.0, 0.0, 1e-3])
    joint_img = project_points(
        torch.from_numpy(joint_cam), torch.from_numpy(focal),
        torch.from_numpy(princpt), eps=0.0).numpy()
    joint_img[valid == 0] = 0.0
    joint_cam[valid == 0] = 0.0
    return joint_cam, joint_img


def hand_boxes_from_joints(joint_img: np.ndarray, joint_valid: np.ndarray,
                           img_w: int, img_h: int,
                           extension: float = 1.2) -> tuple:
    """Per-hand boxes from the valid 2D joints (``get_bbox``).

    See docs/official_conventions.md §3.1.

    Args:
        joint_img (np.ndarray): (42, 2) pixels, th order.
        joint_valid (np.ndarray): (42,) validity.
        img_w (int): image width.
        img_h (int): image height.
        extension (float): box enlargement about its centre.

    Returns:
        tuple: ``hand_bbox`` (2, 4) xyxy and ``hand_bbox_valid`` (2,).
    """
    boxes = np.zeros((2, 4), dtype=np.float32)
    valid = np.zeros(2, dtype=np.float32)
    for h in range(2):
        sl = slice(h * NUM_SH_JOINTS, (h + 1) * NUM_SH_JOINTS)
        v = joint_valid[sl] > 0
        if not v.any():
            continue
        xywh = bbox_from_points(joint_img[sl], v, extension=extension)
        xywh = sanitize_bbox(xywh, img_w, img_h)
        if xywh is None:
            continue
        boxes[h] = [xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]]
        valid[h] = 1
    return boxes, valid


def parse_mano_param(param: Optional[dict], where: str,
                     **camera: Any) -> Optional[dict]:
    """Check and convert one NeuralAnnot-style MANO fit.

    Args:
        param (dict | None): ``{pose: 48, shape: 10, trans: 3}``.
        where (str): description for log messages.
        **camera: ``focal``, ``princpt``, ``R`` and ``t`` of the fit's frame.

    Returns:
        dict | None: float32 arrays, or ``None`` if the fit is missing or
        not finite (logged).
    """
    if param is None:
        return None
    try:
        pose = np.asarray(param['pose'], dtype=np.float32).reshape(48)
        shape = np.asarray(param['shape'], dtype=np.float32).reshape(10)
        trans = np.asarray(param['trans'], dtype=np.float32).reshape(3)
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f'Malformed MANO fit at {where}: expected keys pose '
                         f'(48), shape (10), trans (3); got {e!r}.') from e
    if not (np.isfinite(pose).all() and np.isfinite(shape).all()
            and np.isfinite(trans).all()):
        print_log(
            f'Non-finite MANO fit at {where}; the MANO targets of that hand '
            'are marked invalid.',
            logger='current',
            level=logging.WARNING)
        return None
    out = dict(pose=pose, shape=shape, trans=trans)
    out['focal'] = np.asarray(camera['focal'], dtype=np.float32).reshape(2)
    out['princpt'] = np.asarray(camera['princpt'], dtype=np.float32).reshape(2)
    R, t = camera.get('R'), camera.get('t')
    out['R'] = None if R is None else np.asarray(
        R, dtype=np.float32).reshape(3, 3)
    out['t'] = None if t is None else np.asarray(
        t, dtype=np.float32).reshape(3)
    return out


def empty_raw_sample() -> Dict[str, Any]:
    """A raw sample with every shared key set to its 'missing' value."""
    return dict(
        joint_img=np.zeros((NUM_TH_JOINTS, 2), np.float32),
        joint_cam=np.zeros((NUM_TH_JOINTS, 3), np.float32),
        joint_valid=np.zeros(NUM_TH_JOINTS, np.float32),
        joint_valid_eval=np.zeros(NUM_TH_JOINTS, np.float32),
        hand_bbox=np.zeros((2, 4), np.float32),
        hand_bbox_valid=np.zeros(2, np.float32),
        is_3D=0.0,
        cam_focal=np.ones(2, np.float32),
        cam_princpt=np.zeros(2, np.float32),
        mano_params=[None, None],
        mesh_cam=np.zeros((2, NUM_VERTS, 3), np.float32),
        mesh_valid=np.zeros(2, np.float32),
    )


class InterWildDatasetMixin:
    """Metainfo handling shared by the InterWild datasets.

    The 42-keypoint layout comes from :data:`METAINFO_FILE` (an absolute
    path); ``dataset_name`` is the class attribute ``DATASET_NAME``. Like
    mmpose's :class:`BaseCocoStyleDataset`, :meth:`get_data_info` adds the
    metainfo items the pipeline needs (``flip_indices`` etc.).
    """

    DATASET_NAME: str = 'interwild_hands'
    METAINFO: dict = dict(from_file=METAINFO_FILE)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        user_name = None
        if metainfo is None:
            metainfo = deepcopy(cls.METAINFO)
        else:
            user_name = metainfo.get('dataset_name')
        if not isinstance(metainfo, dict):
            raise TypeError(
                f'metainfo should be a dict, but got {type(metainfo)}')
        parsed = parse_pose_metainfo(metainfo)
        if parsed['num_keypoints'] != NUM_TH_JOINTS:
            raise ValueError(
                f'{cls.__name__} needs a {NUM_TH_JOINTS}-keypoint metainfo '
                f'(two hands), got {parsed["num_keypoints"]} keypoints.')
        parsed['dataset_name'] = user_name or cls.DATASET_NAME
        return parsed

    def _add_metainfo_to(self, data_info: dict) -> dict:
        for key in ('dataset_name', 'flip_indices', 'flip_pairs',
                    'dataset_keypoint_weights', 'skeleton_links',
                    'upper_body_ids', 'lower_body_ids'):
            data_info[key] = deepcopy(self._metainfo[key])
        return data_info

    @staticmethod
    def _check_finite(arrays: Dict[str, np.ndarray], where: str) -> bool:
        """Log and report ``False`` if any array holds NaN/inf."""
        bad = [k for k, v in arrays.items() if not np.isfinite(v).all()]
        if bad:
            print_log(
                f'Skipping {where}: non-finite values in {bad}.',
                logger='current',
                level=logging.WARNING)
            return False
        return True


def join_root(data_root: Optional[str], path: Optional[str]) -> Optional[str]:
    """Join ``path`` to ``data_root`` unless it is absolute or ``None``."""
    if path is None or data_root is None or osp.isabs(path):
        return path
    return osp.join(data_root, path)
