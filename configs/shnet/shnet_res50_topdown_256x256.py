# SHNet (InterWild's single-hand network) as a stock mmpose top-down model:
# ResNet-50 on 256x256 single-hand crops + SHNetHead (PositionNet +
# RotationNet). Left-hand crops are mirrored by HandFlipNormalize so every
# crop looks like a right hand; SHNetHead.predict un-mirrors them using the
# `flip_normalized` metainfo flag.
#
# Keypoints: InterWild's 21 single-hand joints (Wrist, Thumb_1..4, Index_1..4,
# Middle_1..4, Ring_1..4, Pinky_1..4), which is mmpose's hand keypoint order
# (metainfo: interwild_mm/datasets/metainfo/interwild_hand.py). The config
# works unchanged with mmpose's APIs (random weights when no checkpoint):
#
#   from mmpose.apis import init_model, inference_topdown, MMPoseInferencer
#   model = init_model(CONFIG, CHECKPOINT, device='cpu')
#   results = inference_topdown(model, 'hand.jpg', bboxes)  # xyxy boxes
#   inferencer = MMPoseInferencer(pose2d=CONFIG, pose2d_weights=CHECKPOINT,
#                                 det_model='whole_image', device='cpu')
#
# Handedness: mmpose's APIs pass only an image and a box, so the test
# pipeline takes a crop without `hand_type` as a right hand (used as it is;
# mirror left-hand crops yourself, or give `hand_type`). Samples that carry
# `hand_type` ('left'/'right') are flip-normalised as in InterWild.
#
# Data: the dataloaders below use mmpose's CocoWholeBodyHandDataset
# (COCO-WholeBody hand crops, 21 joints in this order; it has no
# handedness). Training needs a single-hand dataset giving `img`, `bbox`,
# `keypoints`, `hand_type` and the SHNet targets (`joint_img` in the 8x8x8
# grid, `mano_pose` (48), `mano_shape` (10) + validities, packed into
# gt_instance_labels); plug it into `train_dataloader`.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/schedules/interwild_7e.py'
]

input_size = (256, 256)  # (W, H) crop, mmpose's TopdownAffine order
# read by mmpose's MMPoseInferencer
data_mode = 'topdown'
dataset_type = 'CocoWholeBodyHandDataset'
data_root = 'data/MSCOCO/'
hand_metainfo = dict(
    from_file='{{ fileDirname }}/../../interwild_mm/datasets/metainfo/'
    'interwild_hand.py')
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
        # single-hand crops: the joint and MANO terms of the head
        # (docs/official_conventions.md §2) that have targets
        loss_joint_img=dict(type='CoordLoss', loss_weight=1.0),
        loss_mano_pose=dict(type='ManoPoseLoss', loss_weight=1.0),
        loss_mano_shape=dict(
            type='L1Loss', use_target_weight=True, loss_weight=1.0)),
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
# without `hand_type` a crop is taken as a right hand (see the top)
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='HandFlipNormalize', default_hand_type='right'),
    dict(type='PackPoseInputs', meta_keys=meta_keys),
]
val_pipeline = test_pipeline

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/coco_wholebody_train_v1.0.json',
        data_prefix=dict(img='images/train2017/'),
        metainfo=hand_metainfo,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    # the training set's entry on the validation split
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='annotations/coco_wholebody_val_v1.0.json',
        data_prefix=dict(img='images/val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PCKAccuracy', thr=0.2), dict(type='EPE')]
test_evaluator = val_evaluator

# the runtime of default_runtime.py with stock mmpose pieces in place of
# InterWild's: plain epoch checkpoints (no best MRRPE), mmpose's pose
# visualizer and (disabled) visualisation hook, mmengine's default seed
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=1, max_keep_ckpts=3),
    visualization=dict(
        _delete_=True, type='PoseVisualizationHook', enable=False))
visualizer = dict(type='PoseLocalVisualizer')
randomness = dict(seed=None)
