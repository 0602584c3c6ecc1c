# Copyright (c) interwild_mm contributors.
"""InterWild datasets (registered in ``mmpose.registry.DATASETS``)."""
from .base import METAINFO_FILE, RAW_SAMPLE_KEYS, InterWildDatasetMixin
from .coco_wholebody_hands_dataset import CocoWholeBodyHandsDataset
from .hic_dataset import HICDataset
from .interhand26m_dataset import InterHand26MDataset
from .reinterhand_dataset import ReInterHandDataset

__all__ = [
    'METAINFO_FILE', 'RAW_SAMPLE_KEYS', 'InterWildDatasetMixin',
    'InterHand26MDataset', 'CocoWholeBodyHandsDataset', 'HICDataset',
    'ReInterHandDataset'
]
