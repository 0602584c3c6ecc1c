# SHNet (InterWild's single-hand network) as a stock mmpose top-down model:
# ResNet-50 on 256x256 single-hand crops + SHNetHead (PositionNet +
# RotationNet). Left-hand crops are mirrored by HandFlipNormalize so every
# crop looks like a right hand; SHNetHead.predict un-mirrors them using the
# `flip_normalized` metainfo flag.
#
# The dataset is not fixed here: any single-hand dataset giving `img`,
# `bbox`, `keypoints` (21, InterWild "sh" order), `hand_type` and optional
# MANO targets (`mano_pose` (48), `mano_shape` (10) + validity, packed into
# gt_instance_labels) can be plugged into `train_dataloader`.
_base_ = ['../_base_/schedules/interwild_7e.py']

default_scope = 'mmpose'
custom_imports = dict(imports=['interwild_mm'], allow_failed_imports=False)

input_size = (256, 256)  # (W, H) crop
heatmap_size = (8, 8, 8)  # (D, H, W) joint heatmap = 256 / 32

model = dict(
    type='TopdownPoseEstimator',
    # InterWild feeds RGB in [0, 1] without mean/std normalisation.
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=50, out_indices=(3, )),
    head=dict(
        type='SHNetHead',
        in_channels=2048,
        num_joints=21,
        heatmap_size=heatmap_size,
        input_size=input_size,
        focal=(5000., 5000.),
        camera_3d_size=0.6,
        legacy_axis_angle=True,
        loss_joint_img=dict(type='CoordLoss', loss_weight=1.0),
        loss_mano_pose=dict(type='ManoPoseLoss', loss_weight=1.0),
        loss_mano_shape=dict(type='ParamLoss', loss_weight=1.0)),
    test_cfg=dict(flip_test=False))

meta_keys = ('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
             'input_size', 'input_center', 'input_scale', 'hand_type',
             'flip_normalized')

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='HandFlipNormalize'),
    dict(type='PackPoseInputs', pack_transformed=True, meta_keys=meta_keys),
]
val_pipeline = train_pipeline
test_pipeline = val_pipeline

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='PoseLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
