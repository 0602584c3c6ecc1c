# Copyright (c) interwild_mm contributors.
"""Rendering and visualisation: z-buffer rasteriser, mesh files, visualiser."""
from .local_visualizer import InterWildVisualizer, demo_render_inputs
from .mesh_io import save_obj, save_ply
from .renderer import (RenderOutput, project_vertices, rasterize_triangles,
                       render_hands, render_meshes)

__all__ = [
    'InterWildVisualizer', 'demo_render_inputs', 'RenderOutput',
    'project_vertices', 'rasterize_triangles', 'render_meshes', 'render_hands',
    'save_obj', 'save_ply'
]
