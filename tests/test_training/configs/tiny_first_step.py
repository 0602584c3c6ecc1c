# The tiny model for the 1-process vs 2-process first-step loss test:
# deterministic data (no augmentation, DefaultSampler without shuffling,
# so a 2-rank run's first global batch is samples [0, 1] like the 1-process
# run's), every BatchNorm in eval mode (FreezeBNHook), one iteration unless
# tools/train.py --max-iters asks for more,
# per-rank losses dumped by DumpLossHook (tests/test_training/
# loss_dump_hook.py, put on PYTHONPATH by the test).
_base_ = ['./tiny_interwild.py']

custom_imports = dict(
    imports=[
        'interwild_mm', 'interwild_mm.utils.safe_loading', 'loss_dump_hook'
    ],
    allow_failed_imports=False)
train_dataloader = dict(
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline={{_base_.test_pipeline}}))
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=1, val_interval=1000)
param_scheduler = []
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=1000, by_epoch=False,
        save_last=False))
custom_hooks = [
    dict(type='FreezeBNHook'),
    dict(type='DumpLossHook', num_iters=1),
]
