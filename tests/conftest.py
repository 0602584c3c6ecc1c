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
    from interwild_mm.synthetic import write_synthetic_mano
    return write_synthetic_mano(tmp_path_factory.mktemp('mano'))


@pytest.fixture(autouse=True)
def _mmpose_default_scope() -> None:
    """Run every test in mmpose's registry scope, as the configs do.

    mmengine keeps the current default scope in a process-wide registry; a
    test that builds a Runner (or another OpenMMLab scope) would otherwise
    change what a later test's ``REGISTRY.build`` resolves against.
    """
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
