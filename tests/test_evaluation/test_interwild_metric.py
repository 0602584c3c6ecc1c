# Copyright (c) interwild_mm contributors.
"""InterWildMetric on hand-built cases whose errors are known in closed form.

All expected values are written out by hand (millimetres, IoU x100).
"""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData
from mmpose.registry import METRICS
from mmpose.structures import PoseDataSample

from interwild_mm.evaluation import InterWildMetric
from .evaluation_builders import (MM, NUM_VERTS, Scene, build, make_regressor,
                                  run, wrist_of)

def balanced_offsets(seed: int, length_mm: float) -> np.ndarray:
    """(V, 3) offsets, each of length ``length_mm`` (in m), whose wrist
    average sum_i w_i d_i is exactly zero (w = 0.1, 0.2, 0.3, 0.4 on vertices
    0..3: signs +, -, -, + along one direction, 0.1 - 0.2 - 0.3 + 0.4 = 0)."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(NUM_VERTS, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    dirs[:4] = dirs[0] * np.array([1.0, -1.0, -1.0, 1.0])[:, None]
    return dirs * length_mm * MM


def test_registered_and_bad_protocol():
    metric = METRICS.build(
        dict(
            type='InterWildMetric',
            protocol='hic',
            joint_regressor=make_regressor()))
    assert isinstance(metric, InterWildMetric)
    with pytest.raises(ValueError, match='protocol'):
        InterWildMetric(protocol='freihand')


def test_mpvpe_3mm_offsets_survive_root_alignment():
    offsets = balanced_offsets(0, 3.0)
    np.testing.assert_allclose(wrist_of(offsets), 0.0, atol=1e-15)
    scenes = []
    for i, ht in enumerate(['right', 'left', 'interacting']):
        s = Scene(i, ht)
        # any translation of the prediction is removed by root alignment
        s.pred_mesh = s.pred_mesh + offsets + np.array([0.3, -0.2, 0.1])
        scenes.append(s)
    res = run(build(), scenes)
    assert res['MPVPE_single'] == pytest.approx(3.0, rel=1e-9)
    assert res['MPVPE_interacting'] == pytest.approx(3.0, rel=1e-9)
    assert res['MPVPE_all'] == pytest.approx(3.0, rel=1e-9)
    # joints were untouched
    assert res['MPJPE_all'] == pytest.approx(0.0, abs=1e-9)


def test_mpvpe_all_is_mean_over_concatenated_hand_values():
    # single: 1 hand value (2 mm); interacting: 2 hand values (5 mm each)
    a = Scene(0, 'right')
    a.pred_mesh[0] += balanced_offsets(1, 2.0)
    b = Scene(1, 'interacting')
    b.pred_mesh += balanced_offsets(2, 5.0)
    res = run(build(), [a, b])
    assert res['MPVPE_single'] == pytest.approx(2.0)
    assert res['MPVPE_interacting'] == pytest.approx(5.0)
    assert res['MPVPE_all'] == pytest.approx((2.0 + 5.0 + 5.0) / 3)


def test_mrrpe_rel_trans_off_by_3_4_0():
    scenes = [Scene(0, 'interacting'), Scene(1, 'right')]
    for s in scenes:
        s.rel_trans = s.rel_trans + np.array([3.0, 4.0, 0.0]) * MM
    res = run(build(), scenes)
    assert res['MRRPE'] == pytest.approx(5.0, rel=1e-9)


def test_mpjpe_mean_of_per_joint_means():
    x = np.array([1.0, 0.0, 0.0])
    # A (right hand): joint 1 off by 2 mm, joint 2 off by 6 mm; left invalid
    a = Scene(0, 'right')
    a.joint_valid[21:] = 0
    a.pred_joint[1] += 2.0 * MM * x
    a.pred_joint[2] += 6.0 * MM * x
    a.pred_joint[30] += 50.0 * MM * x  # invalid joint, must not count
    # B (right hand): joint 1 off by 4 mm, joint 2 invalid (100 mm off)
    b = Scene(1, 'right')
    b.joint_valid[21:] = 0
    b.joint_valid[2] = 0
    b.pred_joint[1] += 4.0 * MM * x
    b.pred_joint[2] += 100.0 * MM * x
    # C (interacting): joint 30 off by 5 mm
    c = Scene(2, 'interacting')
    c.pred_joint[30] += 5.0 * MM * x
    res = run(build(), [a, b, c])
    # single per-joint means: joint 1 (2+4)/2 = 3, joint 2 = 6, 19 others 0
    assert res['MPJPE_single'] == pytest.approx(9.0 / 21)
    # the pooled mean over all valid single-hand joints would differ
    assert res['MPJPE_single'] != pytest.approx((2.0 + 4.0 + 6.0) / 41)
    assert res['MPJPE_interacting'] == pytest.approx(5.0 / 42)
    # all: 21 + 42 per-joint means (left joints have no single sample)
    assert res['MPJPE_all'] == pytest.approx((9.0 + 5.0) / 63)


def test_single_vs_interacting_split_by_gt_hand_type():
    x = np.array([0.0, 1.0, 0.0])
    single = Scene(0, 'left')
    single.pred_joint[25] += 7.0 * MM * x
    single.pred_mesh[1] += balanced_offsets(3, 7.0)
    inter = Scene(1, 'interacting')
    res = run(build(), [single, inter])
    assert res['MPJPE_single'] == pytest.approx(7.0 / 42)
    assert res['MPJPE_interacting'] == pytest.approx(0.0, abs=1e-9)
    assert res['MPVPE_single'] == pytest.approx(7.0)
    assert res['MPVPE_interacting'] == pytest.approx(0.0, abs=1e-9)
    # same data with (right, left) flag hand types
    flags = Scene(0, np.array([[0, 1]]))
    flags.pred_joint[25] += 7.0 * MM * x
    res2 = run(build(), [flags, inter])
    assert res2['MPJPE_single'] == pytest.approx(7.0 / 42)


def test_invalid_wrist_excludes_hand_and_mrrpe():
    x = np.array([0.0, 0.0, 1.0])
    d = Scene(0, 'interacting')
    d.joint_valid[0] = 0  # right wrist invalid
    d.pred_joint[1:21] += 10.0 * MM * x  # would count if not excluded
    d.rel_trans = d.rel_trans + 50.0 * MM * x  # MRRPE must skip it
    e = Scene(1, 'interacting')
    e.rel_trans = e.rel_trans + np.array([3.0, 4.0, 0.0]) * MM
    res = run(build(), [d, e])
    assert res['MPJPE_interacting'] == pytest.approx(0.0, abs=1e-9)
    assert res['MRRPE'] == pytest.approx(5.0)
    # with a valid wrist the same sample would change both numbers
    d.joint_valid[0] = 1
    res_incl = run(build(), [d, e])
    assert res_incl['MPJPE_interacting'] == pytest.approx(10.0 * 20 / 2 / 42)
    assert res_incl['MRRPE'] == pytest.approx((50.0 + 5.0) / 2)


def test_missing_mano_fit_excluded_from_mpvpe_and_rrve():
    d = Scene(0, 'interacting')
    d.mesh_valid = np.array([1.0, 0.0])  # no left fit
    d.pred_mesh[1] += 0.02  # arbitrary bad left mesh
    d.pred_mesh[1, 7] += 0.05
    d.rel_trans = d.rel_trans + 0.1  # would dominate RRVE
    e = Scene(1, 'interacting')
    e.pred_mesh += balanced_offsets(4, 4.0)
    # single right sample: its left mesh is ignored even though it has a fit
    f = Scene(2, 'right')
    f.pred_mesh[1, 7] += 0.05
    res = run(build(), [d, e, f])
    # interacting hand values: d-right 0, e-right 4, e-left 4
    assert res['MPVPE_interacting'] == pytest.approx(8.0 / 3)
    assert res['MPVPE_single'] == pytest.approx(0.0, abs=1e-9)
    # RRVE only from e: every vertex 4 mm off, relative translation exact
    assert res['RRVE'] == pytest.approx(4.0)


def test_rrve_closed_form():
    s = Scene(0, 'interacting')
    s.rel_trans = s.rel_trans + np.array([3.0, 4.0, 0.0]) * MM
    res = run(build(), [s])
    # right vertices exact, left vertices all 5 mm off: (0 + 5) / 2
    assert res['RRVE'] == pytest.approx(2.5)
    assert res['MPVPE_all'] == pytest.approx(0.0, abs=1e-9)


def test_rrve_gt_relative_translation_source():
    """IH2.6M: GT joint wrists (loader rel_trans); HIC: GT mesh wrists."""
    s = Scene(0, 'interacting')
    # move the GT left wrist joint by (3, 4, 0) mm away from the mesh wrist
    s.gt_joint[21] += np.array([3.0, 4.0, 0.0]) * MM
    # IH2.6M: the prediction (mesh-wrist rel_trans) is now 5 mm off
    res = run(build(), [s])
    assert res['RRVE'] == pytest.approx(2.5)
    assert res['MRRPE'] == pytest.approx(5.0)
    # HIC ignores the joints: exact
    s.with_joints = False
    res = run(build('hic'), [s])
    assert res['RRVE'] == pytest.approx(0.0, abs=1e-9)
    assert res['MRRPE'] == pytest.approx(0.0, abs=1e-9)
    # IH2.6M without a valid left wrist: no RRVE sample
    s.with_joints = True
    s.joint_valid[21] = 0
    assert np.isnan(run(build(), [s])['RRVE'])


def test_box_iou_hand_chosen_boxes():
    a = Scene(0, 'interacting')
    a.pred_boxes[0] = [0.0, 0.0, 10.0, 10.0]
    a.gt_boxes[0] = [5.0, 5.0, 15.0, 15.0]
    a.box_valid = np.array([1.0, 0.0])
    a.pred_boxes[1] = [0.0, 0.0, 1.0, 1.0]  # invalid GT box: not scored
    b = Scene(1, 'left')
    b.box_valid = np.array([0.0, 1.0])
    b.gt_boxes[1] = [0.0, 0.0, 10.0, 20.0]
    b.pred_boxes[1] = [0.0, 0.0, 10.0, 10.0]
    res = run(build(), [a, b])
    iou_r = 100.0 * 25.0 / (175.0 + 1e-5)
    iou_l = 100.0 * 100.0 / (200.0 + 1e-5)
    assert res['IoU_right'] == pytest.approx(iou_r, rel=1e-12)
    assert res['IoU_left'] == pytest.approx(iou_l, rel=1e-12)
    assert res['IoU'] == pytest.approx((iou_r + iou_l) / 2, rel=1e-12)


def hic_box(mesh: np.ndarray) -> tuple:
    """(cx, cy, w, h) of a mesh projected with HIC's camera, x1.2."""
    u = 525.0 * mesh[:, 0] / mesh[:, 2] + 319.5
    v = 525.0 * mesh[:, 1] / mesh[:, 2] + 239.5
    return ((u.min() + u.max()) / 2, (v.min() + v.max()) / 2,
            1.2 * (u.max() - u.min()), 1.2 * (v.max() - v.min()))


