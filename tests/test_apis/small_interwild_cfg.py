# Small InterWild for the inference tests: ResNet-18 backbones instead of
# ResNet-50, the factorised TransNet first convolution and a 16^3 TransNet
# volume. Same interfaces and output contract as the full model; random
# initialisation, no pretrained weights.
_base_ = ['../../configs/interwild_ih26m_coco.py']

_r18 = dict(
    type='ResNet', depth=18, out_indices=(3, ), init_cfg=None,
    norm_cfg=dict(type='BN', requires_grad=True))
model = dict(
    detect_net=dict(
        backbone=_r18, head=dict(in_channels=512,
                                 deconv_channels=(64, 64, 64))),
    hand_roi=dict(backbone=_r18),
    shnet=dict(in_channels=512),
    trans_net=dict(
        backbone=_r18, hm_shape=(16, 16, 16), first_conv_impl='factorised'))
