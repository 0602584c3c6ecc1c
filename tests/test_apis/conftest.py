# Copyright (c) interwild_mm contributors.
"""Fixtures of the inference tests: a small random InterWild on CPU."""
import os.path as osp
import warnings

import pytest

HERE = osp.dirname(osp.abspath(__file__))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')
DATA = osp.join(HERE, '..', 'data')
COCO_IMG = osp.join(DATA, 'coco_wholebody', '000000000785.jpg')
IH26M_IMG = osp.join(DATA, 'interhand2.6m', 'image2017.jpg')


@pytest.fixture(scope='session')
def inferencer(synthetic_mano_dir):
    """Randomly initialised small InterWild (ResNet-18 backbones), CPU.

    ``hand_score_thr=0``: a random DetectNet gives ~1/3072 confidences, so
    every hand is reported present (absent hands are tested by patching the
    score).
    """
    import torch
    from interwild_mm.apis import InterWildInferencer
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        inf = InterWildInferencer(
            SMALL_CFG,
            None,
            device='cpu',
            mano_dir=str(synthetic_mano_dir),
            hand_score_thr=0.0,
            show_progress=False)
    return inf
