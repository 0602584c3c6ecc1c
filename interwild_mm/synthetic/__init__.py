# Copyright (c) interwild_mm contributors.
"""Generators of synthetic data: a MANO stand-in and two-hand datasets.

The real MANO files and the InterWild datasets are licensed; tests, CI and
the quickstart use what this package writes instead:

* :func:`write_synthetic_mano` -- a ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``
  pair with the official layout and pickle encoding
  (``tools/make_synthetic_mano.py``);
* :func:`make_synthetic_dataset` -- rendered two-hand images with
  InterHand2.6M-format train/test splits and a HIC-format test split
  (``tools/make_synthetic_dataset.py``).

This package is not part of the runtime: ``import interwild_mm`` does not
import it (import ``interwild_mm.synthetic`` explicitly).
"""
from .dataset import make_synthetic_dataset
from .hand_generator import (DEFAULT_SYNTHETIC_MANO_DIR, HAND_TYPES,
                             HandFrame, SyntheticHandGenerator)
from .hic_writer import (HIC_FOCAL, HIC_IMG_SIZE, HIC_PRINCPT,
                         write_hic_split)
from .ih26m_writer import write_ih26m_split
from .mano_model import make_synthetic_mano, write_synthetic_mano

__all__ = [
    'make_synthetic_mano', 'write_synthetic_mano', 'make_synthetic_dataset',
    'SyntheticHandGenerator', 'HandFrame', 'HAND_TYPES',
    'DEFAULT_SYNTHETIC_MANO_DIR', 'HIC_FOCAL', 'HIC_PRINCPT', 'HIC_IMG_SIZE',
    'write_ih26m_split', 'write_hic_split'
]
