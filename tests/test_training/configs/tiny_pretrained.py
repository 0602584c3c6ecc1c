# The tiny training model with an ImageNet-initialised TransNet ResNet-18
# (full width, torchvision://resnet18, as in the paper config) and the
# `pretrained` switch on, for the offline-start test.
_base_ = ['./tiny_interwild.py']

pretrained = True
model = dict(
    trans_net=dict(
        feat_channels=64,
        backbone_channels=512,
        backbone=dict(
            _delete_=True,
            type='ResNet',
            depth=18,
            out_indices=(3, ),
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet18'))))
