# Copyright (c) interwild_mm contributors.
"""``--cfg-options`` of the demo scripts reach the built inferencer
(issue #13 item 6, demo part)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from .test_inferencer import _load_demo

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.abspath(osp.join(HERE, '..', '..'))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')
IH26M_IMG = osp.join(ROOT, 'tests', 'data', 'interhand2.6m',
                     'image2017.jpg')


@pytest.fixture
def built(monkeypatch, tmp_path):
    """Record every inferencer the demo builds; no MANO folder is reachable
    except through the command line (no env variable, no ./data/mano)."""
    import interwild_mm.apis as apis
    monkeypatch.delenv('INTERWILD_MANO_DIR', raising=False)
    monkeypatch.chdir(tmp_path)
    instances = []

    class Recording(apis.InterWildInferencer):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            instances.append(self)

    monkeypatch.setattr(apis, 'InterWildInferencer', Recording)
    return instances


def _common(out_dir):
    return ['--config', SMALL_CFG, '--out-dir', str(out_dir), '--device',
            'cpu', '--hand-score-thr', '0']


def _check_mano_override(inferencer, mano_dir):
    assert inferencer.mano_dir == str(mano_dir)
    assert inferencer.cfg.model.mano.model_dir == str(mano_dir)
    layer = inferencer._mano_layer('right')
    assert layer.faces.shape[-1] == 3


def test_image_demo_cfg_options_reach_the_inferencer(built, tmp_path,
                                                     synthetic_mano_dir,
                                                     capsys):
    demo = _load_demo('image_demo')
    out = tmp_path / 'out'
    argv = [IH26M_IMG] + _common(out) + [
        '--cfg-options', f'mano_dir={synthetic_mano_dir}']
    assert demo.main(argv) == 0
    assert len(built) == 1
    _check_mano_override(built[0], synthetic_mano_dir)
    assert (out / 'image2017.json').is_file()
    # an override that nothing reads is refused with a clear error
    argv = [IH26M_IMG] + _common(tmp_path / 'out2') + [
        '--cfg-options', f'mano_dir={synthetic_mano_dir}', 'mano_dri=/x']
    capsys.readouterr()
    assert demo.main(argv) == 1
    err = capsys.readouterr().err
    assert 'mano_dri' in err and 'Did you mean' in err
    assert len(built) == 1


def test_video_demo_cfg_options_reach_the_inferencer(built, tmp_path,
                                                     synthetic_mano_dir):
    video = str(tmp_path / 'clip.mp4')
    frame = cv2.resize(cv2.imread(IH26M_IMG), (128, 96))
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (128, 96))
    for i in range(2):
        writer.write(np.roll(frame, 3 * i, axis=1))
    writer.release()
    demo = _load_demo('video_demo')
    out = tmp_path / 'out'
    argv = [video] + _common(out) + [
        '--smooth', '--cfg-options', f'mano_dir={synthetic_mano_dir}']
    assert demo.main(argv) == 0
    assert len(built) == 1
    _check_mano_override(built[0], synthetic_mano_dir)
    lines = (out / 'clip.jsonl').read_text().strip().split('\n')
    assert [json.loads(ln)['frame_index'] for ln in lines] == [0, 1]


def test_demo_keeps_the_parity_flags():
    demo = _load_demo('image_demo')
    args = demo.build_parser().parse_args(
        ['x.jpg', '--config', 'c.py', '--out-dir', 'o', '--float-body-box',
         '--speed', 'approximate', '--cfg-options', 'mano_dir=/m'])
    kwargs = demo.inferencer_kwargs(args)
    assert kwargs['body_box_mode'] == 'float'
    assert kwargs['speed'] == 'approximate'
    assert kwargs['cfg_options'] == {'mano_dir': '/m'}