def test_hic_mrrpe_only_interacting_and_mesh_boxes():
    inter = Scene(0, 'interacting')
    inter.with_joints = False  # HIC has no joints
    # GT relative wrist = regressed wrist(left) - wrist(right) of GT meshes
    inter.rel_trans = (wrist_of(inter.gt_mesh[1]) - wrist_of(
        inter.gt_mesh[0])) + np.array([0.0, 3.0, 4.0]) * MM
    # a single-hand sample with both meshes: MRRPE still skips it
    single = Scene(1, 'right')
    single.with_joints = False
    single.rel_trans = single.rel_trans + 0.2
    # right prediction of `inter`: GT box moved right by half its width,
    # IoU = (w h / 2) / (3 w h / 2); every other predicted box is exact
    cx, cy, w, h = hic_box(inter.gt_mesh[0])
    inter.pred_boxes[0] = [cx, cy - h / 2, cx + w, cy + h / 2]
    exact = {}
    for key, s in (('inter', inter), ('single', single)):
        for hand in range(2):
            if key == 'inter' and hand == 0:
                continue
            cx, cy, w, h = hic_box(s.gt_mesh[hand])
            s.pred_boxes[hand] = [
                cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
            ]
            exact[key, hand] = 100.0 * w * h / (w * h + 1e-5)
        s.gt_boxes[:] = 0.0  # gt_instances boxes are ignored for HIC
    res = run(build('hic'), [inter, single])
    assert res['MRRPE'] == pytest.approx(5.0)
    assert 'MPJPE_all' not in res
    _, _, w, h = hic_box(inter.gt_mesh[0])
    iou_shift = 100.0 * (w * h / 2) / (1.5 * w * h + 1e-5)
    assert res['IoU_right'] == pytest.approx(
        (iou_shift + exact['single', 0]) / 2, rel=1e-9)
    assert res['IoU_left'] == pytest.approx(
        (exact['inter', 1] + exact['single', 1]) / 2, rel=1e-9)
    # RRVE (interacting only): left vertices 5 mm off, right exact
    assert res['RRVE'] == pytest.approx(2.5)
    # hands without a mesh get no box score
    single.mesh_valid = np.array([1.0, 0.0])
    res = run(build('hic'), [inter, single])
    assert res['IoU_left'] == pytest.approx(exact['inter', 1], rel=1e-9)


