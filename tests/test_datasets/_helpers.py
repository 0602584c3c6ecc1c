# Copyright (c) interwild_mm contributors.
"""Shared helpers of the dataset tests (data fixtures in tests/data/)."""
import os.path as osp
from pathlib import Path

import pytest

import interwild_mm.datasets  # noqa: F401  (registers the components)

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data')
IH_ROOT = osp.join(DATA, 'interhand2.6m')
COCO_ROOT = osp.join(DATA, 'coco_wholebody')


def make_synthetic_root(tmp_path_factory: pytest.TempPathFactory,
                        mano_dir: Path, name: str, **kwargs) -> Path:
    """A synthetic dataset (``make_synthetic_dataset(**kwargs)`` with the
    synthetic MANO of ``mano_dir``) in a new temporary folder ``name``."""
    from interwild_mm.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp(name)
    make_synthetic_dataset(str(root), mano_dir=str(mano_dir), **kwargs)
    return root


def fixture_cfg(overrides: dict, **entries) -> dict:
    """A dataset entry on a fixture folder: ``entries`` (type, data_root,
    annotation files), images beside the annotations, no pipeline; the
    caller's ``overrides`` last."""
    cfg = dict(data_prefix=dict(img=''), pipeline=[], **entries)
    cfg.update(overrides)
    return cfg


def ih_cfg(**kw):
    """InterHand26MDataset on the InterHand2.6M fixture."""
    return fixture_cfg(
        kw,
        type='InterHand26MDataset',
        data_root=IH_ROOT,
        ann_file='test_interhand2.6m_data.json',
        camera_file='test_interhand2.6m_camera.json',
        joint_file='test_interhand2.6m_joint_3d.json')


def coco_cfg(**kw):
    """CocoWholeBodyHandsDataset on the COCO-WholeBody fixture."""
    return fixture_cfg(
        kw,
        type='CocoWholeBodyHandsDataset',
        data_root=COCO_ROOT,
        ann_file='test_coco_wholebody.json')


def train_pipeline(mano_model_dir=None, **aug):
    return [
        dict(type='LoadImage', color_type='color_ignore_orientation'),
        dict(type='InterWildRandomAugment', **aug),
        dict(type='InterWildBodyAffine'),
        dict(type='InterWildGenerateTarget', mano_model_dir=mano_model_dir),
        dict(type='PackInterWildInputs'),
    ]


def eval_pipeline(mano_model_dir=None):
    return [
        dict(type='LoadImage', color_type='color_ignore_orientation'),
        dict(type='InterWildBodyAffine'),
        dict(type='InterWildGenerateTarget', mano_model_dir=mano_model_dir),
        dict(type='PackInterWildInputs'),
    ]


eval_pipeline.__test__ = False  # not a pytest test
