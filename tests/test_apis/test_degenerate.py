# Copyright (c) interwild_mm contributors.
"""Degenerate hand placements and failing files do not stop a run
(issue #13 item 5)."""
import json
import logging
import os
import os.path as osp
import shutil
import warnings

import cv2
import numpy as np
import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')
IH26M = osp.join(HERE, '..', 'data', 'interhand2.6m')
FRAMES = ('image2017.jpg', 'image29590.jpg')


def _strict_json(path):
    """Parse a JSON file, refusing NaN / Infinity (not JSON)."""
    def refuse(token):
        raise ValueError(f'{token} in {path}')
    with open(path) as fh:
        return json.load(fh, parse_constant=refuse)


@pytest.fixture(scope='module')
def init_weights_inferencer(synthetic_mano_dir, tmp_path_factory):
    """The small InterWild with its own ``init_weights()`` (as a training
    run starts), saved to a checkpoint and loaded by the inferencer at
    ``hand_score_thr=0``. Its DetectNet size branch starts at zero, so every
    predicted hand box spans no pixels."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS
    from interwild_mm.apis import InterWildInferencer
    cfg = Config.fromfile(SMALL_CFG)
    cfg.model.mano.model_dir = str(synthetic_mano_dir)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    ckpt = tmp_path_factory.mktemp('ckpt') / 'init_weights.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return InterWildInferencer(SMALL_CFG, str(ckpt), device='cpu',
                                   mano_dir=str(synthetic_mano_dir),
                                   hand_score_thr=0.0, show_progress=False)


def test_zero_size_hand_boxes_on_real_frames(init_weights_inferencer,
                                             tmp_path):
    src = tmp_path / 'frames'
    src.mkdir()
    for name in FRAMES:
        shutil.copy(osp.join(IH26M, name), src / name)
    out = tmp_path / 'out'
    records = list(init_weights_inferencer(str(src), out_dir=str(out)))
    summary = init_weights_inferencer.summary
    assert [r['name'] for r in records] == ['image2017', 'image29590']
    assert not summary.failed and len(summary.ok) == 2
    for rec, name in zip(records, FRAMES):
        assert 'error' not in rec
        hands = rec['persons'][0]['hands']
        for side in ('right', 'left'):
            hand = hands[side]
            box = hand['bbox_xyxy']
            assert box[0] == box[2] and box[1] == box[3]  # zero-size span
            assert hand['present'] and hand['placement'] == 'degenerate'
            assert 'spans no pixels' in hand['placement_error']
            assert 'wrist_cam' not in hand and 'mesh_file' not in hand
        assert not rec['persons'][0]['two_hand_mode']
        stem = osp.splitext(name)[0]
        on_disk = _strict_json(out / f'{stem}.json')
        left = on_disk['persons'][0]['hands']['left']
        assert left['placement'] == 'degenerate'
        assert on_disk['conventions']['placement'].startswith('A present')
        overlay = cv2.imread(str(out / f'{stem}_overlay.png'))
        assert overlay.shape == cv2.imread(osp.join(IH26M, name)).shape
        assert set(on_disk['files']) == {f'{stem}.json',
                                         f'{stem}_overlay.png'}
    assert not [f for f in os.listdir(out) if f.endswith('.obj')]
    assert [where for where, _ in summary.degenerate] == [
        str(src / n) for n in FRAMES for _ in range(2)]
    text = str(summary)
    assert text.startswith('2 ok, 0 failed, 4 hand(s) with a degenerate')
    assert 'image2017.jpg: person 0 left hand: the hand box spans' in text


def test_a_failing_file_does_not_stop_the_folder(inferencer, monkeypatch,
                                                 tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    for name in FRAMES:
        shutil.copy(osp.join(IH26M, name), src / name)
    calls = []
    orig = inferencer.visualize

    def fail_first(image, *args, **kwargs):
        calls.append(image.shape)
        if len(calls) == 1:
            raise ValueError('cannot convert float NaN to integer')
        return orig(image, *args, **kwargs)

    monkeypatch.setattr(inferencer, 'visualize', fail_first)
    out = tmp_path / 'out'
    records = list(inferencer(str(src), out_dir=str(out)))
    assert len(calls) == 2
    assert records[0]['error'] == ('ValueError: cannot convert float NaN '
                                   'to integer')
    assert 'persons' in records[1]
    summary = inferencer.summary
    assert summary.ok == [str(src / FRAMES[1])]
    assert summary.failed == [(str(src / FRAMES[0]), records[0]['error'])]
    assert 'failed: ' + str(src / FRAMES[0]) in str(summary)
    assert (out / 'image29590.json').is_file()


def test_json_writes_null_for_non_finite_numbers(inferencer):
    hand = dict(present=True, bbox_xyxy=np.array([np.nan, 1.0, np.inf, 2.0]),
                bbox_score=float('nan'), placement='degenerate',
                placement_error='x')
    record = dict(name='a', input='a', persons=[dict(
        rel_trans=np.array([np.nan, 0.0, -np.inf]),
        hands=dict(right=hand, left=dict(present=False,
                                         bbox_xyxy=np.zeros(4),
                                         bbox_score=0.0)))])
    text = json.dumps(inferencer.to_json(record), allow_nan=False)
    rec = json.loads(text)
    right = rec['persons'][0]['hands']['right']
    assert right['bbox_xyxy'] == [None, 1.0, None, 2.0]
    assert right['bbox_score'] is None
    assert rec['persons'][0]['rel_trans'] == [None, 0.0, None]


def test_overlay_skips_unplaced_hands(inferencer):
    """A degenerate hand with NaN 2D values draws nothing; a finite box
    of a degenerate hand is still drawn (no mesh)."""
    img = np.full((60, 80, 3), 40, np.uint8)
    nan_hand = dict(present=True, bbox_xyxy=np.full(4, np.nan),
                    joints_2d=np.full((21, 2), np.nan),
                    placement='degenerate', placement_error='NaN')
    absent = dict(present=False, bbox_xyxy=np.array([1.0, 1, 5, 5]))
    person = dict(hands=dict(right=nan_hand, left=absent))
    f, c = np.array([100.0, 100.0]), np.array([39.5, 29.5])
    out = inferencer.visualize(img, [person], f, c)
    np.testing.assert_array_equal(out, img)
    boxed = dict(nan_hand, bbox_xyxy=np.array([10.0, 10.0, 30.0, 20.0]))
    out = inferencer.visualize(img, [dict(hands=dict(right=boxed,
                                                     left=absent))], f, c)
    changed = np.any(out != img, axis=-1)
    ys, xs = np.nonzero(changed)
    # only the rectangle outline (thickness 2) around the box is drawn
    assert xs.min() >= 9 and xs.max() <= 31 and ys.min() >= 9 and \
        ys.max() <= 21
    assert not changed[13:17, 13:27].any()


def test_a_failing_video_frame_does_not_stop_the_video(inferencer,
                                                       monkeypatch, tmp_path):
    path = str(tmp_path / 'clip.mp4')
    frame = cv2.resize(cv2.imread(osp.join(IH26M, FRAMES[0])), (128, 96))
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (128, 96))
    for i in range(3):
        writer.write(np.roll(frame, 4 * i, axis=1))
    writer.release()
    orig, calls = inferencer.visualize, []

    def fail_second(image, *args, **kwargs):
        calls.append(len(calls))
        if len(calls) == 2:
            raise ValueError('cannot convert float NaN to integer')
        return orig(image, *args, **kwargs)

    monkeypatch.setattr(inferencer, 'visualize', fail_second)
    out = tmp_path / 'out'
    records = list(inferencer(path, out_dir=str(out)))
    assert [r['frame_index'] for r in records] == [0, 1, 2]
    assert ['error' in r for r in records] == [False, True, False]
    summary = inferencer.summary
    assert summary.ok == [path]
    assert summary.failed == [('clip_000001', records[1]['error'])]
    lines = (out / 'clip.jsonl').read_text().strip().split('\n')
    assert [json.loads(ln)['frame_index'] for ln in lines] == [0, 1, 2]
    assert 'error' in json.loads(lines[1])
    cap = cv2.VideoCapture(str(out / 'clip_overlay.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()
