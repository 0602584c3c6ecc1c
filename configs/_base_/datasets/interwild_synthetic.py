# Synthetic InterHand2.6M-format data (tools/make_synthetic_dataset.py) for
# smoke training / evaluation without the licensed datasets:
#   python tools/make_synthetic_mano.py data/mano_synthetic
#   python tools/make_synthetic_dataset.py data/synthetic
# Layout: <root>/annotations/{train,test}/InterHand2.6M_<split>_*.json,
# <root>/images/<split>/..., <root>/HIC/data/HIC.json + PLYs.
synthetic_root = 'data/synthetic/'
mano_dir = 'data/mano_synthetic'  # the synthetic MANO the data was made with
train_batch_size = 8
val_batch_size = 8
num_workers = 2

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


synthetic_train = dict(
    type='InterHand26MDataset',
    data_root=synthetic_root,
    ann_file='annotations/train/InterHand2.6M_train_data.json',
    camera_file='annotations/train/InterHand2.6M_train_camera.json',
    joint_file='annotations/train/InterHand2.6M_train_joint_3d.json',
    mano_file='annotations/train/InterHand2.6M_train_MANO_NeuralAnnot.json',
    data_prefix=dict(img='images/train/'),
    pipeline=train_pipeline)
synthetic_test = dict(
    type='InterHand26MDataset',
    data_root=synthetic_root,
    ann_file='annotations/test/InterHand2.6M_test_data.json',
    camera_file='annotations/test/InterHand2.6M_test_camera.json',
    joint_file='annotations/test/InterHand2.6M_test_joint_3d.json',
    mano_file='annotations/test/InterHand2.6M_test_MANO_NeuralAnnot.json',
    data_prefix=dict(img='images/test/'),
    pipeline=test_pipeline,
    test_mode=True)
synthetic_hic = dict(
    type='HICDataset',
    data_root=synthetic_root + 'HIC/data/',
    ann_file='HIC.json',
    data_prefix=dict(img=''),
    pipeline=test_pipeline,
    test_mode=True)

train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=synthetic_train)
val_dataloader = dict(
    batch_size=val_batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=synthetic_test)
test_dataloader = val_dataloader
# HIC-format split: test_dataloader = dict(..., dataset=synthetic_hic)
