# Copyright (c) interwild_mm contributors.
"""InterHand2.6M (5 fps, H+M annotations) for InterWild.

See docs/official_conventions.md §3.2.
"""
import logging
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import exists
from mmengine.logging import print_log
from mmpose.registry import DATASETS

from interwild_mm.geometry.bbox import process_bbox
from interwild_mm.mano.constants import (IH26M_TO_TH, NUM_SH_JOINTS,
                                         NUM_TH_JOINTS, TH_ROOT_IDX)
from .base import (HAND_SIDES, InterWildDatasetMixin, empty_raw_sample,
                   hand_boxes_from_joints, join_root, load_annotation_file,
                   parse_mano_param, world_joints_to_camera)


@DATASETS.register_module()
class InterHand26MDataset(InterWildDatasetMixin, BaseDataset):
    """InterHand2.6M read from its official annotation files, unchanged.

    Files (``<split>`` = train / test / val), relative to ``data_root``:

    * ``ann_file``: ``InterHand2.6M_<split>_data.json`` (COCO style; images
      with ``capture``, ``camera``, ``frame_idx``; annotations with
      ``hand_type`` and the per-image ``joint_valid``),
    * ``camera_file``: ``InterHand2.6M_<split>_camera.json``,
    * ``joint_file``: ``InterHand2.6M_<split>_joint_3d.json``,
    * ``mano_file`` (optional): ``InterHand2.6M_<split>_MANO_NeuralAnnot.json``
      (world-frame fits, metres); without it samples carry joints only,
    * ``annot_subset_file`` (optional): text file of annotation ids to keep
      (``aid_human_annot_test.txt`` for the paper's test numbers).

    Each annotation becomes one sample (see
    :mod:`interwild_mm.datasets.datasets.base` for the raw-sample keys),
    with the two validity flag sets of the official loader
    (``docs/official_conventions.md §3.2``):

    * ``joint_valid_eval`` = the per-image data.json ``joint_valid``: it makes
      the hand boxes and the evaluation masks;
    * ``joint_valid`` = the per-frame joint_3d ``joint_valid``: it makes the
      training targets (a joint outside the image, data.json 0 / joint_3d 1,
      stays in the ``joint_cam`` target and, inside the grid, in
      ``joint_img``).

    The wrist rule (a hand's joints are all invalid when its wrist is
    invalid) is applied to each flag set separately, with its own wrist
    flag. Samples whose data.json or joint_3d flags are all 0 are dropped.
    Joints are re-ordered to the 42-joint th order; ``joint_cam`` /
    ``joint_img`` hold the annotation's camera coordinates / projections of
    every joint valid in joint_3d; a joint valid in data.json but not in
    joint_3d sits at the official placeholder ``(1, 1, 1)`` mm (its
    projection enters the hand box and the official evaluation scores it;
    ``InterWildMetric(strict_validity=True)`` leaves it out). The body box
    is the whole image (extension 1.0), hand boxes come from the projections
    of the data.json-valid joints (×1.2, sanitised); a hand without a box
    gets both flag sets zeroed and no MANO fit, and samples without any hand
    box are dropped. Samples with non-finite valid joints are skipped (logged).

    Args:
        ann_file (str): the ``data`` json.
        camera_file (str): the ``camera`` json.
        joint_file (str): the ``joint_3d`` json.
        mano_file (str, optional): the ``MANO_NeuralAnnot`` json.
        annot_subset_file (str, optional): annotation-id list to keep.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``data_root``, ``data_prefix=dict(img=...)``, ``pipeline``,
            ``test_mode``, ``lazy_init``, ``indices``, ...).
    """

    DATASET_NAME = 'interhand2.6m'

    def __init__(self,
                 ann_file: str = '',
                 camera_file: str = '',
                 joint_file: str = '',
                 mano_file: Optional[str] = None,
                 annot_subset_file: Optional[str] = None,
                 **kwargs) -> None:
        data_root = kwargs.get('data_root')
        self.camera_file = join_root(data_root, camera_file)
        self.joint_file = join_root(data_root, joint_file)
        self.mano_file = join_root(data_root, mano_file)
        self.annot_subset_file = join_root(data_root, annot_subset_file)
        super().__init__(ann_file=ann_file, **kwargs)

    def get_data_info(self, idx: int) -> dict:
        return self._add_metainfo_to(super().get_data_info(idx))

    def load_data_list(self) -> List[dict]:
        db = load_annotation_file(self.ann_file, 'InterHand2.6M data json')
        cameras = load_annotation_file(self.camera_file,
                                       'InterHand2.6M camera json')
        joints = load_annotation_file(self.joint_file,
                                      'InterHand2.6M joint_3d json')
        mano = None
        if self.mano_file:
            mano = load_annotation_file(self.mano_file,
                                        'InterHand2.6M MANO_NeuralAnnot json')
        keep_ids = None
        if self.annot_subset_file:
            if not exists(self.annot_subset_file):
                raise FileNotFoundError(
                    'InterHand2.6M annotation-id list not found: '
                    f'"{self.annot_subset_file}" (set annot_subset_file=None '
                    'to use every annotation).')
            with open(self.annot_subset_file) as f:
                keep_ids = {int(s) for s in f.read().split() if s.strip()}

        images = {img['id']: img for img in db['images']}
        data_list = []
        n_skipped = 0
        for ann in db['annotations']:
            if keep_ids is not None and int(ann['id']) not in keep_ids:
                continue
            info = self._parse(ann, images[ann['image_id']], cameras, joints,
                               mano)
            if info is None:
                n_skipped += 1
                continue
            data_list.append(info)
        if n_skipped:
            print_log(
                f'{self.__class__.__name__}: dropped {n_skipped} annotations '
                '(no valid joint in data.json or joint_3d, no valid hand box '
                'or non-finite values).',
                logger='current',
                level=logging.INFO)
        return data_list

    @staticmethod
    def _flags(raw) -> np.ndarray:
        """(42,) float32 0/1 flags in th order, wrist rule applied."""
        flags = np.asarray(raw, np.float64).reshape(-1)[IH26M_TO_TH]
        for side in HAND_SIDES:
            r = TH_ROOT_IDX[side]
            flags[r:r + NUM_SH_JOINTS] *= flags[r]
        return (flags > 0).astype(np.float32)

    def _parse(self, ann: dict, img: dict, cameras: dict, joints: dict,
               mano: Optional[dict]) -> Optional[dict]:
        capture, cam = str(img['capture']), str(img['camera'])
        frame = str(img['frame_idx'])
        where = (f'InterHand2.6M annotation {ann["id"]} (capture {capture}, '
                 f'camera {cam}, frame {frame})')
        try:
            cam_db = cameras[capture]
            campos = np.asarray(cam_db['campos'][cam], np.float64).reshape(3)
            R = np.asarray(cam_db['camrot'][cam], np.float64).reshape(3, 3)
            focal = np.asarray(cam_db['focal'][cam], np.float64).reshape(2)
            princpt = np.asarray(cam_db['princpt'][cam], np.float64).reshape(2)
            joint_db = joints[capture][frame]
        except KeyError as e:
            raise KeyError(f'{where}: missing entry {e} in the camera or '
                           'joint_3d json; the files do not belong together.')
        t = -R @ campos  # mm, X_cam = R X_world + t

        world = np.asarray(joint_db['world_coord'],
                           np.float64).reshape(NUM_TH_JOINTS, 3)[IH26M_TO_TH]
        valid_eval = self._flags(ann['joint_valid'])
        valid_3d = self._flags(joint_db['joint_valid'])
        if valid_eval.sum() == 0 or valid_3d.sum() == 0:
            return None
        either = np.maximum(valid_eval, valid_3d)
        if not self._check_finite({'world_coord': world[either > 0]}, where):
            return None
        world[either == 0] = 0.0

        joint_cam, joint_img = world_joints_to_camera(
            world, either, R, t, focal, princpt, coord_valid=valid_3d)

        img_w, img_h = int(img['width']), int(img['height'])
        hand_bbox, hand_bbox_valid = hand_boxes_from_joints(
            joint_img, valid_eval, img_w, img_h)
        if hand_bbox_valid.sum() == 0:
            return None
        for h in range(2):
            if not hand_bbox_valid[h]:
                sl = slice(h * NUM_SH_JOINTS, (h + 1) * NUM_SH_JOINTS)
                valid_eval[sl] = valid_3d[sl] = 0.0
        body_bbox = process_bbox([0, 0, img_w, img_h], img_w, img_h, 1.0)
        if body_bbox is None:
            return None

        sample = empty_raw_sample()
        mano_params = [None, None]
        if mano is not None:
            fits = mano.get(capture, {}).get(frame)
            for h, side in enumerate(HAND_SIDES):
                if fits is None or not hand_bbox_valid[h]:
                    continue
                mano_params[h] = parse_mano_param(
                    fits.get(side),
                    f'{where} {side} hand',
                    focal=focal,
                    princpt=princpt,
                    R=R,
                    t=t / 1000.0)
        sample.update(
            img_path=osp.join(self.data_prefix.get('img', ''),
                              img['file_name']),
            img_id=int(img['id']),
            id=int(ann['id']),
            ann_img_shape=(img_h, img_w),
            body_bbox=body_bbox.astype(np.float32),
            joint_img=joint_img.astype(np.float32),
            joint_cam=joint_cam.astype(np.float32),
            joint_valid=valid_3d,
            joint_valid_eval=valid_eval,
            hand_bbox=hand_bbox,
            hand_bbox_valid=hand_bbox_valid,
            hand_type=str(ann['hand_type']),
            is_3D=1.0,
            cam_focal=focal.astype(np.float32),
            cam_princpt=princpt.astype(np.float32),
            mano_params=mano_params,
        )
        return sample
