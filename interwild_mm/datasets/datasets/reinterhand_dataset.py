# Copyright (c) interwild_mm contributors.
"""ReInterHand (Mugsy cameras, 5 fps env-map renders).

See docs/official_conventions.md §3.5.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import exists, load
from mmpose.registry import DATASETS

from interwild_mm.geometry.bbox import process_bbox
from interwild_mm.mano.constants import NUM_SH_JOINTS
from .base import (HAND_SIDES, InterWildDatasetMixin, empty_raw_sample,
                   hand_boxes_from_joints, hand_type_from_valid,
                   load_annotation_file, parse_mano_param,
                   world_joints_to_camera)

#: Test captures of the paper (docs/official_conventions.md §3.5); every other
#: capture is train.
REINTERHAND_TEST_CAPTURES = (
    'm--20221215--0949--RNS217--pilot--ProjectGoliathScript--Hands--two-hands',
    'm--20221216--0953--NKC880--pilot--ProjectGoliathScript--Hands--two-hands',
    'm--20230317--1130--QZX685--pilot--ProjectGoliath--Hands--two-hands',
)

#: ReInterHand keypoint order (24): Wrist, Thumb_0..4, Index_1..4,
#: Middle_1..4, Ring_1..4, Pinky_0..4, Forearm_Stub. Rows giving our
#: single-hand order (Thumb_0, Pinky_0 and Forearm_Stub dropped).
REINTERHAND_TO_SH = np.array(
    [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21,
     22],
    dtype=np.int64)
NUM_REINTERHAND_KPTS = 24


def _read_keypoints(path: str) -> np.ndarray:
    """(24, 3) world keypoints (mm) from one ``keypoint-<frame>.json``."""
    obj = load(path)
    if isinstance(obj, dict):  # tolerate a one-entry wrapper
        values = [v for v in obj.values() if isinstance(v, list)]
        if len(values) != 1:
            raise ValueError(f'Unexpected keypoint file layout: {path}.')
        obj = values[0]
    kpts = np.asarray(obj, dtype=np.float64).reshape(-1, 3)
    if kpts.shape[0] != NUM_REINTERHAND_KPTS:
        raise ValueError(f'{path}: expected {NUM_REINTERHAND_KPTS} '
                         f'keypoints, got {kpts.shape[0]}.')
    return kpts


@DATASETS.register_module()
class ReInterHandDataset(InterWildDatasetMixin, BaseDataset):
    """ReInterHand read from the official per-capture folders.

    Layout under ``data_root`` (``data/ReInterHand/data``), per capture:

    * ``Mugsy_cameras/cam_params.json``: ``{cam: {R 3×3, t [3] mm, focal
      [2], principal point ``princpt`` [2]}}`` (``X_cam = R X_world + t``),
    * ``Mugsy_cameras/envmap_per_frame/images/<cam>/<frame:06d>.png``,
    * ``orig_fits/{right,left}/Keypoints/keypoint-<frame:06d>.json``: 24
      world keypoints (mm),
    * ``mano_fits/params/<frame>_{right,left}.json``: world MANO fits.

    One sample per (capture, camera, frame image). Joints: 21 per hand
    (Thumb_0, Pinky_0, Forearm_Stub dropped), valid iff the hand's keypoint
    file exists; hand box iff ≥1 joint of the hand projects inside the
    image (box of the projected joints ×1.2, sanitised); MANO fit used iff
    the hand exists. Body box = whole image (extension 1.0). ``is_3D`` = 1.

    Args:
        split (str): ``'train'`` or ``'test'`` (captures in
            :data:`REINTERHAND_TEST_CAPTURES`).
        captures (Sequence[str], optional): explicit capture folders
            (overrides ``split``).
        cameras (Sequence[str], optional): keep only these cameras.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``data_root`` is required).
    """

    DATASET_NAME = 'reinterhand'

    def __init__(self,
                 split: str = 'train',
                 captures: Optional[Sequence[str]] = None,
                 cameras: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split}.")
        self.split = split
        self.captures = None if captures is None else list(captures)
        self.cameras = None if cameras is None else set(cameras)
        super().__init__(**kwargs)

    def get_data_info(self, idx: int) -> dict:
        return self._add_metainfo_to(super().get_data_info(idx))

    def _select_captures(self) -> List[str]:
        root = self.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(
                f'ReInterHand data_root not found: "{root}" (expected '
                'data/ReInterHand/data with one folder per capture).')
        if self.captures is not None:
            return self.captures
        caps = sorted(d for d in os.listdir(root)
                      if osp.isdir(osp.join(root, d)))
        test = set(REINTERHAND_TEST_CAPTURES)
        return [c for c in caps if (c in test) == (self.split == 'test')]

    def load_data_list(self) -> List[dict]:
        data_list = []
        for cap in self._select_captures():
            data_list.extend(self._load_capture(cap))
        return data_list

    def _load_capture(self, cap: str) -> List[dict]:
        cap_dir = osp.join(self.data_root, cap)
        cams = load_annotation_file(
            osp.join(cap_dir, 'Mugsy_cameras', 'cam_params.json'),
            f'ReInterHand camera file of {cap}')
        img_root = osp.join(cap_dir, 'Mugsy_cameras', 'envmap_per_frame',
                            'images')
        kpt_cache: Dict[int, List[Optional[np.ndarray]]] = {}
        out = []
        for cam in sorted(cams):
            if self.cameras is not None and cam not in self.cameras:
                continue
            cam_dir = osp.join(img_root, cam)
            if not osp.isdir(cam_dir):
                continue
            frames = sorted(
                int(osp.splitext(f)[0]) for f in os.listdir(cam_dir)
                if f.endswith('.png'))
            if not frames:
                continue
            first = cv2.imread(
                osp.join(cam_dir, f'{frames[0]:06d}.png'),
                cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if first is None:
                raise IOError('Cannot read ReInterHand image '
                              f'{osp.join(cam_dir, f"{frames[0]:06d}.png")}.')
            img_h, img_w = first.shape[:2]
            c = cams[cam]
            R = np.asarray(c['R'], np.float64).reshape(3, 3)
            t = np.asarray(c['t'], np.float64).reshape(3)
            focal = np.asarray(c['focal'], np.float64).reshape(2)
            princpt = np.asarray(c['princpt'], np.float64).reshape(2)
            for frame in frames:
                if frame not in kpt_cache:
                    kpt_cache[frame] = self._frame_keypoints(cap_dir, frame)
                info = self._parse(cap, cap_dir, cam, frame, img_w, img_h, R,
                                   t, focal, princpt, kpt_cache[frame])
                if info is not None:
                    info['img_path'] = osp.join(cam_dir, f'{frame:06d}.png')
                    out.append(info)
        return out

    @staticmethod
    def _frame_keypoints(cap_dir: str,
                         frame: int) -> List[Optional[np.ndarray]]:
        kpts = []
        for side in HAND_SIDES:
            p = osp.join(cap_dir, 'orig_fits', side, 'Keypoints',
                         f'keypoint-{frame:06d}.json')
            kpts.append(
                _read_keypoints(p)[REINTERHAND_TO_SH] if exists(p) else None)
        return kpts

    def _parse(self, cap, cap_dir, cam, frame, img_w, img_h, R, t, focal,
               princpt, kpts) -> Optional[dict]:
        where = f'ReInterHand {cap} camera {cam} frame {frame}'
        world = np.zeros((2 * NUM_SH_JOINTS, 3))
        valid = np.zeros(2 * NUM_SH_JOINTS, np.float32)
        for h, k in enumerate(kpts):
            if k is not None:
                world[h * NUM_SH_JOINTS:(h + 1) * NUM_SH_JOINTS] = k
                valid[h * NUM_SH_JOINTS:(h + 1) * NUM_SH_JOINTS] = 1
        if valid.sum() == 0 or not self._check_finite(
                {'keypoints': world}, where):
            return None
        joint_cam, joint_img = world_joints_to_camera(
            world, valid, R, t, focal, princpt)
        inside = ((joint_img[:, 0] >= 0) & (joint_img[:, 0] < img_w) &
                  (joint_img[:, 1] >= 0) & (joint_img[:, 1] < img_h) &
                  (joint_cam[:, 2] > 0) & (valid > 0))
        box_valid_pts = valid.copy()
        for h in range(2):
            sl = slice(h * NUM_SH_JOINTS, (h + 1) * NUM_SH_JOINTS)
            if not inside[sl].any():
                box_valid_pts[sl] = 0
        hand_bbox, hand_bbox_valid = hand_boxes_from_joints(
            joint_img, box_valid_pts, img_w, img_h)
        if hand_bbox_valid.sum() == 0:
            return None
        mano_params = [None, None]
        for h, side in enumerate(HAND_SIDES):
            if kpts[h] is None:
                continue
            for name in (f'{frame}_{side}.json', f'{frame:06d}_{side}.json'):
                p = osp.join(cap_dir, 'mano_fits', 'params', name)
                if exists(p):
                    mano_params[h] = parse_mano_param(
                        load(p),
                        f'{where} {side} hand',
                        focal=focal,
                        princpt=princpt,
                        R=R,
                        t=t / 1000.0)
                    break
        sample = empty_raw_sample()
        sample.update(
            img_id=frame,
            id=frame,
            ann_img_shape=(img_h, img_w),
            body_bbox=process_bbox([0, 0, img_w, img_h], img_w, img_h, 1.0),
            joint_img=joint_img.astype(np.float32),
            joint_cam=joint_cam.astype(np.float32),
            joint_valid=valid,
            joint_valid_eval=valid.copy(),
            hand_bbox=hand_bbox,
            hand_bbox_valid=hand_bbox_valid,
            hand_type=hand_type_from_valid(kpts[0] is not None,
                                           kpts[1] is not None),
            is_3D=1.0,
            cam_focal=focal.astype(np.float32),
            cam_princpt=princpt.astype(np.float32),
            mano_params=mano_params)
        return sample
