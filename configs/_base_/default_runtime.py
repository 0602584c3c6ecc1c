# Runtime shared by every InterWild config.
#
# Registration: interwild_mm registers all its components directly into
# mmpose's registries, so configs run in mmpose's scope and may freely mix
# stock mmpose components (and `mmdet.`-prefixed mmdet ones) with ours.
# Safe checkpoint loading: importing `interwild_mm.utils.safe_loading` (when
# the config is read) makes mmengine load every checkpoint (load_from,
# resume, init_cfg Pretrained) with weights_only=True and an exact
# allow-list, and explains a failed torchvision:// download. `import
# interwild_mm` alone changes no mmengine loader; a config that replaces
# `custom_imports` should list both modules.
default_scope = 'mmpose'
custom_imports = dict(
    imports=['interwild_mm', 'interwild_mm.utils.safe_loading'],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keep the latest 3 epoch checkpoints and the best one by MRRPE (lower is
    # better); the metric prefix is the evaluator's (see the val evaluator).
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_best='MRRPE',
        rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='InterWildVisualizationHook', enable=False),
)

# CPU threads (interwild_mm/engine/threads.py, applied by tools/*.py):
# unless OMP_NUM_THREADS is set, the main process uses
# max(1, cores // ranks_on_this_machine - num_workers - 1) torch threads, idle
# OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE) and every data worker uses
# one torch / OpenCV thread (worker_init_fn `interwild_worker_init_fn`, which
# keeps mmengine's per-worker seeding).
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='InterWildVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
