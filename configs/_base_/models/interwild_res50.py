# InterWild model (Moon, CVPR 2023): ResNet-50 body + ResNet-50 hand +
# ResNet-18 TransNet, exactly the official architecture
# (docs/official_conventions.md §1).
#
# ImageNet initialisation, as the official training
# (docs/official_conventions.md §0): both ResNet-50s start from torchvision's
# IMAGENET1K_V2 weights (`torchvision://resnet50.imagenet1k_v2`; plain
# `torchvision://resnet50` would be the V1 weights), TransNet's ResNet-18 from
# IMAGENET1K_V1 (`torchvision://resnet18`; its stem is not part of TransNet
# and is not loaded). They are downloaded once into the torch hub cache
# ($TORCH_HOME/hub/checkpoints/, default ~/.cache/torch/hub/checkpoints/);
# offline, copy the files there first (tools/train.py prints the command).
# `pretrained = False` (or --cfg-options pretrained=False) starts all three
# backbones from random weights instead; nothing is downloaded.
pretrained = True

# ---- sizes: one description, (H, W) for images, (D, H, W) for grids ----
# InterWild builds its InterWildSizes from these (model.input_size, ...,
# model.trans_net.hm_shape) and hands it to every part; no part repeats them.
input_size = (512, 384)  # (H, W) network input
body_input_size = (256, 192)  # (H, W) DetectNet input
body_hm_shape = (8, 64, 48)  # (D, H, W) box / 2.5D target grid
hand_crop_size = (256, 256)  # (H, W) HandRoI crop
hand_hm_shape = (8, 8, 8)  # (D, H, W) SHNet joint grid
trans_hm_shape = (64, 64, 64)  # (D, H, W) TransNet Gaussian volume

# the official loss terms (docs/official_conventions.md §2): masked L1 means
# over all elements; joint_cam and mano_mesh_cam carry the internal x10
_masked_l1 = dict(type='L1Loss', use_target_weight=True)

resnet_norm_cfg = dict(type='BN', requires_grad=True)
# the body and hand backbones: ResNet-50 with ImageNet (V2) weights
resnet50_imagenet = dict(
    type='ResNet',
    depth=50,
    out_indices=(3, ),
    norm_cfg=resnet_norm_cfg,
    init_cfg=dict(
        type='Pretrained', checkpoint='torchvision://resnet50.imagenet1k_v2'))

model = dict(
    type='InterWild',
    # The data pipeline (InterWildBodyAffine) already emits RGB uint8
    # patches, so the preprocessor only divides by 255
    # (docs/official_conventions.md §1.1).
    data_preprocessor=dict(
        type='InterWildDataPreprocessor', bgr_to_rgb=False),
    detect_net=dict(
        type='DetectNet',
        backbone=resnet50_imagenet,
        head=dict(
            type='DetectNetHead',
            in_channels=2048,
            deconv_channels=(256, 256, 256),
            loss_center=_masked_l1,
            loss_size=_masked_l1)),
    hand_roi=dict(
        type='HandRoI',
        aspect_ratio=1.0,
        extension=2.0,
        backbone=resnet50_imagenet),
    shnet=dict(
        type='SHNetHead',
        in_channels=2048,
        num_joints=21,
        camera_3d_size=0.6,
        legacy_axis_angle=True,
        loss_joint_img=dict(type='CoordLoss'),  # z gated by is_3D
        loss_mano_joint_img=_masked_l1,
        loss_joint_proj=_masked_l1,
        loss_joint_cam=dict(_masked_l1, loss_weight=10.0),
        loss_mano_mesh_cam=dict(_masked_l1, loss_weight=10.0),
        loss_mano_pose=dict(type='ManoPoseLoss'),
        loss_mano_shape=_masked_l1),
    trans_net=dict(
        type='TransNet',
        num_joints=21,
        hm_shape=trans_hm_shape,
        sigma=2.5,
        joint_box_extension=1.2,
        first_conv_impl='dense',
        loss_rel_trans=_masked_l1,
        # ResNet-18 with ImageNet (V1) weights
        backbone=dict(
            resnet50_imagenet,
            depth=18,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet18'))),
    # MANO_RIGHT.pkl / MANO_LEFT.pkl folder; None -> $INTERWILD_MANO_DIR,
    # then data/mano.
    mano=dict(model_dir=None),
    focal=(5000., 5000.),
    princpt=(128., 128.),
    input_size=input_size,
    body_input_size=body_input_size,
    body_hm_shape=body_hm_shape,
    hand_hm_shape=hand_hm_shape,
    crop_size=hand_crop_size)
