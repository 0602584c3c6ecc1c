from .visualization_hook import InterWildVisualizationHook

__all__ = ['InterWildVisualizationHook']
