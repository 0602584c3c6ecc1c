# Copyright (c) interwild_mm contributors.
"""Registered evaluation metrics."""
from .interwild_metric import InterWildMetric

__all__ = ['InterWildMetric']