def test_reinterhand_joints_from_gt_mesh():
    s = Scene(0, 'interacting')
    # predicted joints = the GT mesh's regressed joints, wrist-relative;
    # joint 3 (one-hot on a vertex) moved by 6 mm
    reg = make_regressor()
    for h in range(2):
        j = reg @ s.gt_mesh[h]
        s.pred_joint[21 * h:21 * (h + 1)] = j - j[0]
    s.pred_joint[3] += np.array([6.0, 0.0, 0.0]) * MM
    # the GT 3D keypoints are NOT used for MPJPE in ReInterHand
    s.gt_joint[5] += 1.0
    s.rel_trans = s.rel_trans + np.array([0.0, 3.0, 4.0]) * MM
    res = run(build('reinterhand'), [s])
    assert set(res) >= {'MPJPE_all', 'MPVPE_all', 'MRRPE', 'RRVE', 'IoU'}
    assert 'MPJPE_single' not in res
    assert res['MPJPE_all'] == pytest.approx(6.0 / 42)
    assert res['MRRPE'] == pytest.approx(5.0)
    assert res['RRVE'] == pytest.approx(2.5)


def test_coco_reports_boxes_only():
    s = Scene(0, 'interacting')
    s.with_joints = False
    d = s.to_dict()
    del d['gt_instances']['gt_mesh_cam']
    metric = InterWildMetric(protocol='coco')  # needs no MANO at all
    metric.process({}, [d])
    res = metric.compute_metrics(metric.results)
    assert set(res) == {'IoU', 'IoU_right', 'IoU_left'}
    assert res['IoU'] == pytest.approx(100.0, rel=1e-6)


