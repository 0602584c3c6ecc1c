"""Official snapshot -> mmengine checkpoint conversion.

See docs/official_conventions.md §6.

The official key layout is generated here from the spec's description
(torchvision ResNet names + the head table), independently of the
converter's prefix map.
"""
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import interwild_mm.models  # noqa: F401
from interwild_mm.models.utils.official_ckpt import OfficialCheckpointError
from mmpose.registry import MODELS

CONFIG = 'configs/interwild_ih26m_coco.py'
sys.path.insert(0, 'tools')
from convert_official_checkpoint import convert_file  # noqa: E402


def _bn(prefix, c):
    return {
        f'{prefix}.weight': (c, ),
        f'{prefix}.bias': (c, ),
        f'{prefix}.running_mean': (c, ),
        f'{prefix}.running_var': (c, ),
        f'{prefix}.num_batches_tracked': (),
    }


def official_layout():
    """Key -> shape of the official network.

    See the table of docs/official_conventions.md §6.
    """
    shapes = OrderedDict()
    r50 = torchvision.models.resnet50().state_dict()
    r18 = torchvision.models.resnet18().state_dict()
    for k, v in r50.items():
        if not k.startswith('fc.'):
            shapes['body_backbone.' + k] = tuple(v.shape)
    for i, (cin, cout) in zip((0, 3, 6), ((2048, 256), (256, 256),
                                          (256, 256))):
        shapes[f'body_box_net.deconv.{i}.weight'] = (cin, cout, 4, 4)
        shapes.update(_bn(f'body_box_net.deconv.{i + 1}', 256))
    shapes['body_box_net.bbox_center.0.weight'] = (2, 256, 1, 1)
    shapes['body_box_net.bbox_center.0.bias'] = (2, )
    for h in ('rhand', 'lhand'):
        shapes[f'body_box_net.{h}_size.0.weight'] = (256, 256)
        shapes[f'body_box_net.{h}_size.0.bias'] = (256, )
        shapes[f'body_box_net.{h}_size.2.weight'] = (2, 256)
        shapes[f'body_box_net.{h}_size.2.bias'] = (2, )
    for k, v in r50.items():
        if not k.startswith('fc.'):
            shapes['hand_roi_net.backbone.' + k] = tuple(v.shape)
    shapes['hand_position_net.conv.0.weight'] = (168, 2048, 1, 1)
    shapes['hand_position_net.conv.0.bias'] = (168, )
    shapes['hand_rotation_net.conv.0.weight'] = (512, 2048, 1, 1)
    shapes['hand_rotation_net.conv.0.bias'] = (512, )
    shapes.update(_bn('hand_rotation_net.conv.1', 512))
    for name, (o, i) in (('root_pose_out', (6, 10815)),
                         ('pose_out', (90, 10815)),
                         ('shape_out', (10, 2048)), ('cam_out', (3, 2048))):
        shapes[f'hand_rotation_net.{name}.0.weight'] = (o, i)
        shapes[f'hand_rotation_net.{name}.0.bias'] = (o, )
    for k, v in r18.items():
        if not k.startswith('fc.'):
            shapes['hand_trans_net.backbone.' + k] = tuple(v.shape)
    shapes['hand_trans_net.conv.0.weight'] = (64, 2688, 3, 3)
    shapes['hand_trans_net.conv.0.bias'] = (64, )
    shapes.update(_bn('hand_trans_net.conv.1', 64))
    shapes['hand_trans_net.fc.0.weight'] = (3, 1028)
    shapes['hand_trans_net.fc.0.bias'] = (3, )
    return shapes


def _snapshot(path, mutate=None):
    g = torch.Generator().manual_seed(0)
    net = OrderedDict()
    for k, shp in official_layout().items():
        if k.endswith('num_batches_tracked'):
            net['module.' + k] = torch.tensor(7)
        else:
            net['module.' + k] = torch.randn(shp, generator=g)
    if mutate:
        mutate(net)
    torch.save(dict(epoch=6, network=net,
                    optimizer=dict(state={}, param_groups=[])), path)
    return net


def test_layout_counts():
    layout = official_layout()
    assert len(layout) == 810
    assert sum(k.endswith('num_batches_tracked') for k in layout) == 131


def test_convert_and_load_strict(tmp_path, synthetic_mano_dir):
    src, dst = tmp_path / 'snapshot_6.pth', tmp_path / 'iw.pth'

    def add_mano(net):  # an unfiltered dump: MANO keys are dropped
        net['module.mano_layer_right.v_template'] = torch.zeros(778, 3)

    net = _snapshot(src, add_mano)
    meta = convert_file(str(src), str(dst), CONFIG)
    # 810 official keys - the 6 keys of TransNet's unused ResNet-18 stem
    assert meta['num_keys'] == 804 and meta['dropped_mano_keys'] == 1
    assert meta['dropped_unused_keys'] == 6
    assert meta['epoch'] == 6
    ckpt = torch.load(dst, weights_only=True)
    assert not any(k.startswith(('trans_net.backbone.conv1.',
                                 'trans_net.backbone.bn1.'))
                   for k in ckpt['state_dict'])

    init_default_scope('mmpose')
    cfg = Config.fromfile(CONFIG)
    cfg.model.mano.model_dir = str(synthetic_mano_dir)
    for part in ('detect_net', 'hand_roi', 'trans_net'):
        cfg.model[part].backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    checks = {
        'body_box_net.deconv.0.weight': model.detect_net.head.deconv[0].weight,
        'body_box_net.lhand_size.2.bias': model.detect_net.head.lhand_size[2]
        .bias,
        'body_backbone.layer3.5.bn2.running_var':
        model.detect_net.backbone.layer3[5].bn2.running_var,
        'hand_roi_net.backbone.layer4.2.conv3.weight':
        model.hand_roi.backbone.layer4[2].conv3.weight,
        'hand_position_net.conv.0.weight':
        model.shnet.hand_position_net.conv[0].weight,
        'hand_rotation_net.pose_out.0.weight':
        model.shnet.hand_rotation_net.pose_out[0].weight,
        'hand_rotation_net.conv.1.running_mean':
        model.shnet.hand_rotation_net.conv[1].running_mean,
        'hand_trans_net.conv.0.weight': model.trans_net.conv[0].weight,
        'hand_trans_net.backbone.layer2.0.downsample.0.weight':
        model.trans_net.backbone.layer2[0].downsample[0].weight,
        'hand_trans_net.fc.0.weight': model.trans_net.fc[0].weight,
    }
    for key, tensor in checks.items():
        assert torch.equal(tensor, net['module.' + key]), key


