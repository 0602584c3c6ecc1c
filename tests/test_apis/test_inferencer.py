# Copyright (c) interwild_mm contributors.
"""End-to-end tests of InterWildInferencer and the demo scripts (CPU, small
random model, synthetic MANO)."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import time

import cv2
import numpy as np
import pytest
import torch

from interwild_mm.apis.placement import project_perspective
from interwild_mm.geometry.patch import generate_patch_image

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.abspath(osp.join(HERE, '..', '..'))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')
COCO_IMG = osp.join(ROOT, 'tests', 'data', 'coco_wholebody',
                    '000000000785.jpg')
IH26M_IMG = osp.join(ROOT, 'tests', 'data', 'interhand2.6m', 'image2017.jpg')
HAND_KEYS = {'present', 'bbox_xyxy', 'bbox_score', 'joints_2d', 'mano',
             'root_cam_virtual', 'vertices_rel', 'joints_cam_rel',
             'virtual_camera', 'wrist_cam', 'wrist_cam_scene',
             'reprojection_error_px', 'mesh_file'}


def _load_demo(name):
    path = osp.join(ROOT, 'demo', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_demo_{name}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _synthetic_image(h=300, w=400):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    cv2.circle(img, (w // 2, h // 2), 40, (30, 160, 220), -1)
    return img


def _check_json(path, n_persons=1):
    with open(path) as fh:
        rec = json.load(fh)
    assert 'flat_hand_mean=False' in rec['conventions']['mano']
    assert set(rec) >= {'conventions', 'name', 'input', 'image_size',
                        'camera', 'persons', 'files', 'hand_score_thr'}
    assert len(rec['persons']) == n_persons
    for p in rec['persons']:
        assert len(p['rel_trans']) == 3
        assert np.asarray(p['bb2img_trans']).shape == (2, 3)
        for side in ('right', 'left'):
            h = p['hands'][side]
            if not h['present']:
                assert 'mano' not in h and 'vertices_rel' not in h
                continue
            assert set(h) == HAND_KEYS
            assert np.asarray(h['joints_2d']).shape == (21, 2)
            assert np.asarray(h['vertices_rel']).shape == (778, 3)
            assert np.asarray(h['joints_cam_rel']).shape == (21, 3)
            np.testing.assert_allclose(h['joints_cam_rel'][0], 0, atol=1e-6)
            assert len(h['mano']['global_orient']) == 3
            assert len(h['mano']['hand_pose']) == 45
            assert len(h['mano']['betas']) == 10
            assert len(h['wrist_cam']) == 3 and h['wrist_cam'][2] > 0
    return rec


def test_image_demo_writes_all_outputs(tmp_path, synthetic_mano_dir):
    src = tmp_path / 'in'
    src.mkdir()
    shutil.copy(COCO_IMG, src / 'coco.jpg')
    shutil.copy(IH26M_IMG, src / 'ih26m.jpg')
    cv2.imwrite(str(src / 'synth.png'), _synthetic_image())
    out = tmp_path / 'out'
    demo = _load_demo('image_demo')
    args = [str(src), '--config', SMALL_CFG, '--out-dir', str(out),
            '--device', 'cpu', '--mano-dir', str(synthetic_mano_dir),
            '--hand-score-thr', '0', '--focal', '700', '--princpt', '200',
            '150']
    assert demo.main(args) == 0
    for name, shape in (('coco', cv2.imread(COCO_IMG).shape),
                        ('ih26m', cv2.imread(IH26M_IMG).shape),
                        ('synth', (300, 400, 3))):
        files = {f'{name}.json', f'{name}_overlay.png', f'{name}_p0_right.obj',
                 f'{name}_p0_left.obj', f'{name}_p0_hands.obj'}
        assert files <= set(os.listdir(out))
        rec = _check_json(out / f'{name}.json')
        assert set(rec['files']) == files
        assert cv2.imread(str(out / f'{name}_overlay.png')).shape == shape
        with open(out / f'{name}_p0_hands.obj') as fh:
            lines = fh.read().split('\n')
        assert sum(ln.startswith('v ') for ln in lines) == 2 * 778
        assert sum(ln.startswith('f ') for ln in lines) == 2 * 1538
    rec = _check_json(out / 'synth.json')
    assert rec['camera']['focal'] == [700, 700]
    assert rec['camera']['princpt'] == [200, 150]
    # the OBJ holds the scene-placed right hand
    v = np.array([ln.split()[1:] for ln in open(out / 'synth_p0_right.obj')
                  if ln.startswith('v ')], float)
    h = rec['persons'][0]['hands']['right']
    np.testing.assert_allclose(
        v, np.asarray(h['vertices_rel']) + h['wrist_cam_scene'], atol=2e-6)

    # second run refuses to overwrite, --overwrite replaces
    before = os.path.getmtime(out / 'coco.json')
    assert demo.main(args) == 1
    assert os.path.getmtime(out / 'coco.json') == before
    assert demo.main(args[:1] + ['--config', SMALL_CFG, '--out-dir',
                                 str(out / 'sub')] + args[5:] +
                     ['--overwrite']) == 0


def test_refuse_overwrite_message(inferencer, tmp_path):
    (tmp_path / 'array_000.json').write_text('{}')
    with pytest.raises(FileExistsError, match='--overwrite'):
        next(inferencer([_synthetic_image()], out_dir=str(tmp_path)))
    assert (tmp_path / 'array_000.json').read_text() == '{}'


def test_folder_skips_bad_files(inferencer, tmp_path):
    cv2.imwrite(str(tmp_path / 'a_good.png'), _synthetic_image(64, 48))
    (tmp_path / 'b_corrupt.jpg').write_bytes(b'not an image at all')
    (tmp_path / 'c_empty.png').write_bytes(b'')
    out = tmp_path / 'out'
    results = list(inferencer(str(tmp_path), out_dir=str(out)))
    assert [('error' in r) for r in results] == [False, True, True]
    s = inferencer.summary
    assert len(s.ok) == 1 and len(s.failed) == 2
    assert 'corrupt' in s.failed[0][1] and 'empty' in s.failed[1][1]
    assert str(s).startswith('1 ok, 2 failed')
    assert sorted(os.listdir(out))[0] == 'a_good.json'


def test_grayscale_rgba_arrays(inferencer):
    gray = _synthetic_image(120, 90)[..., 0]
    rgba = np.dstack([_synthetic_image(120, 90), np.full((120, 90), 255,
                                                         np.uint8)])
    res = list(inferencer([gray, rgba, rgba], rgb=True, batch_size=2))
    assert [r['image_size'] for r in res] == [{'height': 120, 'width': 90}] * 3
    # same RGB content (gray replicated vs RGBA) -> identical patch handling
    np.testing.assert_allclose(res[1]['persons'][0]['rel_trans'],
                               res[2]['persons'][0]['rel_trans'], atol=1e-5)


def test_empty_folder_and_missing_input(inferencer, tmp_path):
    from interwild_mm.apis import InputError
    with pytest.raises(InputError, match='no image files'):
        next(inferencer(str(tmp_path)))
    with pytest.raises(InputError, match='does not exist'):
        next(inferencer(str(tmp_path / 'nope.png')))


def test_huge_image_is_shrunk_first(inferencer):
    """Float body-box mode only (the official mode warps the original)."""
    img = cv2.resize(_synthetic_image(), (6000, 4000),
                     interpolation=cv2.INTER_NEAREST)
    inferencer.body_box_mode = 'float'
    try:
        prep = inferencer.make_patch(img, np.array([0, 0, 6000, 4000.0]))
        # the affine must equal the direct warp's (the shrink is folded in)
        from interwild_mm.geometry.bbox import process_bbox
        box = process_bbox([0, 0, 6000, 4000], 6000, 4000, extend=1.25)
        _, img2bb, bb2img = generate_patch_image(img, box, 1.0, 0.0, False,
                                                 (384, 512))
        np.testing.assert_allclose(prep['bb2img_trans'], bb2img, rtol=1e-4,
                                   atol=1e-2)
        assert prep['patch'].shape == (3, 512, 384)
        t0 = time.time()
        res = list(inferencer([img], return_overlay=True))
        assert time.time() - t0 < 60
        assert res[0]['overlay'].shape == (4000, 6000, 3)
    finally:
        inferencer.body_box_mode = 'official_int'


def test_default_body_box_is_the_official_integer_box(inferencer):
    """384x512 image, whole-image person box (docs §5), derived by hand:
    sanitised xywh (0, 0, 383, 511); centre (191.5, 255.5);
    0.75 * 511 = 383.25 > 383 -> w = 383.25; x1.25: w = 479.0625 -> 479,
    h = 638.75 -> 638; x = trunc(191.5 - 239.5) = -48,
    y = trunc(255.5 - 319) = trunc(-63.5) = -63."""
    assert inferencer.body_box_mode == 'official_int'
    prep = inferencer.make_patch(
        _synthetic_image(512, 384), np.array([0, 0, 384, 512.0]))
    np.testing.assert_array_equal(prep['body_bbox_xywh'], [-48, -63, 479, 638])
    # docs §5 affines of this box: 479/384 and 638/512 px per patch px
    np.testing.assert_allclose(
        prep['bb2img_trans'], [[479 / 384, 0, -48], [0, 638 / 512, -63]],
        atol=1e-9)
    np.testing.assert_allclose(
        prep['img2bb_trans'], [[0.80167, 0, 38.480], [0, 0.80251, 50.558]],
        atol=1e-3)


def test_float_body_box_option(inferencer):
    """'float' keeps the float box: 383.25 x 1.25 = 479.0625 wide,
    511 x 1.25 = 638.75 high, about the centre (191.5, 255.5)."""
    inferencer.body_box_mode = 'float'
    try:
        prep = inferencer.make_patch(
            _synthetic_image(512, 384), np.array([0, 0, 384, 512.0]))
    finally:
        inferencer.body_box_mode = 'official_int'
    np.testing.assert_allclose(
        prep['body_bbox_xywh'],
        [191.5 - 479.0625 / 2, 255.5 - 638.75 / 2, 479.0625, 638.75],
        atol=1e-5)
    from interwild_mm.apis import InterWildInferencer
    with pytest.raises(ValueError, match='body_box_mode'):
        InterWildInferencer(SMALL_CFG, None, device='cpu',
                            body_box_mode='int')


def _constructed_pred(inferencer, bb2img, rng):
    """A self-consistent prediction: 2D joints = virtual projections."""
    pred = {}
    boxes = {'r': np.array([250.0, 180.0, 350.0, 260.0]),
             'l': np.array([320.0, 200.0, 410.0, 290.0])}
    for s, side in (('r', 'right'), ('l', 'left')):
        layer = inferencer._mano_layer(side)
        go = torch.tensor([[0.3, -0.4, 0.2]])
        hp = torch.from_numpy(rng.randn(1, 45) * 0.2).float()
        betas = torch.zeros(1, 10)
        with torch.no_grad():
            o = layer(go, hp, betas)
        v = o['vertices'][0].double().numpy()
        j = o['joints'][0].double().numpy()
        box = boxes[s]
        side_o = 2 * max(box[2] - box[0], box[3] - box[1])
        fv = 5000 * side_o / 256
        cv = (box[:2] + box[2:]) / 2
        # choose the depth so the hand spans ~ the box
        extent = np.ptp(j[:, :2], axis=0).max()
        root = np.array([0.004, -0.006, fv * extent / 90.0])
        joints_v = j - j[0] + root
        # independent virtual projection (directly in original px)
        uv = joints_v[:, :2] / joints_v[:, 2:] * fv + cv
        pred.update({
            f'{s}hand_bbox': box, f'{s}hand_bbox_score': np.float32(0.9),
            f'{s}joint_img': uv, f'{s}mano_root_pose': go[0].numpy(),
            f'{s}mano_hand_pose': hp[0].numpy(),
            f'{s}mano_shape': betas[0].numpy(),
            f'{s}mano_mesh_cam': v - j[0], f'{s}mano_joint_cam': j - j[0],
            f'{s}root_cam': root
        })
    pred['rel_trans'] = np.array([0.1, 0.02, 0.01])
    return pred


def test_placed_joints_project_onto_2d_joints(inferencer):
    """Placed joints reproject onto the (consistent) predicted 2D joints.

    'scale' pins the wrist exactly; the other joints move by a few px
    (the real camera is much closer than the nearly orthographic virtual
    one). 'fit' spreads that residual over all joints.
    """
    img = np.zeros((480, 640, 3), np.uint8)
    # float body box: its patch -> image map is isotropic, so the square
    # hand crops stay square in the image, as _constructed_pred assumes (the
    # official integer box scales x and y by 0.1 % different factors)
    inferencer.body_box_mode = 'float'
    try:
        prep = inferencer.make_patch(img, np.array([0, 0, 640, 480.0]))
    finally:
        inferencer.body_box_mode = 'official_int'
    person = dict(body_bbox_xyxy=np.array([0, 0, 640, 480.0]),
                  body_bbox_score=None, **prep)
    pred = _constructed_pred(inferencer, prep['bb2img_trans'],
                             np.random.RandomState(0))
    f, c = np.array([800.0, 800.0]), np.array([319.5, 239.5])
    errors = {}
    for placement in ('scale', 'fit'):
        inferencer.placement = placement
        try:
            out = inferencer.postprocess_person(pred, person, f, c)
        finally:
            inferencer.placement = 'fit'
        assert out['two_hand_mode']  # boxes overlap
        for s, side in (('r', 'right'), ('l', 'left')):
            hand = out['hands'][side]
            placed = hand['joints_cam_rel'] + hand['wrist_cam']
            err = np.linalg.norm(project_perspective(placed, f, c) -
                                 pred[f'{s}joint_img'], axis=-1)
            errors[placement, side] = err
            if placement == 'scale':
                assert err[0] < 1e-6  # the wrist lands exactly
                # depth = virtual depth * f / f_virtual (independent route)
                box = pred[f'{s}hand_bbox']
                fv = 5000 * 2 * max(box[2] - box[0], box[3] - box[1]) / 256
                np.testing.assert_allclose(hand['wrist_cam'][2],
                                           pred[f'{s}root_cam'][2] * 800 / fv,
                                           rtol=1e-9)
        r, l = out['hands']['right'], out['hands']['left']
        np.testing.assert_allclose(
            l['wrist_cam_scene'] - r['wrist_cam_scene'], pred['rel_trans'],
            atol=1e-12)
    for side in ('right', 'left'):
        fit, scale = errors['fit', side], errors['scale', side]
        assert fit.mean() < 2.5 and fit.max() < 6.0, fit
        assert scale.mean() < 5.0 and scale.max() < 10.0, scale
        assert fit.mean() <= scale.mean()


def test_absent_hand(inferencer, monkeypatch, tmp_path):
    orig = inferencer.model.predict

    def no_left(inputs, data_samples=None):
        out = orig(inputs, data_samples)
        for ds in out:
            ds.pred_instances.lhand_bbox_score = np.zeros((1, ), np.float32)
        return out

    monkeypatch.setattr(inferencer.model, 'predict', no_left)
    monkeypatch.setattr(inferencer, 'hand_score_thr', 1e-4)
    res = list(inferencer([_synthetic_image()], out_dir=str(tmp_path)))
    hands = res[0]['persons'][0]['hands']
    assert hands['right']['present'] and not hands['left']['present']
    assert not res[0]['persons'][0]['two_hand_mode']
    names = set(os.listdir(tmp_path))
    assert 'array_000_p0_left.obj' not in names
    assert {'array_000_p0_right.obj', 'array_000_p0_hands.obj'} <= names
    rec = _check_json(tmp_path / 'array_000.json')
    assert rec['persons'][0]['hands']['left'] == {
        'present': False,
        'bbox_xyxy': rec['persons'][0]['hands']['left']['bbox_xyxy'],
        'bbox_score': 0.0
    }
    # threshold above every score: no hand at all, still a valid record
    monkeypatch.setattr(inferencer, 'hand_score_thr', 2.0)
    res = list(inferencer([_synthetic_image()], return_overlay=True))
    assert not any(h['present']
                   for h in res[0]['persons'][0]['hands'].values())


def test_video_with_smoothing(inferencer, tmp_path):
    path = str(tmp_path / 'clip.mp4')
    base = _synthetic_image(96, 128)
    wr = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10, (128, 96))
    for i in range(3):
        wr.write(np.roll(base, 4 * i, axis=1))
    wr.release()
    out = tmp_path / 'out'
    res = list(inferencer(path, out_dir=str(out), smooth=True))
    assert [r['frame_index'] for r in res] == [0, 1, 2]
    lines = (out / 'clip.jsonl').read_text().strip().split('\n')
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert 'conventions' in first and 'conventions' not in json.loads(
        lines[1])
    cap = cv2.VideoCapture(str(out / 'clip_overlay.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 128
    cap.release()
    # first frame passes through the filter; smoothed rotations are proper
    h = res[1]['persons'][0]['hands']['right']
    assert np.linalg.norm(h['mano']['global_orient']) <= np.pi + 1e-9


def test_checkpoint_errors(tmp_path, synthetic_mano_dir):
    from interwild_mm.apis import InterWildInferencer
    official = tmp_path / 'snapshot_6.pth'
    torch.save({'epoch': 6, 'network': {'module.x': torch.zeros(1)},
                'optimizer': {}}, official)
    kwargs = dict(device='cpu', mano_dir=str(synthetic_mano_dir),
                  show_progress=False)
    with pytest.raises(RuntimeError, match='convert_official_checkpoint'):
        InterWildInferencer(SMALL_CFG, str(official), **kwargs)
    wrong = tmp_path / 'wrong.pth'
    torch.save({'state_dict': {'foo.weight': torch.zeros(2)}}, wrong)
    with pytest.raises(RuntimeError, match='missing.*unexpected'):
        InterWildInferencer(SMALL_CFG, str(wrong), **kwargs)
    with pytest.raises(FileNotFoundError, match='MANO'):
        InterWildInferencer(SMALL_CFG, None, device='cpu',
                            mano_dir=str(tmp_path / 'no_mano'))


def test_checkpoint_roundtrip(inferencer, tmp_path, synthetic_mano_dir):
    from interwild_mm.apis import InterWildInferencer
    ckpt = tmp_path / 'ok.pth'
    torch.save({'state_dict': inferencer.model.state_dict(), 'meta': {}},
               ckpt)
    other = InterWildInferencer(SMALL_CFG, str(ckpt), device='cpu',
                                mano_dir=str(synthetic_mano_dir),
                                hand_score_thr=0.0, show_progress=False)
    img = _synthetic_image(64, 48)
    a = list(inferencer([img]))[0]['persons'][0]['rel_trans']
    b = list(other([img]))[0]['persons'][0]['rel_trans']
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_default_speed_is_exact(inferencer):
    """Exact speed-ups by default: factorised TransNet, micro-batched
    backbones, BatchNorms kept, forward under torch.inference_mode."""
    from interwild_mm.models.utils.inference_opt import (ChunkedForward,
                                                         remaining_batchnorms)
    model = inferencer.model
    assert inferencer.speed == 'exact'
    assert model.trans_net.first_conv_impl == 'factorised'
    assert isinstance(model.detect_net.backbone, ChunkedForward)
    assert isinstance(model.hand_roi.backbone, ChunkedForward)
    assert remaining_batchnorms(model)
    seen = []
    hook = model.register_forward_pre_hook(
        lambda mod, args: seen.append(torch.is_inference_mode_enabled()))
    try:
        res = list(inferencer([_synthetic_image()]))
    finally:
        hook.remove()
    assert seen == [True] and len(res[0]['persons']) == 1


@pytest.mark.parametrize('speed', ['none', 'approximate'])
def test_speed_option(synthetic_mano_dir, speed):
    import warnings
    from interwild_mm.apis import InterWildInferencer
    from interwild_mm.models.utils.inference_opt import (ChunkedForward,
                                                         remaining_batchnorms)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        inf = InterWildInferencer(SMALL_CFG, None, device='cpu',
                                  mano_dir=str(synthetic_mano_dir),
                                  speed=speed, show_progress=False)
    model = inf.model
    chunked = isinstance(model.hand_roi.backbone, ChunkedForward)
    assert chunked == (speed == 'approximate')
    assert (remaining_batchnorms(model) == []) == (speed == 'approximate')
    seen = []
    hook = model.register_forward_pre_hook(
        lambda mod, args: seen.append(torch.is_inference_mode_enabled()))
    try:
        list(inf([_synthetic_image()]))
    finally:
        hook.remove()
    assert seen == [speed != 'none']
    with pytest.raises(ValueError, match='speed'):
        InterWildInferencer(SMALL_CFG, None, device='cpu', speed='fast')
