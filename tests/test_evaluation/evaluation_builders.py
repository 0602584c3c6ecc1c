# Copyright (c) interwild_mm contributors.
"""Hand-built predictions / ground truths for the evaluation tests.

Everything is built in metres (the data-sample contract); tests state their
expected errors in millimetres.
"""
from typing import Iterable, Optional

import numpy as np

from interwild_mm.evaluation import InterWildMetric

NUM_VERTS = 12  # a small mesh; the metric takes V from the regressor
MM = 1e-3  # one millimetre in metres


def make_regressor(num_verts: int = NUM_VERTS) -> np.ndarray:
    """21 x V regressor with rows summing to 1.

    Row 0 (wrist) = weights (0.1, 0.2, 0.3, 0.4) on vertices 0..3, row 9
    (middle MCP) = (0.5, 0.5) on vertices 4, 5; every other row is one-hot
    on a vertex >= 6.
    """
    reg = np.zeros((21, num_verts))
    reg[0, :4] = [0.1, 0.2, 0.3, 0.4]
    reg[9, 4:6] = [0.5, 0.5]
    for j in range(1, 21):
        if j != 9:
            reg[j, 6 + j % (num_verts - 6)] = 1.0
    return reg


def wrist_of(mesh: np.ndarray) -> np.ndarray:
    """Wrist of a (V, 3) mesh under make_regressor(), written out by hand."""
    return (0.1 * mesh[0] + 0.2 * mesh[1] + 0.3 * mesh[2] + 0.4 * mesh[3])


class Scene:
    """A GT two-hand scene plus a perfect prediction, editable by tests."""

    def __init__(self,
                 seed: int,
                 hand_type: str = 'interacting',
                 sid: Optional[int] = None) -> None:
        rng = np.random.default_rng(seed)
        self.sid = seed if sid is None else sid
        self.hand_type = hand_type
        # GT meshes: right around (0, 0, 0.6), left around (0.15, 0, 0.6) m
        centres = np.array([[0.0, 0.0, 0.6], [0.15, 0.02, 0.62]])
        self.gt_mesh = centres[:, None] + 0.03 * rng.normal(
            size=(2, NUM_VERTS, 3))
        self.gt_wrist = np.stack([wrist_of(m) for m in self.gt_mesh])
        # GT joints (TH order): wrist = the mesh wrist, others random
        self.gt_joint = np.repeat(
            centres, 21, axis=0) + 0.04 * rng.normal(size=(42, 3))
        self.gt_joint[0] = self.gt_wrist[0]
        self.gt_joint[21] = self.gt_wrist[1]
        self.joint_valid = np.ones(42)
        # 3D joint validity (InterHand2.6M joint_3d flags); None = not packed
        self.joint_valid_3d: Optional[np.ndarray] = None
        self.mesh_valid = np.ones(2)
        self.gt_boxes = np.array([[10.0, 20.0, 110.0, 140.0],
                                  [200.0, 30.0, 260.0, 90.0]])
        self.box_valid = np.ones(2)
        # perfect, wrist-relative prediction
        self.pred_mesh = self.gt_mesh - self.gt_wrist[:, None]
        self.pred_joint = self.gt_joint.copy()
        self.pred_joint[:21] -= self.gt_joint[0]
        self.pred_joint[21:] -= self.gt_joint[21]
        self.rel_trans = self.gt_wrist[1] - self.gt_wrist[0]
        self.pred_boxes = self.gt_boxes.copy()
        self.with_joints = True

    def to_dict(self) -> dict:
        """The ``PoseDataSample.to_dict()`` layout (leading dim 1)."""
        gt = dict(
            gt_mesh_cam=self.gt_mesh.reshape(1, -1, 3),
            gt_mesh_valid=self.mesh_valid[None],
            gt_rhand_bbox=self.gt_boxes[0][None],
            gt_lhand_bbox=self.gt_boxes[1][None],
            gt_hand_bbox_valid=self.box_valid[None])
        if self.with_joints:
            gt.update(
                gt_joint_cam=self.gt_joint[None],
                gt_joint_valid=self.joint_valid[None])
            if self.joint_valid_3d is not None:
                gt.update(gt_joint_valid_3d=self.joint_valid_3d[None])
        pred = dict(
            rmano_mesh_cam=self.pred_mesh[0][None],
            lmano_mesh_cam=self.pred_mesh[1][None],
            rmano_joint_cam=self.pred_joint[:21][None],
            lmano_joint_cam=self.pred_joint[21:][None],
            rel_trans=self.rel_trans[None],
            rhand_bbox=self.pred_boxes[0][None],
            lhand_bbox=self.pred_boxes[1][None])
        return dict(
            id=self.sid,
            img_id=1000 + self.sid,
            hand_type=self.hand_type,
            gt_instances=gt,
            pred_instances=pred)


def build(protocol: str = 'interhand26m', **kwargs) -> InterWildMetric:
    """InterWildMetric with :func:`make_regressor`'s joint regressor."""
    return InterWildMetric(
        protocol=protocol, joint_regressor=make_regressor(), **kwargs)


def run(metric: InterWildMetric, scenes: Iterable[Scene]) -> dict:
    """The metric's results on ``scenes`` (one ``process`` call)."""
    metric.process({}, [s.to_dict() for s in scenes])
    return metric.compute_metrics(metric.results)
