# InterWild data: train on InterHand2.6M (3D) + COCO-WholeBody (2D), mixed
# as `train_mix` says (default: half of each in every batch); validate/test
# on HIC (default) and InterHand2.6M.
# Official annotation files, unchanged (docs/official_conventions.md §3).
# Pipelines, annotation layouts and the evaluation loader: interwild_common.py
# (`mano_dir` is set there). Data roots are top-level variables so a config
# can override them.
_base_ = ['./interwild_common.py']

ih26m_root = 'data/InterHand26M/'
coco_root = 'data/MSCOCO/'
hic_root = 'data/HIC/data/'
train_batch_size = 128
val_batch_size = 64
num_workers = 8
# How the two training sources are mixed (--cfg-options train_mix=NAME picks
# the entry of `train_samplers` below):
# * 'exact_half' (default): every batch is exactly half InterHand2.6M, half
#   COCO-WholeBody (mmpose MultiSourceSampler, source_ratio [1, 1]), as the
#   paper describes the training data; the default because it is what the
#   paper states and it gives every batch both kinds of supervision.
# * 'official_random': what the official code does
#   (docs/official_conventions.md §3.6): both sources brought to the length
#   of the longer one (the shorter cycled, its incomplete last cycle filled
#   with random indices), shuffled together; half/half only in expectation
#   (InterWildRandomMixSampler).
train_mix = 'exact_half'
train_samplers = dict(
    exact_half=dict(
        type='MultiSourceSampler',
        batch_size=train_batch_size,
        source_ratio=[1, 1],
        shuffle=True),
    official_random=dict(type='InterWildRandomMixSampler', shuffle=True))

# 42-keypoint two-hand layout, resolved from this file's folder (not the CWD)
hands_metainfo = dict(
    from_file='{{ fileDirname }}/../../../interwild_mm/datasets/metainfo/'
    'interwild_hands.py')

ih26m_train = dict(
    _base_.ih26m_format_train, data_root=ih26m_root, pipeline=[])
coco_train = dict(
    type='CocoWholeBodyHandsDataset',
    data_root=coco_root,
    ann_file='annotations/coco_wholebody_train_v1.0.json',
    mano_file='annotations/MSCOCO_train_MANO_NeuralAnnot.json',
    data_prefix=dict(img='images/train2017/'),
    pipeline=[])

train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=train_samplers[train_mix],
    dataset=dict(
        type='CombinedDataset',
        metainfo=hands_metainfo,
        datasets=[ih26m_train, coco_train],
        pipeline=_base_.train_pipeline,
        test_mode=False))

hic_test = dict(
    _base_.hic_format, data_root=hic_root, pipeline=_base_.test_pipeline)
ih26m_test = dict(
    _base_.ih26m_format_test,
    data_root=ih26m_root,
    annot_subset_file='aid_human_annot_test.txt',
    pipeline=_base_.test_pipeline)

val_dataloader = dict(
    batch_size=val_batch_size, num_workers=num_workers, dataset=hic_test)
test_dataloader = val_dataloader
# InterHand2.6M evaluation: test_dataloader = dict(..., dataset=ih26m_test)
