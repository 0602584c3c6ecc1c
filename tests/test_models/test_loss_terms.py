# Copyright (c) interwild_mm contributors.
"""Every InterWild training loss term re-derived in float64.

The batch comes from the real fixtures (tests/data) through the evaluation
pipeline, with MANO pseudo-GT fits written for some hands: an interacting
and a single-hand InterHand2.6M sample (3D) and an interacting and a
single-hand COCO-WholeBody sample (2D only, each with a fit for one hand).
The 2.5D targets are then placed inside / outside the model's predicted
hand crops, so the crop move and its re-evaluated truncation matter.

The expected terms are written from docs/official_conventions.md §2 with
numpy only: the body-grid -> predicted-crop move
(``x·384/48``, ``y·512/64``, the crop affine ``(x - cx)·256/(w + 1e-8) +
128`` built here from the crop box, ``×8/256``, truncation re-evaluated in
``[0, 8)``), the crop-camera projection ``X/(Z + 1e-4)·5000 + 128`` and
Rodrigues' formula. From the model only the raw predictions of
``forward_all`` are used (see :func:`raw_predictions`).
"""
import json

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import interwild_mm.datasets  # noqa: F401
import interwild_mm.models  # noqa: F401
from tests.test_datasets._helpers import (IH_ROOT, coco_cfg, eval_pipeline,
                                          ih_cfg)
from ._interwild_tiny import tiny_model_cfg

# official constants (docs/official_conventions.md §0)
INPUT_WH = np.array([384.0, 512.0])
BODY_INPUT_WH = np.array([192.0, 256.0])
BODY_GRID_WH = np.array([48.0, 64.0])
BODY_DEPTH, HAND_DEPTH = 8.0, 8.0
CROP, HAND_GRID = 256.0, 8.0
FOCAL, PRINCPT = 5000.0, 128.0
NV, NJ = 778, 21

TERMS = ('rhand_bbox_center', 'lhand_bbox_center', 'rhand_bbox_size',
         'lhand_bbox_size', 'rel_trans', 'mano_pose', 'mano_shape',
         'joint_cam', 'mano_mesh_cam', 'joint_img', 'mano_joint_img',
         'joint_proj')

# (dataset, annotation id, hands with a MANO fit)
BATCH = (('ih', 326750, ('right', )), ('ih', 471953, ()),
         ('coco', 533949, ('left', )), ('coco', 442619, ('right', )))

RAW_KEYS = ('rhand_center', 'lhand_center', 'rhand_size', 'lhand_size',
            'rhand_crop_box', 'lhand_crop_box', 'rjoint_img', 'ljoint_img',
            'rmano_root_pose', 'lmano_root_pose', 'rmano_hand_pose',
            'lmano_hand_pose', 'rmano_shape', 'lmano_shape', 'rmano_joint_cam',
            'lmano_joint_cam', 'rmano_mesh_cam', 'lmano_mesh_cam', 'rroot_cam',
            'lroot_cam', 'rel_trans')


def raw_predictions(model, x: torch.Tensor) -> dict:
    """The model's raw predictions, float64 numpy (the only model access).

    DetectNet centres / sizes (body grid), crop boxes (body-input px),
    un-mirrored PositionNet joints (crop grid), MANO parameters, wrist-
    relative joints / meshes, root translations (crop camera, m) and
    ``rel_trans``.
    """
    with torch.no_grad():
        out = model.forward_all(x)
    return {k: out[k].detach().double().numpy() for k in RAW_KEYS}


# ----------------------------------------------------------------------
# data
def _fit(rng: np.random.Generator, trans) -> dict:
    pose = rng.normal(0.0, 0.3, 48)
    return dict(
        pose=pose.tolist(),
        shape=rng.normal(0.0, 0.8, 10).tolist(),
        trans=list(map(float, trans)))


