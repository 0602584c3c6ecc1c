# InterWild trained on InterHand2.6M (H+M) + COCO-WholeBody
# (docs/official_conventions.md §0, §2):
#   model     _base_/models/interwild_res50.py (2x ResNet-50 + ResNet-18)
#   data      _base_/datasets/interwild_ih26m_coco.py: half InterHand2.6M /
#             half COCO-WholeBody in every batch; validation and test on HIC
#   schedule  _base_/schedules/interwild_7e.py: Adam 1e-4, x0.1 at epoch 4,
#             7 epochs
#
# Batch: 128 images per GPU (`train_batch_size`), as the official code; its
# README trains on 4 GPUs, i.e. a total batch of 512 =
# `auto_scale_lr.base_batch_size`. With another number of GPUs or another
# per-GPU batch, add --auto-scale-lr to scale the lr linearly:
#   bash tools/dist_train.sh configs/interwild_ih26m_coco.py 4
#   python tools/train.py configs/interwild_ih26m_coco.py --auto-scale-lr \
#       --cfg-options train_batch_size=32
#
# Top-level variables (defined in the _base_ files; override them with
# --cfg-options NAME=VALUE, the value reaches every place that uses it):
#   ih26m_root ('data/InterHand26M/'), coco_root ('data/MSCOCO/'),
#   hic_root ('data/HIC/data/'), mano_dir (None = $INTERWILD_MANO_DIR, then
#   data/mano), train_batch_size (128 per GPU), val_batch_size (64),
#   num_workers (8), pretrained (True: ImageNet weights for the three
#   backbones, downloaded once; False: random initialisation, offline).
# A short run (e.g. to check a setup): tools/train.py CONFIG --max-iters 20
# (iteration-based loop, validation at the end, checkpoint iter_20.pth).
# Evaluation on InterHand2.6M instead of HIC:
#   configs/interwild_ih26m_coco_test_ih26m.py
_base_ = [
    './_base_/default_runtime.py',
    './_base_/models/interwild_res50.py',
    './_base_/datasets/interwild_ih26m_coco.py',
    './_base_/schedules/interwild_7e.py',
]

val_evaluator = dict(
    type='InterWildMetric', protocol='hic', mano_dir=_base_.mano_dir)
test_evaluator = val_evaluator
