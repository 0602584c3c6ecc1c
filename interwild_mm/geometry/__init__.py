# Copyright (c) interwild_mm contributors.
"""Geometry shared by all InterWild components: one home for each helper.

``bbox`` (boxes, IoU), ``crop`` (crop affines, warping, point transforms),
``camera`` (projection, orthographic fits), ``rotation``, ``heatmap``
(soft-argmax, feature sampling) and ``sizes`` (the model's size description
and every grid <-> pixel conversion) take torch tensors, several also numpy
arrays; ``patch`` (numpy/cv2 body patches of the data pipeline) is imported
from its own module.
"""
from .bbox import (bbox_from_points, box_iou, process_bbox, restore_bbox,
                   sanitize_bbox, set_aspect_ratio, xywh_to_xyxy,
                   xyxy_to_xywh)
from .camera import fit_ortho_camera, project_points
from .crop import (AFFINE_INVERSES, compose_affine2d, crop_affine_composed,
                   invert_affine, invert_affine_closed_form,
                   to_homogeneous_matrix, transform_points, warp_affine)
from .heatmap import sample_features, soft_argmax_2d, soft_argmax_3d
from .rotation import (axis_angle_to_matrix, matrix_to_axis_angle,
                       matrix_to_quaternion, mirror_axis_angle,
                       quaternion_to_axis_angle, rot6d_to_matrix)
from .sizes import InterWildSizes, SizesLike, mirror_grid_x

__all__ = [
    'rot6d_to_matrix', 'axis_angle_to_matrix', 'matrix_to_axis_angle',
    'matrix_to_quaternion', 'quaternion_to_axis_angle', 'mirror_axis_angle',
    'soft_argmax_2d', 'soft_argmax_3d', 'sample_features', 'restore_bbox',
    'set_aspect_ratio', 'sanitize_bbox', 'process_bbox', 'bbox_from_points',
    'box_iou', 'xywh_to_xyxy', 'xyxy_to_xywh', 'project_points',
    'fit_ortho_camera', 'crop_affine_composed', 'compose_affine2d',
    'warp_affine', 'transform_points', 'invert_affine',
    'invert_affine_closed_form', 'AFFINE_INVERSES', 'to_homogeneous_matrix',
    'InterWildSizes', 'SizesLike', 'mirror_grid_x'
]
