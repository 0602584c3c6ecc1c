"""Tiny InterWild configs for fast CPU tests (same code paths, narrow nets).

Built from the real config file with overrides only, so the tests also
exercise the configs.
"""
import copy

from mmengine.config import Config

MAIN_CONFIG = 'configs/interwild_ih26m_coco.py'
#: the loss terms of InterWild's ``loss`` mode
#: (docs/official_conventions.md §2)
LOSS_TERMS = frozenset({
    'loss_rhand_bbox_center', 'loss_lhand_bbox_center',
    'loss_rhand_bbox_size', 'loss_lhand_bbox_size', 'loss_rel_trans',
    'loss_mano_pose', 'loss_mano_shape', 'loss_joint_cam',
    'loss_mano_mesh_cam', 'loss_joint_img', 'loss_mano_joint_img',
    'loss_joint_proj'
})


def tiny_resnet(depth: int = 18, base: int = 8) -> dict:
    return dict(
        type='ResNet',
        depth=depth,
        base_channels=base,
        stem_channels=base,
        out_indices=(3, ),
        init_cfg=None)


def tiny_model_cfg(mano_dir, first_conv_impl: str = 'factorised') -> dict:
    """ResNet-18 (width 8 -> 64 output channels) everywhere."""
    cfg = Config.fromfile(MAIN_CONFIG)
    model = copy.deepcopy(cfg.model.to_dict())
    model['mano'] = dict(model_dir=str(mano_dir))
    model['detect_net']['backbone'] = tiny_resnet()
    model['detect_net']['head'].update(in_channels=64,
                                       deconv_channels=(16, 16, 16))
    model['hand_roi']['backbone'] = tiny_resnet()
    model['shnet'].update(in_channels=64, pose_channels=16)
    model['trans_net'].update(
        backbone=tiny_resnet(), feat_channels=8, backbone_channels=64,
        first_conv_impl=first_conv_impl)
    return model
