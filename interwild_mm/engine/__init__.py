"""Training/testing engine parts: hooks."""
from .hooks import InterWildVisualizationHook

__all__ = ['InterWildVisualizationHook']
