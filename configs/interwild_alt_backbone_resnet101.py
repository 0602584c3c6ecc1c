# InterWild with ResNet-101 body and hand backbones (2048 output channels,
# stride 32, so every head is unchanged). TransNet keeps its ResNet-18.
# ImageNet init: torchvision's IMAGENET1K_V2 weights, like the ResNet-50s of
# the paper config (`pretrained=False` switches them off).
_base_ = ['./interwild_ih26m_coco.py']

model = dict(
    detect_net=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='torchvision://resnet101.imagenet1k_v2'))),
    hand_roi=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='torchvision://resnet101.imagenet1k_v2'))))