def _write_mano_files(root) -> dict:
    """NeuralAnnot-format fits for the hands listed in ``BATCH``."""
    rng = np.random.default_rng(7)
    ih_data = json.load(open(f'{IH_ROOT}/test_interhand2.6m_data.json'))
    ih_j3d = json.load(open(f'{IH_ROOT}/test_interhand2.6m_joint_3d.json'))
    images = {im['id']: im for im in ih_data['images']}
    anns = {a['id']: a for a in ih_data['annotations']}
    ih, coco = {}, {}
    for src, aid, hands in BATCH:
        if src == 'ih':
            im = images[anns[aid]['image_id']]
            cap, frame = str(im['capture']), str(im['frame_idx'])
            world = np.asarray(ih_j3d[cap][frame]['world_coord'])
            fits = {}
            for side in ('right', 'left'):
                wrist = world[20 if side == 'right' else 41] / 1000.0
                fits[side] = _fit(rng, wrist) if side in hands else None
            ih.setdefault(cap, {})[frame] = fits
        else:
            coco[str(aid)] = {
                side:
                dict(
                    mano_param=_fit(rng, (0.0, 0.0, 0.8)),
                    cam_param=dict(
                        focal=[1500.0, 1500.0], princpt=[300.0, 200.0]))
                if side in hands else None
                for side in ('right', 'left')
            }
    paths = dict(
        ih=str(root / 'ih_mano.json'), coco=str(root / 'coco_mano.json'))
    json.dump(ih, open(paths['ih'], 'w'))
    json.dump(coco, open(paths['coco'], 'w'))
    return paths


def load_batch(root, mano_dir):
    """Packed samples of ``BATCH`` and the float64 input batch."""
    paths = _write_mano_files(root)
    pipeline = Compose(eval_pipeline(str(mano_dir)))
    sets = dict(
        ih=DATASETS.build(ih_cfg(mano_file=paths['ih'])),
        coco=DATASETS.build(coco_cfg(mano_file=paths['coco'])))
    by_id = {
        key: {
            info['id']: info
            for info in (ds.get_data_info(i) for i in range(len(ds)))
        }
        for key, ds in sets.items()
    }
    packed = [pipeline(dict(by_id[src][aid])) for src, aid, _ in BATCH]
    x = torch.stack([p['inputs'] for p in packed]).double() / 255.0
    return x, [p['data_samples'] for p in packed]


def place_in_crops(samples, raw: dict, seed: int = 3) -> None:
    """Move the xy of ``joint_img`` / ``mano_joint_img`` targets (body
    grid) into the predicted crops: 3 of every 4 joints inside, every
    fourth outside (its truncation is re-evaluated to 0); z is kept."""
    rng = np.random.default_rng(seed)
    for i, ds in enumerate(samples):
        lab = ds.gt_instance_labels
        for key in ('joint_img', 'mano_joint_img'):
            t = lab.get(key).clone()
            for s, rows in (('r', slice(0, NJ)), ('l', slice(NJ, 2 * NJ))):
                box = raw[f'{s}hand_crop_box'][i] / 4.0  # body px -> grid
                c, wh = (box[:2] + box[2:]) / 2, box[2:] - box[:2]
                off = rng.uniform(-0.4, 0.4, (NJ, 2))
                out = np.arange(NJ) % 4 == 3
                off[out] = rng.choice([-1, 1], (out.sum(), 2)) * \
                    rng.uniform(0.6, 0.9, (out.sum(), 2))
                xy = np.clip(c + off * wh, 0.5, BODY_GRID_WH - 0.5)
                t[0, rows, :2] = torch.from_numpy(xy).to(t.dtype)
            lab.set_field(t, key)


def gather(samples) -> dict:
    """Targets as float64 numpy ``(N, ...)`` arrays (read independently of
    the model's own target gathering)."""
    out = {}
    for key in samples[0].gt_instance_labels.keys():
        out[key] = np.concatenate([
            np.asarray(ds.gt_instance_labels.get(key), np.float64)
            for ds in samples
        ])
    return out


# ----------------------------------------------------------------------
# float64 re-derivation (docs/official_conventions.md §2)
def rodrigues(aa: np.ndarray) -> np.ndarray:
    """``(..., 3)`` axis-angle -> ``(..., 3, 3)``."""
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = aa / np.where(theta > 0, theta, 1.0)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    K = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero],
                 -1).reshape(*k.shape[:-1], 3, 3)
    t = theta[..., None]
    return np.eye(3) + np.sin(t) * K + (1 - np.cos(t)) * (K @ K)


def to_crop_grid(coords, trunc, crop_box_body):
    """Body-grid ``(N, 21, 3)`` targets -> one hand's predicted crop grid.

    Returns the coordinates and the re-evaluated truncation ``(N, 21)``.
    """
    img = coords[..., :2] * (INPUT_WH / BODY_GRID_WH)
    box = crop_box_body * np.tile(INPUT_WH / BODY_INPUT_WH, 2)  # image px
    centre = (box[:, :2] + box[:, 2:]) / 2
    scale = CROP / (box[:, 2:] - box[:, :2] + 1e-8)
    crop = (img - centre[:, None]) * scale[:, None] + CROP / 2
    xy = crop * HAND_GRID / CROP
    z = coords[..., 2:] * HAND_DEPTH / BODY_DEPTH
    inside = np.all((xy >= 0) & (xy < HAND_GRID), axis=-1)
    return np.concatenate([xy, z], -1), trunc * inside