def test_refuses_stray_and_misshaped_keys(tmp_path):
    src, dst = tmp_path / 's.pth', tmp_path / 'd.pth'
    _snapshot(src, lambda n: n.__setitem__('module.extra_head.weight',
                                           torch.zeros(3)))
    with pytest.raises(OfficialCheckpointError, match='extra_head.weight'):
        convert_file(str(src), str(dst), CONFIG)

    def bad_shape(n):
        n['module.hand_trans_net.fc.0.weight'] = torch.zeros(3, 1000)

    _snapshot(src, bad_shape)
    with pytest.raises(OfficialCheckpointError, match='trans_net.fc.0.weight'):
        convert_file(str(src), str(dst), CONFIG)

    _snapshot(src, lambda n: n.pop('module.body_box_net.bbox_center.0.bias'))
    with pytest.raises(OfficialCheckpointError,
                       match='detect_net.head.bbox_center.0.bias'):
        convert_file(str(src), str(dst), CONFIG)
    assert not dst.exists()


def test_only_the_six_stem_keys_are_dropped(tmp_path):
    """Other unknown TransNet backbone keys are still refused, and a
    snapshot without the stem keys converts as well."""
    src, dst = tmp_path / 's.pth', tmp_path / 'd.pth'

    def stray(n):
        n['module.hand_trans_net.backbone.conv0.weight'] = torch.zeros(3)

    _snapshot(src, stray)
    with pytest.raises(OfficialCheckpointError,
                       match='trans_net.backbone.conv0.weight'):
        convert_file(str(src), str(dst), CONFIG)

    def no_stem(n):
        for k in [k for k in n if k.startswith(
                ('module.hand_trans_net.backbone.conv1.',
                 'module.hand_trans_net.backbone.bn1.'))]:
            n.pop(k)

    _snapshot(src, no_stem)
    meta = convert_file(str(src), str(dst), CONFIG)
    assert meta['num_keys'] == 804 and meta['dropped_unused_keys'] == 0


def test_cfg_options_reach_the_model_checked_against(tmp_path):
    """tools/convert_official_checkpoint.py --cfg-options changes the model
    the snapshot is checked against (here: a 32^3 TransNet volume, whose
    first convolution has 2 * 21 * 32 input channels)."""
    src, dst = tmp_path / 's.pth', tmp_path / 'd.pth'
    _snapshot(src)
    res = subprocess.run(
        [sys.executable, 'tools/convert_official_checkpoint.py', str(src),
         str(dst), '--cfg-options', 'model.trans_net.hm_shape=[32,32,32]'],
        capture_output=True, text=True)
    assert res.returncode != 0
    assert ('trans_net.conv.0.weight: snapshot (64, 2688, 3, 3) vs model '
            '(64, 1344, 3, 3)') in res.stderr
    assert not dst.exists()


def test_cli(tmp_path):
    src, dst = tmp_path / 's.pth', tmp_path / 'd.pth'
    _snapshot(src)
    res = subprocess.run(
        [sys.executable, 'tools/convert_official_checkpoint.py', str(src),
         str(dst)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    ckpt = torch.load(dst, weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert len(ckpt['state_dict']) == 804
    assert '6 unused TransNet stem keys' in res.stdout


def test_weight_shapes_follow_the_model_sizes():
    """The shapes a snapshot is checked against come from the model's size
    description (here a 4-bin hand grid: PositionNet 21·4 channels,
    RotationNet unchanged), like the model the config builds."""
    from interwild_mm.models.utils import model_weight_shapes
    init_default_scope('mmpose')
    cfg = Config.fromfile(CONFIG).model.to_dict()
    for part in ('detect_net', 'hand_roi', 'trans_net'):
        cfg[part]['backbone']['init_cfg'] = None
    shapes = model_weight_shapes(cfg)
    assert shapes['shnet.hand_position_net.conv.0.weight'] == (168, 2048, 1,
                                                               1)
    cfg['hand_hm_shape'] = (4, 8, 8)
    shapes = model_weight_shapes(cfg)
    assert shapes['shnet.hand_position_net.conv.0.weight'] == (84, 2048, 1,
                                                               1)
    assert shapes['shnet.hand_rotation_net.pose_out.0.weight'] == (90,
                                                                   10815)
