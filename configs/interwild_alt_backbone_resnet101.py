# InterWild with ResNet-101 body and hand backbones (2048 output channels,
# stride 32, so every head is unchanged). TransNet keeps its ResNet-18.
_base_ = ['./interwild_ih26m_coco.py']

model = dict(
    detect_net=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))),
    hand_roi=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))))
