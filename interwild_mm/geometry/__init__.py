# Copyright (c) interwild_mm contributors.
"""Batched torch geometry shared by all InterWild components (one home each).

``rotation`` and ``heatmap``: network helper A; ``bbox``, ``crop`` and
``camera``: network helper B; ``patch`` (numpy/cv2 image patches) is imported
from its own module by the data pipeline.
"""
from .bbox import (bbox_from_points, process_bbox, restore_bbox, sanitize_bbox,
                   set_aspect_ratio, xywh_to_xyxy, xyxy_to_xywh)
from .camera import fit_ortho_camera, project_points
from .crop import (compose_affine2d, crop_affine, crop_affine_composed,
                   invert_affine, to_homogeneous_matrix, transform_points,
                   warp_affine)
from .heatmap import sample_features, soft_argmax_2d, soft_argmax_3d
from .rotation import (axis_angle_to_matrix, matrix_to_axis_angle,
                       matrix_to_quaternion, mirror_axis_angle,
                       quaternion_to_axis_angle, rot6d_to_matrix)

__all__ = [
    'rot6d_to_matrix', 'axis_angle_to_matrix', 'matrix_to_axis_angle',
    'matrix_to_quaternion', 'quaternion_to_axis_angle', 'mirror_axis_angle',
    'soft_argmax_2d', 'soft_argmax_3d', 'sample_features', 'restore_bbox',
    'set_aspect_ratio', 'sanitize_bbox', 'process_bbox', 'bbox_from_points',
    'xywh_to_xyxy', 'xyxy_to_xywh', 'project_points', 'fit_ortho_camera',
    'crop_affine', 'crop_affine_composed', 'compose_affine2d', 'warp_affine',
    'transform_points', 'invert_affine',
    'to_homogeneous_matrix'
]
