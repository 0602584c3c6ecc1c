"""SHNet as a stock mmpose TopdownPoseEstimator + HandFlipNormalize."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS, TRANSFORMS

import interwild_mm.datasets.transforms.hand_flip_normalize  # noqa: F401
import interwild_mm.models.heads.shnet_head  # noqa: F401
import interwild_mm.models.losses  # noqa: F401
from interwild_mm.geometry.rotation import axis_angle_to_matrix

CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'shnet',
    'shnet_res50_topdown_256x256.py')
META_KEYS = ('input_size', 'input_center', 'input_scale', 'hand_type',
             'flip_normalized')


def _results(hand_type, seed=0):
    g = np.random.default_rng(seed)
    return dict(
        img=g.integers(0, 256, (256, 256, 3), dtype=np.uint8),
        hand_type=hand_type,
        input_size=(256, 256),
        # identity crop->image mapping: x_img = x/256*256 + 128 - 128
        input_center=np.array([128., 128.], dtype=np.float32),
        input_scale=np.array([256., 256.], dtype=np.float32),
        bbox=np.array([[0., 0., 255., 255.]], dtype=np.float32),
        bbox_score=np.ones(1, dtype=np.float32),
        keypoints=g.uniform(0, 255, (1, 21, 2)).astype(np.float32),
        keypoints_visible=np.ones((1, 21), dtype=np.float32),
        transformed_keypoints=g.uniform(0, 255, (1, 21, 2)).astype(np.float32),
        mano_pose=g.normal(0, 0.5, (48, )).astype(np.float32),
        root_cam=np.array([0.05, -0.02, 0.6], dtype=np.float32),
        joint_cam=g.normal(0, 0.05, (21, 3)).astype(np.float32))


def test_hand_flip_normalize_left_and_right():
    t = TRANSFORMS.build(dict(type='HandFlipNormalize'))
    right = _results('right')
    ref = {
        k: np.copy(v) if isinstance(v, np.ndarray) else v
        for k, v in right.items()
    }
    out = t(right)
    assert out['flip_normalized'] is False
    for k in ('img', 'transformed_keypoints', 'mano_pose', 'root_cam'):
        np.testing.assert_array_equal(out[k], ref[k])

    left = _results('left')
    out = t(dict(left))
    assert out['flip_normalized'] is True
    np.testing.assert_array_equal(out['img'][:, 0], left['img'][:, 255])
    np.testing.assert_array_equal(out['img'][5, 17], left['img'][5, 238])
    np.testing.assert_allclose(out['transformed_keypoints'][..., 0],
                               255 - left['transformed_keypoints'][..., 0])
    np.testing.assert_array_equal(out['transformed_keypoints'][..., 1],
                                  left['transformed_keypoints'][..., 1])
    # image pixels and keypoints stay consistent: the keypoint pixel value
    x, y = 40, 70
    assert (out['img'][y, 255 - x] == left['img'][y, x]).all()
    # MANO axis-angles: mirrored rotation is M R M
    M = np.diag([-1., 1., 1.])
    R_in = axis_angle_to_matrix(
        torch.from_numpy(left['mano_pose'].reshape(16, 3)).double()).numpy()
    R_out = axis_angle_to_matrix(
        torch.from_numpy(out['mano_pose'].reshape(16, 3)).double()).numpy()
    np.testing.assert_allclose(R_out, M @ R_in @ M, atol=1e-6)
    np.testing.assert_allclose(out['root_cam'], [-0.05, -0.02, 0.6])
    np.testing.assert_allclose(out['joint_cam'][:, 0],
                               -left['joint_cam'][:, 0])
    # flip o flip = identity on the data
    twice = t(dict(out))
    for k in ('img', 'transformed_keypoints', 'mano_pose', 'root_cam',
              'joint_cam'):
        np.testing.assert_allclose(twice[k], left[k], rtol=1e-6, atol=1e-4)
    # one-hot handedness (InterHand3D style) also works
    assert t(_results(np.array([[0, 1]])))['flip_normalized'] is True
    with pytest.raises(ValueError, match='single-hand'):
        t(_results('interacting'))
    assert 'HandFlipNormalize' in repr(t)


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmpose')
    m = MODELS.build(cfg.model)
    m.init_weights()
    return m


def _pack(results):
    pack = TRANSFORMS.build(
        dict(
            type='PackPoseInputs', pack_transformed=True, meta_keys=META_KEYS))
    return pack(results)


def test_config_builds_topdown_shnet(model):
    from mmpose.models import TopdownPoseEstimator
    assert isinstance(model, TopdownPoseEstimator)
    assert type(model.head).__name__ == 'SHNetHead'
    assert model.head.legacy_axis_angle is True


def test_loss_and_predict_left_hand_unmirrored(model):
    flip = TRANSFORMS.build(dict(type='HandFlipNormalize'))
    left = flip(_results('left', seed=1))  # mirrored crop, flagged
    # the same (already mirrored) crop presented as a right hand
    as_right = dict(left, flip_normalized=False)
    packed = [_pack(dict(as_right)), _pack(dict(left))]
    assert packed[1]['data_samples'].metainfo['flip_normalized'] is True
    for p in packed:
        labels = p['data_samples'].gt_instance_labels
        labels.joint_img = torch.rand(1, 21, 3) * 7
        labels.joint_trunc = torch.ones(1, 21, 1)
        labels.is_3D = torch.ones(1, 1)
        labels.mano_pose = torch.from_numpy(left['mano_pose'])[None]
        labels.mano_pose_valid = torch.ones(1, 16)
        labels.mano_shape = torch.zeros(1, 10)
        labels.mano_shape_valid = torch.ones(1, 10)
    batch = dict(
        inputs=[p['inputs'] for p in packed],
        data_samples=[p['data_samples'] for p in packed])

    model.train()
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].max() <= 1.0  # /255, no mean/std
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'loss_joint_img', 'loss_mano_pose', 'loss_mano_shape'
    }
    assert all(torch.isfinite(v) for v in losses.values())

    model.eval()
    with torch.no_grad():
        results = model.test_step(batch)
    r, l = results[0].pred_instances, results[1].pred_instances
    assert r.keypoints.shape == (1, 21, 2)
    # identical input crops: the flagged one is the mirror of the other
    np.testing.assert_allclose(
        l.keypoints[..., 0], 255 - r.keypoints[..., 0], atol=1e-3)
    np.testing.assert_allclose(
        l.keypoints[..., 1], r.keypoints[..., 1], atol=1e-4)
    np.testing.assert_allclose(
        l.mano_root_pose,
        r.mano_root_pose * np.array([1., -1., -1.]),
        atol=1e-5)
    np.testing.assert_allclose(
        l.mano_hand_pose.reshape(15, 3),
        r.mano_hand_pose.reshape(15, 3) * np.array([1., -1., -1.]),
        atol=1e-5)
    np.testing.assert_allclose(
        l.root_cam, r.root_cam * [-1., 1., 1.], atol=1e-6)
    np.testing.assert_allclose(l.mano_shape, r.mano_shape, atol=1e-6)
    # keypoints are the 8-grid joints scaled to the 256 crop
    np.testing.assert_allclose(
        r.keypoints, r.joint_img[..., :2] * 32, rtol=1e-5)


# ---------------------------------------------------------------------------
# The config with mmpose's own inference APIs (random weights, offline)
FIXTURE_IMG = osp.join(
    osp.dirname(__file__), '..', 'data', 'coco_wholebody', '000000000785.jpg')
# the right hand of image 785 (COCO-WholeBody annotation, xywh)
HAND_XYWH = (280., 173., 28., 25.)
MMPOSE_HAND_NAMES = {'wrist': 'Wrist', 'thumb': 'Thumb',
                     'forefinger': 'Index', 'middle_finger': 'Middle',
                     'ring_finger': 'Ring', 'pinky_finger': 'Pinky'}


def _mmpose_name(name: str) -> str:
    """'middle_finger3' -> 'Middle_3' (mmpose hand names -> ours)."""
    base = name.rstrip('0123456789')
    num = name[len(base):]
    return MMPOSE_HAND_NAMES[base] + (f'_{num}' if num else '')


def test_hand_metainfo_is_shnet_order_and_mmpose_hand_order():
    import mmpose
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from interwild_mm.mano.constants import SH_JOINT_NAMES, SH_SKELETON
    cfg = Config.fromfile(CONFIG)
    ours = parse_pose_metainfo(cfg.train_dataloader.dataset.metainfo)
    names = [ours['keypoint_id2name'][i] for i in range(21)]
    assert names == SH_JOINT_NAMES
    assert sorted(map(tuple, ours['skeleton_links'])) == sorted(SH_SKELETON)
    assert ours['flip_indices'] == list(range(21))  # one hand: no partners
    assert ours['keypoint_colors'].shape == (21, 3)
    assert ours['skeleton_link_colors'].shape == (20, 3)
    # mmpose's hand datasets (COCO-WholeBody hands, OneHand10K, ...) use
    # the same order joint for joint, and the same skeleton
    theirs = parse_pose_metainfo(dict(from_file=osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
        'datasets', 'coco_wholebody_hand.py')))
    assert [_mmpose_name(theirs['keypoint_id2name'][i])
            for i in range(21)] == names
    assert sorted(map(tuple, theirs['skeleton_links'])) == \
        sorted(map(tuple, ours['skeleton_links']))


@pytest.fixture(scope='module')
def api_model():
    from mmpose.apis import init_model
    torch.manual_seed(0)
    return init_model(CONFIG, None, device='cpu')


def test_init_model_and_inference_topdown(api_model):
    from mmpose.apis import inference_topdown
    meta = api_model.dataset_meta
    assert meta['dataset_name'] == 'interwild_hand'
    assert meta['num_keypoints'] == 21
    x, y, w, h = HAND_XYWH
    results = inference_topdown(api_model, FIXTURE_IMG,
                                np.array([[x, y, x + w, y + h]]))
    assert len(results) == 1
    pred = results[0].pred_instances
    assert pred.keypoints.shape == (1, 21, 2)
    assert pred.keypoint_scores.shape == (1, 21)
    assert pred.mano_hand_pose.shape == (1, 45)
    # keypoints are mapped back into the image: inside the square crop of
    # side 1.25 * max(w, h) around the box centre (GetBBoxCenterScale +
    # TopdownAffine of the config)
    half = 1.25 * max(w, h) / 2
    cx, cy = x + w / 2, y + h / 2
    kpt = pred.keypoints[0]
    assert (np.abs(kpt[:, 0] - cx) <= half + 1e-3).all()
    assert (np.abs(kpt[:, 1] - cy) <= half + 1e-3).all()
    # and they are the crop keypoints scaled by side / 256 (not a
    # constant): the spread follows the crop's joint spread
    crop = pred.joint_img[0, :, :2] * 32
    np.testing.assert_allclose(kpt - kpt.mean(0),
                               (crop - crop.mean(0)) * 2 * half / 256,
                               atol=1e-3)


def test_mmpose_inferencer_whole_image(tmp_path):
    import cv2
    from mmpose.apis import MMPoseInferencer
    x, y, w, h = (int(v) for v in HAND_XYWH)
    img = cv2.imread(FIXTURE_IMG)[y - 10:y + h + 10, x - 10:x + w + 10]
    hand = str(tmp_path / 'hand.png')
    cv2.imwrite(hand, img)
    torch.manual_seed(0)
    inferencer = MMPoseInferencer(
        pose2d=CONFIG, det_model='whole_image', device='cpu')
    assert inferencer.inferencer.model.dataset_meta['num_keypoints'] == 21
    out = next(inferencer(hand, return_vis=True))
    (person, ) = out['predictions'][0]
    assert np.asarray(person['keypoints']).shape == (21, 2)
    assert len(person['keypoint_scores']) == 21
    # whole image = one box covering the crop
    np.testing.assert_allclose(person['bbox'][0],
                               [0, 0, img.shape[1], img.shape[0]])
    assert out['visualization'][0].shape == img.shape


def test_hand_flip_normalize_default_hand_type():
    """mmpose's APIs give no handedness: the config's test pipeline takes
    such a crop as a right hand; a given hand_type still wins."""
    strict = TRANSFORMS.build(dict(type='HandFlipNormalize'))
    lenient = TRANSFORMS.build(
        dict(type='HandFlipNormalize', default_hand_type='right'))
    sample = _results('right')
    sample.pop('hand_type')
    with pytest.raises(KeyError, match='hand_type'):
        strict(dict(sample))
    out = lenient(dict(sample))
    assert out['flip_normalized'] is False
    np.testing.assert_array_equal(out['img'], sample['img'])
    left = lenient(_results('left'))
    assert left['flip_normalized'] is True
    with pytest.raises(ValueError, match='single-hand'):
        TRANSFORMS.build(
            dict(type='HandFlipNormalize', default_hand_type='both'))
