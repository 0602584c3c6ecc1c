# Copyright (c) interwild_mm contributors.
"""Tests of interwild_mm.evaluation.functional (closed-form cases)."""
import numpy as np
import pytest

from interwild_mm.evaluation.functional import (
    box_iou_xyxy, intaghand_align, mean_of_per_joint_means, mesh_bbox_xyxy,
    per_joint_means, point_errors, procrustes_align, regress_joints,
    root_align_joints, root_align_mesh)
from .evaluation_builders import make_regressor, wrist_of


def test_regress_and_root_align_mesh():
    reg = make_regressor()
    rng = np.random.default_rng(0)
    mesh = rng.normal(size=(12, 3))
    wrist = wrist_of(mesh)
    np.testing.assert_allclose(regress_joints(mesh, reg)[0], wrist)
    aligned = root_align_mesh(mesh, reg)
    np.testing.assert_allclose(aligned, mesh - wrist)
    # batched
    batch = np.stack([mesh, mesh + 5.0])
    np.testing.assert_allclose(root_align_mesh(batch, reg)[1], aligned)
    with pytest.raises(ValueError, match='vertex count'):
        regress_joints(mesh[:5], reg)


def test_root_align_joints_and_point_errors():
    joints = np.arange(63, dtype=np.float64).reshape(21, 3)
    out = root_align_joints(joints)
    np.testing.assert_allclose(out[0], 0.0)
    np.testing.assert_allclose(out[5], joints[5] - joints[0])
    err = point_errors(
        np.array([[3.0, 4.0, 0.0], [1.0, 2.0, 2.0]]), np.zeros((2, 3)))
    np.testing.assert_allclose(err, [5.0, 3.0])


def test_mean_of_per_joint_means_differs_from_pooled_mean():
    # 3 samples, 2 joints. joint 0 valid in all samples, joint 1 only in one.
    errors = np.array([[1.0, 10.0], [2.0, 99.0], [3.0, 99.0]])
    valid = np.array([[1, 1], [1, 0], [1, 0]])
    means, counts = per_joint_means(errors, valid)
    np.testing.assert_allclose(means, [2.0, 10.0])
    np.testing.assert_array_equal(counts, [3, 1])
    # mean of per-joint means = (2 + 10) / 2 = 6; pooled = (1+2+3+10)/4 = 4
    assert mean_of_per_joint_means(means) == pytest.approx(6.0)
    assert mean_of_per_joint_means(means) != pytest.approx(
        errors[valid != 0].mean())
    # a joint without samples is NaN and skipped in the pooled list
    means2, _ = per_joint_means(errors, np.array([[1, 0]] * 3))
    assert np.isnan(means2[1])
    assert mean_of_per_joint_means(means, means2) == pytest.approx(
        (2.0 + 10.0 + 2.0) / 3)
    assert np.isnan(mean_of_per_joint_means(np.full(3, np.nan)))


def test_box_iou_hand_chosen():
    a = np.array([0.0, 0.0, 10.0, 10.0])
    b = np.array([5.0, 5.0, 15.0, 15.0])
    # intersection 5x5 = 25, union 100 + 100 - 25 = 175
    assert box_iou_xyxy(a, b) == pytest.approx(
        25.0 / (175.0 + 1e-5), rel=1e-12)
    assert box_iou_xyxy(a, a) == pytest.approx(100.0 / (100.0 + 1e-5))
    assert box_iou_xyxy(a, np.array([20.0, 20.0, 30.0, 30.0])) == 0.0
    batch = box_iou_xyxy(np.stack([a, a]), np.stack([b, a]))
    assert batch.shape == (2, )


def test_mesh_bbox_xyxy_pinhole():
    # points at depth 2: x/z*f + c
    mesh = np.array([[0.0, 0.0, 2.0], [1.0, 0.5, 2.0], [-1.0, 0.2, 2.0]])
    box = mesh_bbox_xyxy(mesh, (100.0, 200.0), (10.0, 20.0), extension=1.2)
    # u in {10, 60, -40}, v in {20, 70, 40}: tight [-40, 20, 60, 70]
    # centre (10, 45), half size (50, 25) * 1.2 = (60, 30)
    np.testing.assert_allclose(box, [-50.0, 15.0, 70.0, 75.0])


def test_procrustes_of_similarity_copy_is_exact():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(2, 21, 3))
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle), 0.0],
                    [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    pred = 2.5 * gt @ rot.T + np.array([1.0, -2.0, 3.0])
    aligned = procrustes_align(pred, gt)
    np.testing.assert_allclose(aligned, gt, atol=1e-9)


def test_intaghand_align_scale_and_root():
    reg = make_regressor()
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(12, 3))
    pred = 3.0 * gt + np.array([5.0, 0.0, -1.0])
    pj, gj, pv, gv = intaghand_align(pred, gt, reg)
    # a scaled + translated copy is aligned exactly
    np.testing.assert_allclose(pv, gv, atol=1e-12)
    np.testing.assert_allclose(pj, gj, atol=1e-12)
    # root = joint 9 = mean of vertices 4 and 5
    np.testing.assert_allclose(gv, gt - 0.5 * (gt[4] + gt[5]))
    np.testing.assert_allclose(gj[9], 0.0, atol=1e-12)
