# Copyright (c) interwild_mm contributors.
"""InterWildMetric edge cases: official masks by default, ``strict_validity``.

Every expected value is derived by hand from tiny scenes (millimetres);
see docs/official_conventions.md §3.2 and §4 for the official rules.
"""
import logging
import warnings

import numpy as np
import pytest
from mmengine.logging import MMLogger

from .evaluation_builders import MM, Scene, build, run, wrist_of

X = np.array([1.0, 0.0, 0.0])


def ih26m_scenes():
    """Two interacting samples whose data-json flags are all valid.

    ``a``: joint 5 has no 3D annotation and is 6 mm off.
    ``b``: the left wrist has no 3D annotation; the predicted relative
    translation is (3, 4, 0) mm off, so MRRPE = 5 and RRVE = 2.5 (right
    vertices exact, left vertices 5 mm off).
    """
    a = Scene(0, 'interacting')
    a.joint_valid_3d = np.ones(42)
    a.joint_valid_3d[5] = 0
    a.pred_joint[5] += 6.0 * MM * X
    b = Scene(1, 'interacting')
    b.joint_valid_3d = np.ones(42)
    b.joint_valid_3d[21] = 0
    b.rel_trans = b.rel_trans + np.array([3.0, 4.0, 0.0]) * MM
    return [a, b]


def test_joint_without_3d_annotation_scored_by_default():
    # official: gt_joint_valid (data-json flags) alone decides
    res = run(build(), ih26m_scenes())
    assert res['MPJPE_interacting'] == pytest.approx((6.0 / 2) / 42)
    assert res['MRRPE'] == pytest.approx((0.0 + 5.0) / 2)
    assert res['RRVE'] == pytest.approx((0.0 + 2.5) / 2)
    # strict: joint 5 of `a` and the whole left hand of `b` (wrist) drop out;
    # joint 5 is then scored on `b` only (0 mm), MRRPE/RRVE on `a` only
    res = run(build(strict_validity=True), ih26m_scenes())
    assert res['MPJPE_interacting'] == pytest.approx(0.0, abs=1e-9)
    assert res['MPJPE_interacting_joints_skipped'] == 0.0
    assert res['MRRPE'] == pytest.approx(0.0, abs=1e-9)
    assert res['RRVE'] == pytest.approx(0.0, abs=1e-9)


