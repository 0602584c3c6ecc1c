# The paper's schedule (docs/official_conventions.md §0):
# Adam, lr 1e-4, x0.1 from epoch 4,
# 7 epochs (0..6).  The official code trains 128 images per GPU on 4 GPUs,
# i.e. a total batch of 512; `auto_scale_lr` rescales the lr linearly when
# `--auto-scale-lr` is given and the actual total batch differs.
max_epochs = 7
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(
        type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0))

param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[4],
        gamma=0.1),
]

auto_scale_lr = dict(enable=False, base_batch_size=512)
