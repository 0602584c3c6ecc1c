# The tiny model for the kill/resume test: 8 training images, batch 2
# (4 iterations per epoch), 3 epochs, a checkpoint every epoch (all kept),
# no random augmentation (so an interrupted+resumed run can be compared with
# an uninterrupted one: mmengine does not restore the RNG state).
_base_ = ['./tiny_interwild.py']

train_dataloader = dict(
    dataset=dict(indices=8, pipeline={{_base_.test_pipeline}}))
max_epochs = 3
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(_base_.param_scheduler[0], end=max_epochs, milestones=[2]),
]
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=1, max_keep_ckpts=-1))