def test_pa_metrics_zero_for_similarity_copy():
    s = Scene(0, 'interacting')
    angle = 0.9
    rot = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(angle), -np.sin(angle)],
                    [0.0, np.sin(angle), np.cos(angle)]])
    for h in range(2):
        sl = slice(21 * h, 21 * (h + 1))
        s.pred_joint[sl] = 1.3 * s.gt_joint[sl] @ rot.T + 0.05
        s.pred_mesh[h] = 0.7 * s.gt_mesh[h] @ rot.T - 0.02
    res = run(build(pa_metrics=True), [s])
    assert res['PA_MPJPE_interacting'] == pytest.approx(0.0, abs=1e-8)
    assert res['PA_MPVPE_interacting'] == pytest.approx(0.0, abs=1e-8)
    assert res['MPJPE_interacting'] > 1.0  # official numbers still reported
    assert 'PA_MPJPE_all' in res and 'MPJPE_all' in res
    assert 'PA_MPJPE_all' not in run(build(), [Scene(0)])


def test_intaghand_protocol():
    s = Scene(0, 'interacting')
    s.pred_mesh = 2.0 * s.gt_mesh + 0.1  # scaled + translated copy
    res = run(build(intaghand_metrics=True), [s])
    assert res['IntagHand_MPJPE'] == pytest.approx(0.0, abs=1e-9)
    assert res['IntagHand_MPVPE'] == pytest.approx(0.0, abs=1e-9)
    assert res['MPVPE_all'] > 1.0  # the official number is not replaced
    # move vertex 8 by 7 mm: not used by the wrist / middle-MCP rows; it is
    # the one-hot vertex of joints 2, 8, 14, 20 (6 + j % 6 == 8)
    t = Scene(1, 'interacting')
    t.pred_mesh[:, 8] += np.array([0.0, 7.0, 0.0]) * MM
    single = Scene(2, 'right')  # IntagHand scores interacting samples only
    single.pred_mesh += 0.01
    res = run(build(intaghand_metrics=True), [t, single])
    assert res['IntagHand_MPJPE'] == pytest.approx(4 * 7.0 / 21)
    assert res['IntagHand_MPVPE'] == pytest.approx(7.0 / NUM_VERTS)


def test_distributed_padded_duplicate_counted_once():
    scenes = [Scene(i, 'interacting') for i in range(3)]
    scenes[0].pred_mesh += balanced_offsets(5, 3.0)
    rank0, rank1 = build(), build()
    rank0.process({}, [scenes[0].to_dict(), scenes[1].to_dict()])
    # the sampler pads rank 1 with sample 0 again
    rank1.process({}, [scenes[2].to_dict(), scenes[0].to_dict()])
    gathered = rank0.results + rank1.results
    res = build().compute_metrics(gathered)
    # 6 unique hand values: two of 3 mm -> 1.0 (counted twice it would be
    # 12/8 = 1.5)
    assert res['MPVPE_interacting'] == pytest.approx(1.0)


