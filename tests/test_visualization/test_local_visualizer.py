# Copyright (c) interwild_mm contributors.
"""Tests of ``InterWildVisualizer`` and the demo mesh placement.

Scenes are built with a KNOWN orthographic camera ``u = s X + o``: the 2D
joints in ``pred_instances`` are generated from the 3D joints with it, so the
visualiser's fit must recover it and the drawn mesh pixels must be exactly
the pixels inside the triangles projected with it (computed here with a
barycentric linear solve, independent of the rasteriser).
"""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample

import interwild_mm  # noqa: F401  (registration)
from interwild_mm.visualization.local_visualizer import (HAND_BOX_COLORS,
                                                         demo_render_inputs)
from ._coverage import coverage_reference

H, W = 120, 160


def ellipsoid(n_lat=8, n_lon=12):
    verts = [[0, 0, 1.0]]
    for i in range(1, n_lat):
        th = np.pi * i / n_lat
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            verts.append(
                [np.sin(th) * np.cos(ph),
                 np.sin(th) * np.sin(ph),
                 np.cos(th)])
    verts.append([0, 0, -1.0])
    faces = [[0, 1 + j, 1 + (j + 1) % n_lon] for j in range(n_lon)]
    for i in range(n_lat - 2):
        a, b = 1 + i * n_lon, 1 + (i + 1) * n_lon
        for j in range(n_lon):
            j2 = (j + 1) % n_lon
            faces += [[a + j, b + j, b + j2], [a + j, b + j2, a + j2]]
    last = len(verts) - 1
    base = 1 + (n_lat - 2) * n_lon
    faces += [[base + j, last, base + (j + 1) % n_lon] for j in range(n_lon)]
    return np.array(verts), np.array(faces)


VERTS, FACES = ellipsoid()


def visualizer(name: str, **kwargs):
    """An InterWildVisualizer (mmengine keeps instances by name)."""
    return VISUALIZERS.build(
        dict(type='InterWildVisualizer', name=name, **kwargs))


def sample_of(pred: InstanceData) -> PoseDataSample:
    """A data sample carrying the predictions ``pred``."""
    sample = PoseDataSample()
    sample.pred_instances = pred
    return sample


def coverage(tris2d, eps):
    """Pixels of the H x W image whose centre is inside any triangle."""
    return coverage_reference(tris2d, H, W, eps)


def make_pred(two_hand: bool, seed=0):
    """Prediction with known ortho cameras; returns (pred, cams, meshes)."""
    rng = np.random.default_rng(seed)
    joints = {
        s: np.r_[np.zeros((1, 3)),
                 rng.normal(0, 0.02, (20, 3))]
        for s in ('right', 'left')
    }
    mesh_rel = {
        'right': VERTS * [0.03, 0.04, 0.02] + [0.0, 0.0, 0.0],
        'left': VERTS * [0.035, 0.03, 0.02] + [0.0, 0.01, 0.0],
    }
    rroot = np.array([0.01, 0.02, 6.0])
    lroot = np.array([-0.2, 0.1, 5.5])
    rel = np.array([0.06, -0.01, 0.02])
    s_two, o_two = np.array([600.0, 580.0]), np.array([70.3, 58.1])
    if two_hand:
        pos = {'right': rroot, 'left': rroot + rel}
        cams = {'right': (s_two, o_two), 'left': (s_two, o_two)}
    else:
        pos = {'right': rroot, 'left': lroot}
        cams = {
            'right': (np.array([500.0, 520.0]), np.array([40.2, 60.7])),
            'left': (np.array([450.0, 430.0]), np.array([205.4, 18.9]))
        }
    joint_img = {
        s: (joints[s] + pos[s])[:, :2] * cams[s][0] + cams[s][1]
        for s in ('right', 'left')
    }
    boxes = {}
    for s in ('right', 'left'):
        lo, hi = joint_img[s].min(0), joint_img[s].max(0)
        boxes[s] = np.r_[lo, hi]
    # Overlap decides the mode (IoU > 0 <=> two-hand).
    inter = np.minimum(boxes['right'][2:], boxes['left'][2:]) - np.maximum(
        boxes['right'][:2], boxes['left'][:2])
    assert (inter > 0).all() == two_hand
    pred = InstanceData()

    def t(a):
        return torch.tensor(np.asarray(a)[None], dtype=torch.float32)

    pred.rhand_bbox, pred.lhand_bbox = t(boxes['right']), t(boxes['left'])
    pred.rjoint_img, pred.ljoint_img = t(joint_img['right']), t(
        joint_img['left'])
    pred.rmano_joint_cam, pred.lmano_joint_cam = t(joints['right']), t(
        joints['left'])
    pred.rmano_mesh_cam, pred.lmano_mesh_cam = t(mesh_rel['right']), t(
        mesh_rel['left'])
    pred.rroot_cam, pred.lroot_cam = t(rroot), t(lroot)
    pred.rel_trans = t(rel)
    meshes = {s: mesh_rel[s] + pos[s] for s in ('right', 'left')}
    return pred, cams, meshes


