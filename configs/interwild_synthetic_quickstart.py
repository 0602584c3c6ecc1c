# InterWild on the synthetic data of tools/make_synthetic_dataset.py and the
# synthetic MANO of tools/make_synthetic_mano.py, sized to train on a 2-core
# CPU in a few minutes (`make quickstart` runs it via tools/quickstart.py):
#
#   python tools/make_synthetic_mano.py data/mano_synthetic
#   python tools/make_synthetic_dataset.py data/synthetic --num 500 \
#       --num-test 50 --num-hic 20
#   python tools/train.py configs/interwild_synthetic_quickstart.py
#   python tools/test.py configs/interwild_synthetic_quickstart.py \
#       work_dirs/interwild_synthetic_quickstart/epoch_24.pth
#
# Same model as configs/interwild_ih26m_coco.py: DetectNet -> HandRoI (square
# x2 crops from the predicted boxes, left crop mirrored) -> SHNet -> MANO ->
# TransNet, the same input (512x384), body (256x192), crop (256x256) and grid
# (48x64x8 body, 8x8x8 hand) sizes, the same data pipeline and every loss
# term of docs/official_conventions.md §2. Sized down, and why:
#
# * backbones: the full model (2x ResNet-50 + ResNet-18) took ~20 s per
#   training iteration of batch 4 on the (busy) 2-core machine, i.e. ~30
#   iterations in 10 minutes; this one ~1-3 s on the same busy machine and
#   ~0.15 s when idle. All three backbones are ResNet-18 at 1/4 width (base
#   16 channels, 128 output channels); the heads' channels follow
#   (DetectNet deconvs 32, SHNet pose features 64, TransNet features 16).
# * TransNet's Gaussian volume is 16^3 instead of 64^3, with the
#   factorised first convolution (mathematically the same as the dense
#   one, no volume materialised).
# * no pretrained weights (`pretrained = False`, `init_cfg=None`): there
#   are no ImageNet weights for the narrow backbones, and nothing is
#   downloaded.
# * schedule: Adam lr 1e-3 (10x the paper's: the batch is 4 instead of
#   512 and the backbones start from scratch), x0.1 for the last quarter,
#   24 short epochs (~2700 iterations, ~0.15 s each on 2 idle CPU cores);
#   validation every epoch on the held-out test captures (best checkpoint
#   by MRRPE). auto_scale_lr is off here.
# * augmentation: the paper's pipeline (InterWildRandomAugment) unchanged.
#
# The quickstart shows that everything trains and evaluates end to end; the
# numbers are not comparable to the paper's.
_base_ = [
    './_base_/default_runtime.py',
    './_base_/models/interwild_res50.py',
    './_base_/datasets/interwild_synthetic.py',
    './_base_/schedules/interwild_7e.py',
]

# ---- top-level variables ----
# synthetic_root ('data/synthetic/') and mano_dir ('data/mano_synthetic')
# come from _base_/datasets/interwild_synthetic.py; they, train_batch_size,
# val_batch_size (8) and num_workers can be overridden with --cfg-options
# NAME=VALUE (the tools propagate them to every place that uses them; the
# HIC split's root is test_dataloader.dataset.data_root). The schedule from
# the command line: train_cfg.max_epochs=E param_scheduler.0.end=E
# param_scheduler.0.milestones=[M] optim_wrapper.optimizer.lr=LR, or a short
# iteration-based run: tools/train.py CONFIG --max-iters N.
train_batch_size = 4
# 2-core machine: load in the main process. Threads: tools/train.py gives
# the main process max(1, cores // ranks - num_workers - 1) torch threads
# unless OMP_NUM_THREADS is set, lets idle OpenMP threads sleep
# (OMP_WAIT_POLICY=PASSIVE) and limits each data worker to one thread
# (interwild_mm/engine/threads.py); with the defaults, other jobs on the
# same cores made training ~20x slower.
num_workers = 0
pretrained = False
max_epochs = 24  # x 113 iterations of batch 4 (450 training images)
lr = 1e-3

# ---- model: the InterWild architecture, narrow backbones ----
_backbone = dict(
    type='ResNet',
    depth=18,
    base_channels=16,
    stem_channels=16,
    out_indices=(3, ),
    norm_cfg=dict(type='BN', requires_grad=True),
    init_cfg=None)
model = dict(
    detect_net=dict(
        backbone=_backbone,
        head=dict(in_channels=128, deconv_channels=(32, 32, 32))),
    hand_roi=dict(backbone=_backbone),
    shnet=dict(in_channels=128, pose_channels=64),
    trans_net=dict(
        backbone=_backbone,
        hm_shape=(16, 16, 16),
        feat_channels=16,
        backbone_channels=128,
        first_conv_impl='factorised'),
    mano=dict(model_dir=_base_.mano_dir))

# ---- data: synthetic InterHand2.6M-format train/test, HIC-format test ----
train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=num_workers,
    persistent_workers=False)
# validation (and the best checkpoint): the held-out test captures
val_dataloader = dict(num_workers=num_workers, persistent_workers=False)
# tools/test.py: the HIC-format split, HIC protocol
test_dataloader = dict(
    num_workers=num_workers,
    persistent_workers=False,
    dataset=dict(_base_.synthetic_hic, _delete_=True))
val_evaluator = dict(
    type='InterWildMetric', protocol='interhand26m', mano_dir=_base_.mano_dir)
test_evaluator = dict(
    type='InterWildMetric', protocol='hic', mano_dir=_base_.mano_dir)

# ---- schedule: the paper's, shorter, x0.1 for the last quarter ----
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(
        _base_.param_scheduler[0],
        end=max_epochs,
        milestones=[max_epochs * 3 // 4]),
]
auto_scale_lr = dict(base_batch_size=train_batch_size)

# ---- runtime: fewer checkpoints kept, more frequent logs ----
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(max_keep_ckpts=2),
    visualization=dict(interval=10))
log_processor = dict(window_size=10)
