# Copyright (c) interwild_mm contributors.
"""CPU thread settings of the training and testing processes.

Why: PyTorch's default is one OpenMP thread per visible core, and OpenMP
threads spin while they wait for work. When other processes compete for
the same cores (a shared machine, data workers, several ranks), the
spinning threads steal the time the working thread needs, and one training
iteration of the quickstart took 12.6 s instead of 0.59 s with
``OMP_NUM_THREADS=1`` on a busy 2-core machine (identical losses).
Measured by ``benchmarks/bench_threads.py`` (2 cores, quickstart config,
no workers; s/iter, idle / one busy process, two runs): 2 spinning threads
(PyTorch's default) 0.36-0.39 / 1.17-1.20, 2 sleeping threads
(``OMP_WAIT_POLICY=PASSIVE``) 0.69 / 0.66, 1 thread 0.47-0.50 /
0.47-0.52. Leaving one core to the rest of the machine is the setting that
is never far from the best.

The rule (applied by ``tools/train.py``, ``tools/test.py`` and
``tools/quickstart.py`` through :func:`configure_threads`):

* **User first.** If ``OMP_NUM_THREADS`` is set, nothing is changed.
* **Main process:** ``torch.set_num_threads(n)`` with
  ``n = max(1, cores // ranks_on_this_machine - num_workers - 1)``: the
  cores this process may use (CPU affinity and the cgroup CPU quota) shared
  between the ranks of this machine and the data workers of the training
  (or test) loader, which each keep one core busy, less one core left to
  the rest of the machine (the OS, other jobs), so that a competing process
  does not deschedule an OpenMP thread that the others wait for.
* **Idle OpenMP threads sleep** (``OMP_WAIT_POLICY=PASSIVE``) instead of
  spinning. This only takes effect when set before torch is imported, so the
  tools set it (unless the user did) as their first statement; see
  :data:`THREAD_ENV_DEFAULTS`.
* **Data workers:** :func:`interwild_worker_init_fn` (registered in
  mmengine's ``FUNCTIONS``) keeps mmengine's per-worker seeding and limits
  torch (the InterWild pipeline runs MANO in torch inside the workers) and
  OpenCV to one thread each.

``benchmarks/bench_threads.py`` measures the old defaults against these
settings.
"""
import os
import random
import warnings
from typing import Any, Dict, Optional

import numpy as np
from mmengine.registry import FUNCTIONS

__all__ = [
    'THREAD_ENV_DEFAULTS', 'available_cpus', 'main_process_threads',
    'interwild_worker_init_fn', 'configure_threads'
]

#: environment defaults the tools set before importing torch.
THREAD_ENV_DEFAULTS: Dict[str, str] = {'OMP_WAIT_POLICY': 'PASSIVE'}

#: name of :func:`interwild_worker_init_fn` in mmengine's ``FUNCTIONS``.
WORKER_INIT_FN = 'interwild_worker_init_fn'