def test_strict_without_3d_flags_falls_back_and_warns_once():
    scenes = ih26m_scenes()
    for s in scenes:
        s.joint_valid_3d = None  # an older pipeline
    metric = build(strict_validity=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        res = run(metric, scenes)
        metric.process({}, [scenes[0].to_dict()])
    texts = [
        str(w.message) for w in caught if 'gt_joint_valid_3d' in str(w.message)
    ]
    assert len(texts) == 1, texts
    assert 'falling back' in texts[0]
    # gt_joint_valid alone: the official numbers of the first test
    assert res['MPJPE_interacting'] == pytest.approx(3.0 / 42)
    assert res['MRRPE'] == pytest.approx(2.5)
    # the default (official) mode never needs the 3D flags: no warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        run(build(), scenes)
    assert not [w for w in caught if 'gt_joint_valid_3d' in str(w.message)]


def hic_scenes():
    """``a``: interacting, left GT mesh missing (its array holds garbage,
    which the official zero-filled loader would not have); the predicted
    relative translation is the zero-filled GT one, -wrist_right, plus
    (3, 4, 0) mm. ``b``: interacting, both meshes, exact prediction."""
    a = Scene(0, 'interacting')
    a.with_joints = False
    a.mesh_valid = np.array([1.0, 0.0])
    a.gt_mesh[1] += 0.3  # garbage where no mesh exists
    a.rel_trans = (
        np.zeros(3) - wrist_of(a.gt_mesh[0]) + np.array([3.0, 4.0, 0.0]) * MM)
    b = Scene(1, 'interacting')
    b.with_joints = False
    return [a, b]


def test_hic_mrrpe_counts_interacting_sample_with_missing_mesh():
    res = run(build('hic'), hic_scenes())
    # official: GT relative wrist of `a` = 0 - wrist_right -> 5 mm off
    assert res['MRRPE'] == pytest.approx((5.0 + 0.0) / 2)
    # RRVE needs both meshes in both modes: only `b` (exact). Were `a`
    # scored, its left vertices would be ~0.3 m + |wrist| off.
    assert res['RRVE'] == pytest.approx(0.0, abs=1e-9)
    assert res['MPVPE_interacting'] == pytest.approx(0.0, abs=1e-9)
    strict = run(build('hic', strict_validity=True), hic_scenes())
    assert strict['MRRPE'] == pytest.approx(0.0, abs=1e-9)
    assert strict['RRVE'] == pytest.approx(0.0, abs=1e-9)


def test_hic_missing_mesh_wrist_is_zero_whatever_the_array_holds():
    a, _ = hic_scenes()
    a.gt_mesh[1] = 0.0  # the official zero fill itself: same number
    res_zero = run(build('hic'), [a])
    a.gt_mesh[1] = 5.0
    res_junk = run(build('hic'), [a])
    assert res_zero['MRRPE'] == pytest.approx(5.0)
    assert res_junk['MRRPE'] == pytest.approx(5.0)


def skipped_scenes():
    """``a``: right single-hand sample, joint 1 is 4 mm off (left joints
    invalid). ``b``: interacting, joint 3 invalid, joint 30 6 mm off."""
    a = Scene(0, 'right')
    a.joint_valid[21:] = 0
    a.pred_joint[1] += 4.0 * MM * X
    b = Scene(1, 'interacting')
    b.joint_valid[3] = 0
    b.pred_joint[30] += 6.0 * MM * X
    for s in (a, b):
        s.joint_valid_3d = np.ones(42)
    return [a, b]


@pytest.mark.parametrize('strict', [False, True])
def test_joints_without_valid_sample_skipped_and_counted(strict):
    res = run(build(strict_validity=strict, pa_metrics=True), skipped_scenes())
    # single: 21 right per-joint means (4 on joint 1), 21 left joints empty
    assert res['MPJPE_single'] == pytest.approx(4.0 / 21)
    assert res['MPJPE_single_joints_skipped'] == 21.0
    # interacting: joint 3 empty, joint 30 = 6 over the other 41 joints
    assert res['MPJPE_interacting'] == pytest.approx(6.0 / 41)
    assert res['MPJPE_interacting_joints_skipped'] == 1.0
    assert res['MPJPE_all'] == pytest.approx((4.0 + 6.0) / (21 + 41))
    assert res['MPJPE_all_joints_skipped'] == 22.0
    assert isinstance(res['MPJPE_all_joints_skipped'], float)
    # the same counts for the Procrustes variant
    assert res['PA_MPJPE_single_joints_skipped'] == 21.0
    assert res['PA_MPJPE_all_joints_skipped'] == 22.0


def test_no_skipped_joints_reports_zero():
    s = Scene(0, 'interacting')
    res = run(build(), [s])
    assert res['MPJPE_interacting_joints_skipped'] == 0.0
    assert res['MPJPE_single_joints_skipped'] == 42.0  # no single sample


def test_reinterhand_counts_hands_without_fit():
    s = Scene(0, 'interacting')
    s.mesh_valid = np.array([1.0, 0.0])
    res = run(build('reinterhand'), [s])
    assert res['MPJPE_all_joints_skipped'] == 21.0
    assert 'MPJPE_single_joints_skipped' not in res


def test_skipped_joints_are_logged():
    logger = MMLogger.get_current_instance()
    records = []

    class _Keep(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = _Keep(level=logging.INFO)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        run(build(), skipped_scenes())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    text = '\n'.join(records)
    assert 'MPJPE_single left out 21 joints' in text
    assert 'MPJPE_interacting left out 1 joints' in text
    assert 'official masks' in text


def test_strict_reproduces_previous_numbers():
    """strict_validity=True gives the numbers of the metric before the
    official defaults: joints need both flags, HIC MRRPE needs both
    meshes. Scenes: the IH2.6M pair above plus the skipped-joint pair."""
    scenes = ih26m_scenes() + skipped_scenes()
    for i, s in enumerate(scenes):
        s.sid = i
    res = run(build(strict_validity=True), scenes)
    # single: only skipped_scenes()[0] -> joint 1 = 4 mm over 21 joints
    assert res['MPJPE_single'] == pytest.approx(4.0 / 21)
    # interacting (3 samples): joint 5 valid in two exact samples (a's
    # joint 5 lacks 3D) -> 0; joint 3 valid in a and b of ih26m_scenes ->
    # 0; joint 30 valid in ih26m a and skipped b -> (0 + 6) / 2 = 3;
    # b's left hand (3D-invalid wrist) is out
    assert res['MPJPE_interacting'] == pytest.approx(3.0 / 42)
    assert res['MPJPE_interacting_joints_skipped'] == 0.0
    # MRRPE: every sample with both wrists valid in both flags except
    # ih26m b -> three exact samples
    assert res['MRRPE'] == pytest.approx(0.0, abs=1e-9)
    # the same numbers when the pipeline packs the combined mask as
    # gt_joint_valid (what the metric read before)
    old_style = ih26m_scenes() + skipped_scenes()
    for i, s in enumerate(old_style):
        s.sid = i
        s.joint_valid = s.joint_valid * s.joint_valid_3d
        s.joint_valid_3d = None
    res_old = run(build(), old_style)
    for key in ('MPJPE_single', 'MPJPE_interacting', 'MPJPE_all', 'MRRPE',
                'RRVE', 'MPVPE_all'):
        assert res[key] == pytest.approx(res_old[key], abs=1e-12), key
    # HIC: the interacting sample without a left mesh is left out
    res = run(build('hic', strict_validity=True), hic_scenes())
    assert res['MRRPE'] == pytest.approx(0.0, abs=1e-9)
