# Copyright (c) interwild_mm contributors.
"""InterWild evaluation: protocol helpers and the registered metric."""
from .functional import (box_iou_xyxy, intaghand_align,
                         mean_of_per_joint_means, mesh_bbox_xyxy,
                         per_joint_means, point_errors, procrustes_align,
                         regress_joints, root_align_joints, root_align_mesh)
from .metrics import InterWildMetric

__all__ = [
    'InterWildMetric', 'regress_joints', 'root_align_mesh',
    'root_align_joints', 'point_errors', 'per_joint_means',
    'mean_of_per_joint_means', 'box_iou_xyxy', 'mesh_bbox_xyxy',
    'procrustes_align', 'intaghand_align'
]
