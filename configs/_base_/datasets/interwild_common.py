# What the InterWild data configs share (docs/official_conventions.md §3):
# the data pipelines, the InterHand2.6M- and HIC-format annotation layouts
# and the evaluation loader. interwild_ih26m_coco.py (the licensed datasets)
# and interwild_synthetic.py (tools/make_synthetic_dataset.py) inherit this
# file and build their datasets from these entries, adding the data root and
# the pipeline, e.g.
#   dict(_base_.ih26m_format_train, data_root=ih26m_root, pipeline=[])
mano_dir = None  # MANO_{RIGHT,LEFT}.pkl folder; None = $INTERWILD_MANO_DIR

# A data config with another `mano_dir` points the target step
# (InterWildGenerateTarget) of these pipelines at it.
train_pipeline = [
    dict(type='LoadImage', color_type='color_ignore_orientation'),
    dict(type='InterWildRandomAugment'),
    dict(type='InterWildBodyAffine', input_size=(384, 512)),
    dict(type='InterWildGenerateTarget', mano_model_dir=mano_dir),
    dict(type='PackInterWildInputs'),
]
test_pipeline = [
    dict(type='LoadImage', color_type='color_ignore_orientation'),
    dict(type='InterWildBodyAffine', input_size=(384, 512)),
    dict(type='InterWildGenerateTarget', mano_model_dir=mano_dir),
    dict(type='PackInterWildInputs'),
]

# InterHand2.6M annotation files of a split, below the split's data_root
ih26m_format_train = dict(
    type='InterHand26MDataset',
    ann_file='annotations/train/InterHand2.6M_train_data.json',
    camera_file='annotations/train/InterHand2.6M_train_camera.json',
    joint_file='annotations/train/InterHand2.6M_train_joint_3d.json',
    mano_file='annotations/train/InterHand2.6M_train_MANO_NeuralAnnot.json',
    data_prefix=dict(img='images/train/'))
ih26m_format_test = dict(
    type='InterHand26MDataset',
    ann_file='annotations/test/InterHand2.6M_test_data.json',
    camera_file='annotations/test/InterHand2.6M_test_camera.json',
    joint_file='annotations/test/InterHand2.6M_test_joint_3d.json',
    mano_file='annotations/test/InterHand2.6M_test_MANO_NeuralAnnot.json',
    data_prefix=dict(img='images/test/'),
    test_mode=True)
# HIC: HIC.json and the images / meshes beside it
hic_format = dict(
    type='HICDataset',
    ann_file='HIC.json',
    data_prefix=dict(img=''),
    test_mode=True)

# Validation and test: every sample once, in order. A data config adds the
# batch size, the workers and the dataset.
val_dataloader = dict(
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