@pytest.mark.parametrize('two_hand', [True, False])
def test_demo_render_inputs_recovers_known_cameras(two_hand):
    pred, cams, meshes = make_pred(two_hand)
    sides, ms, cs = demo_render_inputs(pred)
    assert sides == ['right', 'left']
    for side, m, c in zip(sides, ms, cs):
        assert c['type'] == 'orthographic'
        # float32 storage of the inputs -> ~1e-4 relative accuracy
        np.testing.assert_allclose(c['scale'], cams[side][0], rtol=2e-4)
        np.testing.assert_allclose(c['offset'], cams[side][1], atol=0.1)
        np.testing.assert_allclose(m, meshes[side], atol=1e-5)
    if two_hand:
        assert cs[0] is cs[1]


@pytest.mark.parametrize('two_hand', [True, False])
def test_visualizer_mesh_overlay_lands_on_known_projection(two_hand):
    pred, cams, meshes = make_pred(two_hand, seed=1)
    vis = visualizer(f'vis_mesh_{two_hand}', mesh_alpha=1.0)
    vis.set_mano_faces(FACES, FACES[:, ::-1])
    image = np.full((H, W, 3), 128, np.uint8)
    drawn = vis.add_datasample(
        'x', image, sample_of(pred), draw_bbox=False, draw_skeleton=False)
    assert drawn.shape == image.shape
    changed = (drawn != image).any(-1)
    tris = np.concatenate([(meshes[s][:, :2] * cams[s][0] + cams[s][1])[FACES]
                           for s in ('right', 'left')])
    strict, loose = coverage(tris, -1e-3), coverage(tris, 1e-3)
    assert strict.sum() > 300
    assert (changed >= strict).all() and (changed <= loose).all()
    # right pixels are red-tinted, left green-tinted; each hand visible
    right_px = changed & (drawn[..., 0] > drawn[..., 1])
    left_px = changed & (drawn[..., 1] > drawn[..., 0])
    assert right_px.sum() > 50 and left_px.sum() > 50
    assert (right_px | left_px).sum() == changed.sum()
    # right-hand pixels lie in the right hand's projection
    r_tris = (meshes['right'][:, :2] * cams['right'][0] +
              cams['right'][1])[FACES]
    assert (right_px <= coverage(r_tris, 1e-3)).all()


def test_visualizer_boxes():
    pred, _, _ = make_pred(False, seed=2)
    drawn = visualizer('vis_box').add_datasample(
        'x', np.zeros((H, W, 3), np.uint8), sample_of(pred), draw_mesh=False,
        draw_skeleton=False)
    for side, key in (('right', 'rhand_bbox'), ('left', 'lhand_bbox')):
        x0, y0, x1, y1 = np.round(getattr(pred, key)[0].numpy()).astype(int)
        assert 3 <= x0 < x1 - 6 < W - 9 and 3 <= y0 < y1 - 6 < H - 9
        color = np.array(HAND_BOX_COLORS[side])
        # thickness 3: the edge line and one pixel on each side
        for d in (-1, 0, 1):
            for edge in (drawn[y0 + d, x0:x1 + 1], drawn[y1 + d, x0:x1 + 1],
                         drawn[y0:y1 + 1, x0 + d], drawn[y0:y1 + 1, x1 + d]):
                assert (edge == color).all()
        # nothing further inside or outside (OpenCV draws a thickness-3
        # outline as +-2 px around the edge)
        assert (drawn[y0 + 3:y1 - 2, x0 + 3:x1 - 2] == 0).all()
        assert (drawn[y0 - 3, x0:x1 + 1] == 0).all()
    assert tuple(HAND_BOX_COLORS['right']) == (255, 0, 255)
    assert tuple(HAND_BOX_COLORS['left']) == (102, 255, 102)


