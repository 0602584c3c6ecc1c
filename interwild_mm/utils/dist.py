"""Distributed training/testing on machines with or without a GPU.

mmengine's ``pytorch`` launcher assumes CUDA (NCCL, ``torch.cuda.set_device``);
these helpers let ``tools/train.py`` / ``tools/test.py`` (and
``tools/dist_train.sh``) run the same configs with gloo on CPU.
"""
from mmengine.config import Config


def use_cpu_backend(cfg: Config) -> None:
    """Use gloo for distributed runs on machines without a GPU.

    NCCL needs CUDA; the config's backend is kept when a GPU is present.
    """
    import torch
    if cfg.get('launcher', 'none') != 'none' and not torch.cuda.is_available():
        env_cfg = cfg.setdefault('env_cfg', {})
        env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'


def init_cpu_process_group(cfg: Config) -> None:
    """Start the gloo process group ourselves on a machine without CUDA.

    mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` before
    ``init_process_group``, which fails without a GPU; the Runner skips its
    own initialisation when a process group already exists. The model is
    wrapped in a CPU ``DistributedDataParallel`` (``device_ids=None``).
    """
    import torch
    import torch.distributed as dist
    if cfg.launcher != 'pytorch' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(
            backend=cfg.env_cfg.get('dist_cfg', {}).get('backend', 'gloo'))
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def destroy_process_group(barrier: bool = True) -> None:
    """Shut the process group down before exit (a gloo group left open can
    abort the interpreter at shutdown).

    Args:
        barrier (bool): wait for the other ranks first (normal end of a
            run); False when leaving early on an error every rank raises.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        if barrier:
            dist.barrier()
        dist.destroy_process_group()