def _cgroup_cpu_limit() -> Optional[float]:
    """CPUs allowed by the cgroup CPU quota (v2 or v1), None if unlimited."""
    try:
        with open('/sys/fs/cgroup/cpu.max') as fh:
            quota, period = fh.read().split()[:2]
        if quota != 'max':
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        with open('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') as fh:
            quota = int(fh.read())
        with open('/sys/fs/cgroup/cpu/cpu.cfs_period_us') as fh:
            period = int(fh.read())
        return quota / period if quota > 0 else None
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """Cores this process may use: its CPU affinity, capped by the cgroup
    CPU quota (containers), at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        cpus = min(cpus, max(1, int(limit)))
    return max(1, cpus)


def main_process_threads(num_workers: int = 0,
                         local_world_size: int = 1,
                         cpus: Optional[int] = None) -> int:
    """The main-process thread count of the rule (module docstring).

    Args:
        num_workers (int): data workers of the loader that runs alongside.
        local_world_size (int): processes (ranks) on this machine.
        cpus (int, optional): cores available; default
            :func:`available_cpus`.

    Returns:
        int: ``max(1, cpus // local_world_size - num_workers - 1)``.
    """
    cpus = available_cpus() if cpus is None else int(cpus)
    return max(1, cpus // max(1, int(local_world_size)) - int(num_workers) -
               1)


@FUNCTIONS.register_module(name=WORKER_INIT_FN)
def interwild_worker_init_fn(worker_id: int,
                             num_workers: int,
                             rank: int,
                             seed: Optional[int],
                             threads: int = 1,
                             disable_subprocess_warning: bool = False) -> None:
    """Data-worker initialisation: mmengine's seeding + thread limits.

    Seeds ``numpy``, ``random`` and ``torch`` with
    ``num_workers * rank + worker_id + seed`` exactly like mmengine's
    default ``worker_init_fn`` (nothing is seeded when ``seed`` is None,
    as in mmengine), then limits torch's intra-op threads and OpenCV's
    threads to ``threads``.

    Args:
        worker_id (int): worker index in ``[0, num_workers)``.
        num_workers (int): workers of the loader.
        rank (int): global rank of the process owning the loader.
        seed (int, optional): the run's seed.
        threads (int): torch / OpenCV threads per worker. Defaults to 1.
        disable_subprocess_warning (bool): silence warnings in workers
            other than worker 0 (as mmengine).
    """
    import torch
    if seed is not None:
        worker_seed = num_workers * rank + worker_id + seed
        np.random.seed(worker_seed)
        random.seed(worker_seed)
        torch.manual_seed(worker_seed)
    torch.set_num_threads(threads)
    try:
        import cv2
        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover - OpenCV is a dependency
        pass
    if disable_subprocess_warning and worker_id != 0:
        warnings.simplefilter('ignore')


def _run_seed(cfg: Any) -> Optional[int]:
    """The seed mmengine's Runner will use (None when it draws one)."""
    randomness = cfg.get('randomness') or {}
    seed = randomness.get('seed')
    if seed is not None and randomness.get('diff_rank_seed', False):
        seed += _env_rank()
    return seed


def _env_rank() -> int:
    """Global rank from the launcher's environment (0 when not launched)."""
    for var in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(var):
            return int(os.environ[var])
    return 0


def configure_threads(cfg: Any, phase: str = 'train') -> Dict[str, Any]:
    """Apply the thread rule (module docstring) for a run of ``cfg``.

    Sets the main process's torch threads (unless ``OMP_NUM_THREADS`` is
    set) and gives every dataloader of ``cfg`` that has workers and no
    ``worker_init_fn`` of its own :func:`interwild_worker_init_fn`.

    Args:
        cfg (Config): the run's config (changed in place).
        phase (str): ``'train'`` or ``'test'``: whose loader's workers run
            alongside the main process.

    Returns:
        dict: ``threads`` (main process), ``source`` (``'OMP_NUM_THREADS'``
        or ``'rule'``), ``cpus``, ``local_world_size``, ``num_workers``.
    """
    import torch
    local_world_size = int(os.environ.get('LOCAL_WORLD_SIZE', 1))
    loader = cfg.get(f'{phase}_dataloader') or {}
    num_workers = int(loader.get('num_workers', 0) or 0)
    cpus = available_cpus()
    if os.environ.get('OMP_NUM_THREADS'):
        source = 'OMP_NUM_THREADS'
    else:
        source = 'rule'
        torch.set_num_threads(
            main_process_threads(num_workers, local_world_size, cpus))
    seed = _run_seed(cfg)
    rank = _env_rank()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg.get(key)
        if not dl or not dl.get('num_workers') or 'worker_init_fn' in dl:
            continue
        dl['worker_init_fn'] = dict(
            type=WORKER_INIT_FN,
            num_workers=int(dl['num_workers']),
            rank=rank,
            seed=seed,
            threads=1,
            disable_subprocess_warning=bool(
                dl.pop('disable_subprocess_warning', False)))
    return dict(threads=torch.get_num_threads(), source=source, cpus=cpus,
                local_world_size=local_world_size, num_workers=num_workers)
