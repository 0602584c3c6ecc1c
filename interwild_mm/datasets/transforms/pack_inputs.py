# Copyright (c) interwild_mm contributors.
"""Pack an InterWild sample into ``inputs`` + ``PoseDataSample``."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData
from mmpose.registry import TRANSFORMS
from mmpose.structures import PoseDataSample

from .generate_target import InterWildGenerateTarget


@TRANSFORMS.register_module()
class PackInterWildInputs(BaseTransform):
    """Pack the patch image and the InterWild targets (data-sample contract).

    * ``inputs``: ``(3, H, W)`` uint8 RGB tensor (the data preprocessor
      divides by 255; it must NOT swap channels again),
    * ``data_samples.gt_instance_labels``: every training target as a float32
      tensor with a leading instance dimension 1 (names:
      :attr:`InterWildGenerateTarget.TARGET_KEYS`),
    * ``data_samples.gt_instances``: the evaluation GT (numpy, leading
      dimension 1; :attr:`InterWildGenerateTarget.GT_KEYS`: ``gt_joint_cam``,
      ``gt_joint_valid`` (the flags the official evaluation scores),
      ``gt_joint_valid_3d`` (the 3D-annotation flags), ``gt_mesh_cam``,
      ``gt_mesh_valid``, ``gt_{r,l}hand_bbox``, ``gt_hand_bbox_valid``) plus
      ``bboxes`` (the body box, xyxy original pixels) and ``bbox_scores``,
    * metainfo: ``meta_keys`` (``bb2img_trans``, ``img2bb_trans``,
      ``ori_shape``, ``img_path``, ``hand_type``, ``dataset_name``, ...).
      ``focal``/``princpt`` are the patch camera of ``gt_joint_cam``.

    Required Keys:
        - img, the targets and evaluation GT of
          :class:`InterWildGenerateTarget`, the ``meta_keys`` present

    Added Keys:
        - inputs, data_samples

    Args:
        meta_keys (Sequence[str]): metainfo keys copied when present.
    """

    DEFAULT_META_KEYS = ('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                         'input_size', 'hand_type', 'dataset_name',
                         'bb2img_trans', 'img2bb_trans', 'flip',
                         'flip_direction', 'flip_indices', 'aug_scale',
                         'aug_rot', 'focal', 'princpt')

    def __init__(self,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Optional[Dict]:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0,
                                                                     1)))

        target_keys = results.get('target_keys',
                                  InterWildGenerateTarget.TARGET_KEYS)
        gt_keys = results.get('gt_keys', InterWildGenerateTarget.GT_KEYS)
        missing = [k for k in (*target_keys, *gt_keys) if k not in results]
        if missing:
            raise KeyError(
                f'{self.__class__.__name__}: missing {missing}; put '
                "dict(type='InterWildGenerateTarget') before it.")

        labels = InstanceData()
        for k in target_keys:
            labels.set_field(
                torch.from_numpy(np.asarray(results[k],
                                            dtype=np.float32))[None], k)
        gt = InstanceData()
        for k in gt_keys:
            gt.set_field(np.asarray(results[k], dtype=np.float32)[None], k)
        x, y, w, h = np.asarray(results['body_bbox'], np.float32)
        gt.bboxes = np.array([[x, y, x + w, y + h]], np.float32)
        gt.bbox_scores = np.ones(1, np.float32)

        meta = {}
        results.setdefault('focal', results.get('cam_focal'))
        results.setdefault('princpt', results.get('cam_princpt'))
        for k in self.meta_keys:
            if k in results:
                meta[k] = results[k]
        data_sample = PoseDataSample(metainfo=meta)
        data_sample.gt_instance_labels = labels
        data_sample.gt_instances = gt
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