def test_visualizer_skeleton():
    from interwild_mm.mano.constants import SH_SKELETON
    assert len(SH_SKELETON) == 20
    # Spread-out fans: finger f at angle a_f, its joints 10 px apart.
    pred = InstanceData()
    joints = {}
    for side, centre in (('right', (40.0, 100.0)), ('left', (120.0, 100.0))):
        pts = [centre]
        for f in range(5):
            ang = np.deg2rad(-130 + 20 * f)  # upwards fan
            for k in range(1, 5):
                pts.append((centre[0] + 10 * (k + 0.6) * np.cos(ang),
                            centre[1] + 10 * (k + 0.6) * np.sin(ang)))
        joints[side] = np.array(pts)
        box = np.r_[joints[side].min(0) - 5, joints[side].max(0) + 5]
        setattr(pred, f'{side[0]}joint_img',
                torch.tensor(joints[side][None], dtype=torch.float32))
        setattr(pred, f'{side[0]}hand_bbox',
                torch.tensor(box[None], dtype=torch.float32))
    drawn = visualizer('vis_sk').add_datasample(
        'x', np.zeros((H, W, 3), np.uint8), sample_of(pred), draw_mesh=False,
        draw_bbox=False)
    for side, ji in joints.items():
        color = np.array(HAND_BOX_COLORS[side], float)
        for a, b in SH_SKELETON:
            mid = np.round((ji[a] + ji[b]) / 2).astype(int)
            # the midpoint pixel carries the (anti-aliased) hand colour:
            # proportional to it
            p = drawn[mid[1], mid[0]].astype(float)
            assert p.sum() > 0.3 * color.sum()
            cos = p @ color / np.linalg.norm(p) / np.linalg.norm(color)
            assert cos > 0.97, (side, a, b, p)
        for u, v in np.round(ji).astype(int):  # joints: white dots
            assert (drawn[v, u] == 255).all()
    # nothing drawn far from the hands
    assert (drawn[:, 78:82] == 0).all()


def test_visualizer_explicit_cameras_and_errors(tmp_path):
    pred, _, meshes = make_pred(True, seed=3)
    vis = visualizer('vis_cam', mesh_alpha=1.0)
    vis.set_mano_faces(FACES, FACES)
    sample = sample_of(pred)
    image = np.full((H, W, 3), 50, np.uint8)
    cam = dict(
        type='perspective', focal=(3000.0, 3000.0), princpt=(80.0, 60.0))
    out_file = tmp_path / 'vis.jpg'
    drawn = vis.add_datasample(
        'x',
        image,
        sample,
        draw_bbox=False,
        draw_skeleton=False,
        cameras=[cam, cam],
        meshes=[meshes['right'], meshes['left']],
        out_file=str(out_file))
    assert out_file.is_file()
    uv = [
        meshes[s][:, :2] / meshes[s][:, 2:] * 3000.0 + [80.0, 60.0]
        for s in ('right', 'left')
    ]
    tris = np.concatenate([u[FACES] for u in uv])
    changed = (drawn != image).any(-1)
    assert (changed >= coverage(tris, -1e-3)).all()
    assert (changed <= coverage(tris, 1e-3)).all()
    with pytest.raises(ValueError, match='meshes='):
        vis.add_datasample('x', image, sample, cameras=[cam, cam])
    with pytest.raises(ValueError, match='RGB'):
        vis.add_datasample('x', image[..., 0], sample)
