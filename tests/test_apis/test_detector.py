# Copyright (c) interwild_mm contributors.
"""The mmdet person-detector path of the inferencer (issue #13 item 3):
a stock RTMDet-tiny config of the installed mmdet with random weights."""
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
SMALL_CFG = osp.join(HERE, 'small_interwild_cfg.py')
COCO_IMG = osp.join(HERE, '..', 'data', 'coco_wholebody', '000000000785.jpg')


def _rtmdet_tiny_config() -> str:
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'rtmdet',
                    'rtmdet_tiny_8xb32-300e_coco.py')
    assert osp.isfile(path), path
    return path


@pytest.fixture(scope='module')
def rtmdet_checkpoint(tmp_path_factory):
    """Random RTMDet-tiny weights. The backbone's ``init_cfg`` (an ImageNet
    checkpoint URL) is dropped, so nothing is downloaded."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmdet.registry import MODELS
    cfg = Config.fromfile(_rtmdet_tiny_config())
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = MODELS.build(cfg.model)
        det.init_weights()
    path = tmp_path_factory.mktemp('rtmdet') / 'rtmdet_tiny_random.pth'
    torch.save({'state_dict': det.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.fixture(scope='module')
def det_inferencer(rtmdet_checkpoint, synthetic_mano_dir):
    from interwild_mm.apis import InterWildInferencer
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return InterWildInferencer(
            SMALL_CFG, None, device='cpu', mano_dir=str(synthetic_mano_dir),
            det_config=_rtmdet_tiny_config(),
            det_checkpoint=rtmdet_checkpoint, hand_score_thr=0.0,
            show_progress=False)


def _stub_detections(monkeypatch, bboxes, scores, labels):
    """Make the RTMDet network return fixed detections (the mmdet test
    pipeline still runs)."""
    from mmdet.models.detectors import RTMDet
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    calls = []

    def test_step(self, data):
        calls.append(data['inputs'][0].shape)
        ds = DetDataSample()
        ds.pred_instances = InstanceData(
            bboxes=torch.tensor(bboxes, dtype=torch.float32).reshape(-1, 4),
            scores=torch.tensor(scores, dtype=torch.float32),
            labels=torch.tensor(labels, dtype=torch.int64))
        return [ds]

    monkeypatch.setattr(RTMDet, 'test_step', test_step)
    return calls


def test_detector_plumbing_with_a_stock_mmdet_config(det_inferencer,
                                                   monkeypatch):
    """The detector really runs (mmdet pipeline + network) in mmdet's
    scope; the default scope is mmpose again afterwards."""
    from mmdet.models.detectors import RTMDet
    from mmengine.registry import DefaultScope
    orig, seen = RTMDet.test_step, []

    def spy(self, data):
        seen.append((DefaultScope.get_current_instance().scope_name,
                     tuple(data['inputs'][0].shape)))
        return orig(self, data)

    monkeypatch.setattr(RTMDet, 'test_step', spy)
    img = cv2.imread(COCO_IMG)
    boxes = det_inferencer.detect_persons(img)
    # RTMDet's test pipeline: keep-ratio resize to 640, pad to 640x640
    assert seen == [('mmdet', (3, 640, 640))]
    assert len(boxes) >= 1
    for box, score in boxes:
        assert box.shape == (4, ) and np.all(np.isfinite(box))
    assert DefaultScope.get_current_instance().scope_name == 'mmpose'
    records = list(det_inferencer([img]))
    assert len(records) == 1 and 'persons' in records[0]
    assert DefaultScope.get_current_instance().scope_name == 'mmpose'


def test_zero_detections_make_the_whole_image_one_person(det_inferencer,
                                                         monkeypatch):
    img = cv2.imread(COCO_IMG)
    h, w = img.shape[:2]
    # a cat (label 15) and a person under the 0.5 threshold
    calls = _stub_detections(monkeypatch,
                             [[10, 10, 100, 200], [50, 40, 300, 400]],
                             [0.95, 0.3], [15, 0])
    rec = next(det_inferencer([img]))
    assert len(calls) == 1
    assert len(rec['persons']) == 1
    person = rec['persons'][0]
    np.testing.assert_array_equal(person['body_bbox_xyxy'], [0, 0, w, h])
    assert person['body_bbox_score'] is None
    # exactly what the run without a detector gives
    detector = det_inferencer.detector
    monkeypatch.setattr(det_inferencer, 'detector', None)
    plain = next(det_inferencer([img]))
    monkeypatch.setattr(det_inferencer, 'detector', detector)
    np.testing.assert_allclose(person['rel_trans'],
                               plain['persons'][0]['rel_trans'], atol=1e-6)


def test_several_people_give_several_results(det_inferencer, monkeypatch,
                                             tmp_path):
    img = cv2.imread(COCO_IMG)
    right_person = [330.0, 40.0, 600.0, 420.0]
    left_person = [20.0, 60.0, 300.0, 410.0]
    _stub_detections(monkeypatch,
                     [right_person, left_person, [5, 5, 50, 50],
                      [100, 100, 200, 200]], [0.9, 0.8, 0.99, 0.4],
                     [0, 0, 2, 0])
    rec = next(det_inferencer([img], out_dir=str(tmp_path)))
    persons = rec['persons']
    assert len(persons) == 2
    # left to right, with their detector scores
    np.testing.assert_allclose(persons[0]['body_bbox_xyxy'], left_person)
    np.testing.assert_allclose(persons[1]['body_bbox_xyxy'], right_person)
    assert persons[0]['body_bbox_score'] == pytest.approx(0.8)
    assert persons[1]['body_bbox_score'] == pytest.approx(0.9)
    # each person has its own patch: the patch box covers its person box
    for person in persons:
        x, y, bw, bh = person['patch_bbox_xywh']
        x1, y1, x2, y2 = person['body_bbox_xyxy']
        assert x <= x1 and y <= y1 and x + bw >= x2 - 1 and y + bh >= y2 - 1
    assert {'array_000_p0_hands.obj', 'array_000_p1_hands.obj'} <= set(
        rec['files'])
    # a lower person threshold lets the 0.4 person in; order by box centre
    # x: 150 (it), 160 (left person), 465 (right person)
    monkeypatch.setattr(det_inferencer, 'bbox_thr', 0.35)
    rec = next(det_inferencer([img]))
    np.testing.assert_allclose(
        [p['body_bbox_xyxy'] for p in rec['persons']],
        [[100, 100, 200, 200], left_person, right_person])


def test_detector_needs_a_checkpoint_and_an_existing_config(
        synthetic_mano_dir, tmp_path):
    from interwild_mm.apis import InterWildInferencer
    kwargs = dict(device='cpu', mano_dir=str(synthetic_mano_dir),
                  show_progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(ValueError, match='det_checkpoint'):
            InterWildInferencer(SMALL_CFG, None,
                                det_config=_rtmdet_tiny_config(), **kwargs)
        with pytest.raises(FileNotFoundError, match='detector config'):
            InterWildInferencer(SMALL_CFG, None,
                                det_config=str(tmp_path / 'nope.py'),
                                det_checkpoint='x.pth', **kwargs)
