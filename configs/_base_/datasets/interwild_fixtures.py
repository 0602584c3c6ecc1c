# The mixed InterHand2.6M + COCO-WholeBody training data of
# interwild_ih26m_coco.py, pointed at the small real fixtures in tests/data/
# (no MANO files): for tools/browse_dataset.py and the dataset tests.
_base_ = ['./interwild_ih26m_coco.py']

fixtures_root = '{{ fileDirname }}/../../../tests/data/'
train_batch_size = 4
# the InterHand2.6M fixture: one annotation set for training and validation
ih26m_fixture = dict(
    type='InterHand26MDataset',
    data_root=fixtures_root + 'interhand2.6m/',
    ann_file='test_interhand2.6m_data.json',
    camera_file='test_interhand2.6m_camera.json',
    joint_file='test_interhand2.6m_joint_3d.json',
    data_prefix=dict(img=''))
train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(batch_size=train_batch_size),
    dataset=dict(datasets=[
        dict(ih26m_fixture, mano_file=None, pipeline=[]),
        dict(
            type='CocoWholeBodyHandsDataset',
            data_root=fixtures_root + 'coco_wholebody/',
            ann_file='test_coco_wholebody.json',
            mano_file=None,
            data_prefix=dict(img=''),
            pipeline=[]),
    ]))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ih26m_fixture,
        _delete_=True,
        pipeline=_base_.test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
