# Copyright (c) interwild_mm contributors.
"""COCO-WholeBody two-hand samples (+ NeuralAnnot MANO fits).

See docs/official_conventions.md §3.3.
"""
from typing import Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import exists
from mmpose.datasets.datasets.wholebody import CocoWholeBodyDataset
from mmpose.registry import DATASETS

from interwild_mm.geometry.bbox import process_bbox, sanitize_bbox
from interwild_mm.mano.constants import NUM_SH_JOINTS
from .base import (HAND_SIDES, InterWildDatasetMixin, empty_raw_sample,
                   hand_type_from_valid, join_root, load_annotation_file,
                   parse_mano_param)

# Hand blocks of mmpose's 133 COCO-WholeBody keypoints (SH order each).
_LEFT_HAND_SLICE = slice(91, 112)
_RIGHT_HAND_SLICE = slice(112, 133)


@DATASETS.register_module()
class CocoWholeBodyHandsDataset(InterWildDatasetMixin, CocoWholeBodyDataset):
    """One sample per COCO-WholeBody person with at least one valid hand.

    Reuses mmpose's :class:`CocoWholeBodyDataset` for the COCO loading and
    the 133-keypoint parsing, and turns each person into an InterWild raw
    sample (keys in :mod:`interwild_mm.datasets.datasets.base`):

    * body box = person box, ``process_bbox`` with extension 1.25,
    * 2D joints: right hand = keypoints 112-132, left = 91-111 (both already
      ``Wrist, Thumb_1..4, ...``), valid where the score is > 0,
    * hand boxes = ``{right,left}hand_box`` when ``*hand_valid`` is set and
      the box survives sanitising,
    * ``hand_type`` = ``'interacting'`` if both hands are flagged valid, else
      the valid side,
    * ``is_3D = 0`` (``joint_cam`` is a dummy zero array),
    * MANO: ``MSCOCO_train_MANO_NeuralAnnot.json`` (optional) keyed by the
      annotation id; each hand's fit is in its own camera frame
      (``cam_param.focal/princpt``, no R/t).

    Skipped: crowd, no keypoints, neither hand valid, invalid person box,
    non-finite hand keypoints (logged).

    Args:
        ann_file (str): ``coco_wholebody_{train,val}_v1.0.json``.
        mano_file (str, optional): ``MSCOCO_train_MANO_NeuralAnnot.json``.
        **kwargs: :class:`BaseCocoStyleDataset` arguments (``data_root``,
            ``data_prefix=dict(img='train2017/')``, ``pipeline``, ...).
    """

    DATASET_NAME = 'coco_wholebody_hands'

    def __init__(self,
                 ann_file: str = '',
                 mano_file: Optional[str] = None,
                 **kwargs) -> None:
        self.mano_file = join_root(kwargs.get('data_root'), mano_file)
        self._mano_db = None
        super().__init__(ann_file=ann_file, **kwargs)

    def get_data_info(self, idx: int) -> dict:
        # mmengine's get_data_info, then our metainfo keys (same keys as
        # BaseCocoStyleDataset.get_data_info adds).
        return self._add_metainfo_to(BaseDataset.get_data_info(self, idx))

    def load_data_list(self) -> list:
        if not exists(self.ann_file):
            raise FileNotFoundError(
                f'COCO-WholeBody annotation json not found: "{self.ann_file}"'
                '. Expected coco_wholebody_{train,val}_v1.0.json under '
                '`data_root` (see configs/_base_/datasets/).')
        self._mano_db = None
        if self.mano_file:
            self._mano_db = load_annotation_file(
                self.mano_file, 'COCO MANO_NeuralAnnot json')
        try:
            return super().load_data_list()
        finally:
            self._mano_db = None

    @staticmethod
    def _is_valid_instance(data_info: dict) -> bool:
        # all filtering happens in parse_data_info
        return True

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        ann = raw_data_info['raw_ann_info']
        img = raw_data_info['raw_img_info']
        if ann.get('iscrowd', 0) or ann.get('num_keypoints', 0) == 0:
            return None
        flags = [bool(ann.get(f'{side}hand_valid', False)) for side in
                 HAND_SIDES]
        if not any(flags):
            return None
        base = super().parse_data_info(raw_data_info)
        img_w, img_h = int(img['width']), int(img['height'])
        body_bbox = process_bbox(ann['bbox'], img_w, img_h, 1.25)
        if body_bbox is None:
            return None

        kpts = base['keypoints'][0]
        vis = base['keypoints_visible'][0]
        joint_img = np.concatenate(
            [kpts[_RIGHT_HAND_SLICE], kpts[_LEFT_HAND_SLICE]]).astype(
                np.float32)
        joint_valid = np.concatenate(
            [vis[_RIGHT_HAND_SLICE], vis[_LEFT_HAND_SLICE]]).astype(np.float32)
        where = f'COCO-WholeBody annotation {ann["id"]}'
        if not self._check_finite({'hand keypoints': joint_img}, where):
            return None

        hand_bbox = np.zeros((2, 4), np.float32)
        hand_bbox_valid = np.zeros(2, np.float32)
        for h, side in enumerate(HAND_SIDES):
            if not flags[h]:
                continue
            box = sanitize_bbox(ann[f'{side}hand_box'], img_w, img_h)
            if box is None:
                continue
            hand_bbox[h] = [box[0], box[1], box[0] + box[2], box[1] + box[3]]
            hand_bbox_valid[h] = 1

        mano_params = [None, None]
        if self._mano_db is not None:
            fits = self._mano_db.get(str(ann['id']))
            for h, side in enumerate(HAND_SIDES):
                fit = None if fits is None else fits.get(side)
                if fit is None:
                    continue
                mano_params[h] = parse_mano_param(
                    fit['mano_param'],
                    f'{where} {side} hand',
                    focal=fit['cam_param']['focal'],
                    princpt=fit['cam_param']['princpt'])

        sample = empty_raw_sample()
        sample.update(
            img_path=base['img_path'],
            img_id=int(ann['image_id']),
            id=int(ann['id']),
            ann_img_shape=(img_h, img_w),
            body_bbox=body_bbox.astype(np.float32),
            joint_img=joint_img,
            joint_valid=joint_valid,
            joint_valid_eval=joint_valid.copy(),
            hand_bbox=hand_bbox,
            hand_bbox_valid=hand_bbox_valid,
            hand_type=hand_type_from_valid(*flags),
            is_3D=0.0,
            mano_params=mano_params,
        )
        assert joint_img.shape == (2 * NUM_SH_JOINTS, 2)
        return sample
