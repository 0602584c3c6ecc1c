# Synthetic InterHand2.6M-format data (tools/make_synthetic_dataset.py) for
# smoke training / evaluation without the licensed datasets:
#   python tools/make_synthetic_mano.py data/mano_synthetic
#   python tools/make_synthetic_dataset.py data/synthetic
# Layout: <root>/annotations/{train,test}/InterHand2.6M_<split>_*.json,
# <root>/images/<split>/..., <root>/HIC/data/HIC.json + PLYs (the layouts,
# pipelines and evaluation loader of interwild_common.py).
_base_ = ['./interwild_common.py']

synthetic_root = 'data/synthetic/'
mano_dir = 'data/mano_synthetic'  # the synthetic MANO the data was made with
train_batch_size = 8
val_batch_size = 8
num_workers = 2

# the shared pipelines, their target step reading the synthetic MANO
train_pipeline = [
    dict(step, mano_model_dir=mano_dir) if 'mano_model_dir' in step else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, mano_model_dir=mano_dir) if 'mano_model_dir' in step else step
    for step in _base_.test_pipeline
]

synthetic_train = dict(
    _base_.ih26m_format_train,
    data_root=synthetic_root,
    pipeline=train_pipeline)
synthetic_test = dict(
    _base_.ih26m_format_test,
    data_root=synthetic_root,
    pipeline=test_pipeline)
synthetic_hic = dict(
    _base_.hic_format,
    data_root=synthetic_root + 'HIC/data/',
    pipeline=test_pipeline)

train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=synthetic_train)
val_dataloader = dict(
    batch_size=val_batch_size, num_workers=num_workers, dataset=synthetic_test)
test_dataloader = val_dataloader
# HIC-format split: test_dataloader = dict(..., dataset=synthetic_hic)
