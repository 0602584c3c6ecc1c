# Copyright (c) interwild_mm contributors.
"""Fixtures of the training tests (helpers: ``_helpers.py``)."""
from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def synthetic_data(tmp_path_factory: pytest.TempPathFactory,
                   synthetic_mano_dir: Path) -> Path:
    """A small synthetic dataset (InterHand2.6M-format train/test + HIC)."""
    from interwild_mm.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('synthetic')
    make_synthetic_dataset(
        root, num=48, num_test=16, num_hic=6, mano_dir=str(synthetic_mano_dir),
        seed=0)
    return root

