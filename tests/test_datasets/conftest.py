# Copyright (c) interwild_mm contributors.
"""Fixtures of the dataset tests."""
import pytest
from mmengine.registry import init_default_scope

import interwild_mm.datasets  # noqa: F401  (registers the components)


@pytest.fixture(autouse=True)
def _mmpose_scope():
    init_default_scope('mmpose')
    yield