def test_evaluate_end_to_end_with_data_samples():
    """Through mmengine's Evaluator (which passes ``to_dict()`` dicts) with
    PoseDataSample objects holding torch tensors; direct process() of the
    objects gives the same records."""
    s = Scene(0, 'left')
    s.pred_mesh[1] += balanced_offsets(6, 3.0)
    d = s.to_dict()
    ds = PoseDataSample(metainfo=dict(id=0, img_id=7, hand_type='left'))
    ds.gt_instances = InstanceData(**{
        k: torch.from_numpy(v)
        for k, v in d['gt_instances'].items()
    })
    ds.pred_instances = InstanceData(**{
        k: torch.from_numpy(v).float()
        for k, v in d['pred_instances'].items()
    })
    metric = build()
    evaluator = Evaluator(metric)
    evaluator.process(data_samples=[ds], data_batch={})
    res = evaluator.evaluate(size=1)
    assert res['MPVPE_single'] == pytest.approx(3.0, rel=1e-5)
    assert metric.results == []  # mmengine clears results after evaluate
    direct = build()
    direct.process({}, [ds])
    assert direct.results[0]['id'] == 0
    assert direct.results[0]['mesh_err'][1] == pytest.approx(3.0, rel=1e-5)


def test_bad_input_errors_name_the_cause():
    d = Scene(0).to_dict()
    del d['gt_instances']['gt_joint_valid']
    with pytest.raises(KeyError, match='gt_joint_valid'):
        build().process({}, [d])
    d = Scene(0).to_dict()
    d['pred_instances']['rel_trans'] = np.zeros((1, 2))
    with pytest.raises(ValueError, match='rel_trans'):
        build().process({}, [d])
    d = Scene(0).to_dict()
    del d['id'], d['img_id']
    with pytest.raises(KeyError, match='sample id'):
        build().process({}, [d])
    with pytest.raises(ValueError, match='joint_regressor'):
        InterWildMetric(joint_regressor=np.ones((16, 778)))


def test_real_mano_regressor(synthetic_mano_dir):
    """With a (synthetic) MANO model: the metric takes ManoLayer's SH
    regressor, and a GT mesh scaled by 1.1 about its wrist gives
    MPVPE = 0.1 * mean |v - wrist|."""
    from interwild_mm.mano.layer import ManoLayer
    layer = ManoLayer(model_dir=str(synthetic_mano_dir))
    torch.manual_seed(0)
    with torch.no_grad():
        out = layer(
            global_orient=0.3 * torch.randn(2, 3),
            hand_pose=0.3 * torch.randn(2, 45),
            betas=torch.randn(2, 10),
            transl=torch.tensor([[0.0, 0.0, 0.6], [0.1, 0.0, 0.6]]))
    verts = out['vertices'].double().numpy()
    reg = layer.joint_regressor.double().numpy()
    assert reg.shape == (21, 778)
    metric = InterWildMetric(protocol='hic', mano_dir=str(synthetic_mano_dir))
    np.testing.assert_allclose(metric.joint_regressor, reg)
    wrist = (reg[0][:, None, None] * verts.transpose(1, 0, 2)).sum(0)
    pred = (verts - wrist[:, None]) * 1.1 + 0.05
    expected = 0.1 * np.mean(np.linalg.norm(verts - wrist[:, None],
                                            axis=-1)) * 1000.0
    sample = dict(
        id=0,
        hand_type='interacting',
        gt_instances=dict(
            gt_mesh_cam=verts.reshape(1, -1, 3), gt_mesh_valid=np.ones(
                (1, 2))),
        pred_instances=dict(
            rmano_mesh_cam=pred[0][None],
            lmano_mesh_cam=pred[1][None],
            rel_trans=(wrist[1] - wrist[0])[None],
            rhand_bbox=np.array([[0.0, 0.0, 10.0, 10.0]]),
            lhand_bbox=np.array([[0.0, 0.0, 10.0, 10.0]])))
    metric.process({}, [sample])
    res = metric.compute_metrics(metric.results)
    # rel 1e-6: the float32 wrist row sums to 1 only to ~1e-7, so the 5 cm
    # translation leaves a ~1e-5 mm residue
    assert res['MPVPE_interacting'] == pytest.approx(expected, rel=1e-6)
    assert res['MRRPE'] == pytest.approx(0.0, abs=1e-9)
