# Tiny InterWild for the training tests: the quickstart config (same
# architecture, pipeline, losses and metric) with ResNet-18 backbones at 1/8
# width (64 output channels), narrower heads, small batches, no workers and
# a log line every iteration. Data/MANO paths come from --cfg-options.
_base_ = ['../../../configs/interwild_synthetic_quickstart.py']

train_batch_size = 2
val_batch_size = 4
_backbone = dict(
    type='ResNet',
    depth=18,
    base_channels=8,
    stem_channels=8,
    out_indices=(3, ),
    norm_cfg=dict(type='BN', requires_grad=True),
    init_cfg=None)
model = dict(
    detect_net=dict(
        backbone=_backbone,
        head=dict(in_channels=64, deconv_channels=(16, 16, 16))),
    hand_roi=dict(backbone=_backbone),
    shnet=dict(in_channels=64, pose_channels=16),
    trans_net=dict(
        backbone=_backbone,
        hm_shape=(16, 16, 16),
        feat_channels=8,
        backbone_channels=64))
train_dataloader = dict(batch_size=train_batch_size, num_workers=0)
val_dataloader = dict(batch_size=val_batch_size, num_workers=0)
test_dataloader = dict(batch_size=val_batch_size, num_workers=0)
default_hooks = dict(logger=dict(interval=1))
log_processor = dict(window_size=1)
