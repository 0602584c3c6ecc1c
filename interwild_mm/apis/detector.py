# Copyright (c) interwild_mm contributors.
"""Optional mmdet person detector of the inferencer.

Any mmdet 3.x config works (e.g. RTMDet from mmdet's ``configs/rtmdet`` or
mmpose's ``demo/mmdetection_cfg/rtmdet_m_640-8xb32_coco-person.py``).
The detector is built and run inside mmdet's registry scope
(``DefaultScope.overwrite_default_scope``), so its test pipeline
(``PackDetInputs`` and friends) resolves in mmdet's registries while the
rest of the process keeps mmpose's scope. Building it never loads
pretrained backbone weights (``init_detector`` drops the backbone's
``init_cfg``; the checkpoint holds all weights).

Persons are the detections of class ``cat_id`` with a score above
``bbox_thr``, sorted left to right; when there is none, the whole image
``[0, 0, W, H]`` is one person (as without a detector).
"""
import copy
import os
import os.path as osp
from typing import List, Optional, Tuple, Union

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from interwild_mm.utils.checkpoint import patch_mmengine_checkpoint_loading

__all__ = ['PersonDetector', 'whole_image_person', 'select_persons']

Person = Tuple[np.ndarray, Optional[float]]


def whole_image_person(height: int, width: int) -> List[Person]:
    """The whole image ``[0, 0, W, H]`` as the only person (score None)."""
    return [(np.array([0.0, 0.0, width, height]), None)]


def select_persons(bboxes: np.ndarray, scores: np.ndarray,
                   labels: np.ndarray, cat_id: int, bbox_thr: float,
                   height: int, width: int) -> List[Person]:
    """Person boxes ``(xyxy float64, score)`` among detections.

    Args:
        bboxes (np.ndarray): ``(N, 4)`` xyxy boxes, original px.
        scores (np.ndarray): ``(N,)`` scores.
        labels (np.ndarray): ``(N,)`` class ids.
        cat_id (int): class id of persons.
        bbox_thr (float): keep scores strictly above this.
        height, width (int): image size (for the whole-image fallback).

    Returns:
        list: persons sorted by box centre x; the whole image if none.
    """
    keep = (np.asarray(labels) == cat_id) & (np.asarray(scores) > bbox_thr)
    boxes = np.asarray(bboxes, np.float64).reshape(-1, 4)[keep]
    kept = np.asarray(scores, np.float64)[keep]
    if not len(boxes):
        return whole_image_person(height, width)
    order = np.argsort((boxes[:, 0] + boxes[:, 2]) / 2, kind='stable')
    return [(boxes[i], float(kept[i])) for i in order]


def _test_pipeline(det_cfg: Config):
    """mmdet's test pipeline for in-memory images (built in mmdet's
    scope)."""
    from mmcv.transforms import Compose
    from mmdet.utils import get_test_pipeline_cfg
    pipeline = copy.deepcopy(get_test_pipeline_cfg(det_cfg))
    pipeline[0].type = 'mmdet.LoadImageFromNDArray'
    return Compose(pipeline)


class PersonDetector:
    """An mmdet detector that returns person boxes.

    Args:
        config (str | Config): mmdet config file or object.
        checkpoint (str): its weights (path or URL, loaded by mmengine).
        device (str): ``'cpu'``, ``'cuda'``...
        cat_id (int): class id of persons. Defaults to 0.
        bbox_thr (float): minimum person score. Defaults to 0.5.

    Raises:
        ImportError: mmdet is not installed.
        FileNotFoundError: the config file does not exist.
        ValueError: no checkpoint was given.
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str],
                 device: str, cat_id: int = 0, bbox_thr: float = 0.5) -> None:
        try:
            from mmdet.apis import init_detector
        except Exception as err:  # pragma: no cover - mmdet missing
            raise ImportError('a person detector needs mmdet (pip install '
                              f'mmdet): {err}') from err
        if checkpoint is None:
            raise ValueError('det_config given without det_checkpoint: the '
                             'detector needs trained weights.')
        if isinstance(config, (str, os.PathLike)):
            if not osp.isfile(config):
                raise FileNotFoundError(
                    f'detector config {os.fspath(config)!r} not found.')
            config = Config.fromfile(os.fspath(config))
        self.scope = config.get('default_scope', None) or 'mmdet'
        self.cat_id = int(cat_id)
        self.bbox_thr = float(bbox_thr)
        patch_mmengine_checkpoint_loading()  # weights_only + allow-list
        with DefaultScope.overwrite_default_scope(self.scope):
            self.model = init_detector(config, checkpoint, device=str(device))
            self.pipeline = _test_pipeline(self.model.cfg)

    def __call__(self, img: np.ndarray, cat_id: Optional[int] = None,
                 bbox_thr: Optional[float] = None) -> List[Person]:
        """Person boxes of a BGR image, see :func:`select_persons`
        (``cat_id`` / ``bbox_thr`` default to the constructor's)."""
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope(self.scope):
            det = inference_detector(self.model, img,
                                     test_pipeline=self.pipeline)
        inst = det.pred_instances.cpu().numpy()
        h, w = img.shape[:2]
        return select_persons(
            inst.bboxes, inst.scores, inst.labels,
            self.cat_id if cat_id is None else cat_id,
            self.bbox_thr if bbox_thr is None else bbox_thr, h, w)