def project(points: np.ndarray) -> np.ndarray:
    """Crop-camera pinhole ``(..., 3)`` m -> crop grid ``(..., 2)``."""
    uv = points[..., :2] / (points[..., 2:] + 1e-4) * FOCAL + PRINCPT
    return uv * HAND_GRID / CROP


def moved_targets(raw: dict, t: dict) -> dict:
    """Both hands' 2.5D targets in their predicted crops."""
    out = {}
    pairs = (('joint_img', 'joint_trunc'),
             ('mano_joint_img', 'mano_joint_trunc'))
    for name, tr in pairs:
        parts = [
            to_crop_grid(t[name][:, rows], t[tr][:, rows, 0],
                         raw[f'{s}hand_crop_box'])
            for s, rows in (('r', slice(0, NJ)), ('l', slice(NJ, 2 * NJ)))
        ]
        out[name] = np.concatenate([p[0] for p in parts], 1)
        out[tr] = np.concatenate([p[1] for p in parts], 1)
    return out


def rederive(raw: dict, t: dict) -> dict:
    """The 12 terms: mean over all elements of the masked elementwise L1."""
    n = t['is_3D'].shape[0]
    is3d = t['is_3D'].reshape(n)
    e = {}
    for h in ('rhand', 'lhand'):
        valid = t[f'{h}_bbox_valid'].reshape(n, 1)
        for q in ('center', 'size'):
            e[f'{h}_bbox_{q}'] = np.mean(
                np.abs(raw[f'{h[0]}hand_{q}'] - t[f'{h}_bbox_{q}']) * valid)
    e['rel_trans'] = np.mean(
        np.abs(raw['rel_trans'] - t['rel_trans']) * t['rel_trans_valid'])
    pose = np.concatenate([
        raw['rmano_root_pose'], raw['rmano_hand_pose'], raw['lmano_root_pose'],
        raw['lmano_hand_pose']
    ], 1).reshape(n, 32, 3)
    diff = np.abs(
        rodrigues(pose) - rodrigues(t['mano_pose'].reshape(n, 32, 3)))
    e['mano_pose'] = np.mean(diff * t['mano_pose_valid'][:, :, None, None])
    shape = np.concatenate([raw['rmano_shape'], raw['lmano_shape']], 1)
    e['mano_shape'] = np.mean(
        np.abs(shape - t['mano_shape']) * t['mano_shape_valid'])
    joint = np.concatenate([raw['rmano_joint_cam'], raw['lmano_joint_cam']], 1)
    e['joint_cam'] = 10 * np.mean(
        np.abs(joint - t['joint_cam']) * t['joint_valid'] *
        is3d[:, None, None])
    mesh = np.concatenate([raw['rmano_mesh_cam'], raw['lmano_mesh_cam']], 1)
    e['mano_mesh_cam'] = 10 * np.mean(
        np.abs(mesh - t['mano_mesh_cam']) * t['mano_mesh_valid'])
    mv = moved_targets(raw, t)
    jimg = np.concatenate([raw['rjoint_img'], raw['ljoint_img']], 1)
    gate = np.stack([np.ones(n), np.ones(n), is3d], -1)[:, None]  # z col
    e['joint_img'] = np.mean(
        np.abs(jimg - mv['joint_img']) * mv['joint_trunc'][..., None] * gate)
    e['mano_joint_img'] = np.mean(
        np.abs(jimg - mv['mano_joint_img']) *
        mv['mano_joint_trunc'][..., None])
    proj = np.concatenate([
        project(raw[f'{s}mano_joint_cam'] + raw[f'{s}root_cam'][:, None])
        for s in 'rl'
    ], 1)
    e['joint_proj'] = np.mean(
        np.abs(proj - mv['joint_img'][..., :2]) * mv['joint_trunc'][..., None])
    return e


