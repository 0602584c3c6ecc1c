# Tiny InterWild for the training tests: the quickstart config (same
# architecture, pipeline, losses and metric) with ResNet-18 backbones at 1/8
# width (64 output channels), narrower heads, small batches, no workers and
# a log line every iteration. Data/MANO paths come from --cfg-options.
_base_ = ['../../../configs/interwild_synthetic_quickstart.py']

train_batch_size = 2
val_batch_size = 4
# the quickstart's narrow ResNet-18 (`_backbone`) at half its width
_backbone = dict(base_channels=8, stem_channels=8)
model = dict(
    detect_net=dict(
        backbone=_backbone,
        head=dict(in_channels=64, deconv_channels=(16, 16, 16))),
    hand_roi=dict(backbone=_backbone),
    shnet=dict(in_channels=64, pose_channels=16),
    trans_net=dict(backbone=_backbone, feat_channels=8, backbone_channels=64))
train_dataloader = dict(batch_size=train_batch_size)
val_dataloader = dict(batch_size=val_batch_size)
test_dataloader = dict(batch_size=val_batch_size)
default_hooks = dict(logger=dict(interval=1))
log_processor = dict(window_size=1)
