# Copyright (c) interwild_mm contributors.
"""Shared pytest fixtures."""
from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def synthetic_mano_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder holding a synthetic MANO_RIGHT.pkl / MANO_LEFT.pkl pair.

    Generated once per test session (the real MANO files are licensed and
    never available in CI). Pass it as ``model_dir`` to ``ManoLayer``.
    """
    from interwild_mm.mano.synthetic import write_synthetic_mano
    return write_synthetic_mano(tmp_path_factory.mktemp('mano'))