# ----------------------------------------------------------------------
@pytest.fixture(scope='module', params=['model_defaults', 'config'])
def model(request, synthetic_mano_dir):
    """Tiny InterWild in float64, its loss terms from the parts' defaults
    (their ``loss_*`` keys left out) or from the shipped config's ``loss_*``
    keys of the parts.

    DetectNet is set to predict boxes of a few grid cells (a freshly
    initialised head predicts zero-size boxes) at centres that differ
    between samples. Train mode: BN uses the batch statistics, so every
    forward of the same batch gives the same predictions.
    """
    init_default_scope('mmpose')  # module fixtures run before the autouse one
    cfg = tiny_model_cfg(synthetic_mano_dir)
    if request.param == 'model_defaults':
        parts = (cfg['detect_net']['head'], cfg['shnet'], cfg['trans_net'])
        removed = [p.pop(k) for p in parts for k in list(p)
                   if k.startswith('loss_')]
        assert len(removed) == 10  # every term is configured in the config
    torch.manual_seed(0)
    m = MODELS.build(cfg)
    m.init_weights()
    head = m.detect_net.head
    with torch.no_grad():
        for layer in head.deconv:
            if isinstance(layer, torch.nn.ConvTranspose2d):
                layer.weight.normal_(0.0, 0.05)
        head.bbox_center[0].weight.normal_(0.0, 30.0)
        head.rhand_size[2].bias.copy_(torch.tensor([5.0, 7.0]))
        head.lhand_size[2].bias.copy_(torch.tensor([6.5, 4.5]))
    return m.double().train()


@pytest.fixture(scope='module')
def case(model, synthetic_mano_dir, tmp_path_factory):
    init_default_scope('mmpose')
    x, samples = load_batch(
        tmp_path_factory.mktemp('loss_terms'), synthetic_mano_dir)
    place_in_crops(samples, raw_predictions(model, x))
    with torch.no_grad():
        losses = model.loss(x, samples)
    raw = raw_predictions(model, x)
    return dict(
        x=x, samples=samples, losses=losses, raw=raw, targets=gather(samples))


def test_batch_covers_every_mask_case(case):
    t, raw = case['targets'], case['raw']
    n = len(BATCH)
    is3d = t['is_3D'].reshape(n)
    assert set(is3d) == {0.0, 1.0}
    fit = t['mano_mesh_valid'].reshape(n, 2, NV).max(-1)  # per hand
    assert (fit == 0).any() and (fit == 1).any()  # invalid MANO hands
    assert ((is3d == 0) & fit.any(1)).any()  # 2D-only sample with a fit
    types = [ds.metainfo['hand_type'] for ds in case['samples']]
    assert 'interacting' in types and {'right', 'left'} & set(types)
    box = np.concatenate([t['rhand_bbox_valid'], t['lhand_bbox_valid']], 1)
    assert (box[:, 0] != box[:, 1]).any()
    assert set(t['rel_trans_valid'].reshape(n)) == {0.0, 1.0}
    mv = moved_targets(raw, t)
    valid = t['joint_valid'][..., 0] > 0
    trunc = mv['joint_trunc'] > 0
    assert (t['joint_trunc'] == 0).any()  # dataset truncation
    assert (valid & ~trunc).any()  # valid, but outside the predicted crop
    assert trunc.sum() > 20  # plenty of joints scored
    # 2D samples have scored joints whose depth target is not gated off by
    # the truncation (the z gate itself matters), same for MANO targets
    assert (trunc & (is3d[:, None] == 0)).any()
    assert ((mv['mano_joint_trunc'] > 0) & (is3d[:, None] == 0)).any()
    assert (t['joint_valid'][..., 0] * (1 - is3d[:, None])).any()


def test_every_term_matches_float64_rederivation(case):
    losses = case['losses']
    assert set(losses) == {f'loss_{k}' for k in TERMS}
    expected = rederive(case['raw'], case['targets'])
    for k in TERMS:
        got = losses[f'loss_{k}']
        assert got.dtype == torch.float64, k
        assert expected[k] > 0, k  # a zero term would pin nothing
        np.testing.assert_allclose(
            got.item(), expected[k], rtol=1e-6, err_msg=k)
    total = sum(v.item() for v in losses.values())
    np.testing.assert_allclose(total, sum(expected.values()), rtol=1e-6)


def test_rodrigues_reference():
    """The test's own Rodrigues: 90° about z maps x to y; 0 is I."""
    r = rodrigues(np.array([[0.0, 0.0, np.pi / 2], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(
        r[0] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(r[1], np.eye(3))
