# Copyright (c) interwild_mm contributors.
"""Thread settings of the tools (interwild_mm/engine/threads.py)."""
import random
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.registry import FUNCTIONS

from interwild_mm.engine import threads


@pytest.fixture
def keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_main_process_rule():
    # cores // ranks - workers - one core left to the rest of the machine
    assert threads.main_process_threads(0, 1, cpus=2) == 1
    assert threads.main_process_threads(0, 1, cpus=8) == 7
    assert threads.main_process_threads(1, 1, cpus=8) == 6
    assert threads.main_process_threads(0, 2, cpus=8) == 3
    assert threads.main_process_threads(8, 4, cpus=64) == 7
    assert threads.main_process_threads(8, 1, cpus=4) == 1  # at least one
    assert threads.available_cpus() >= 1


def test_worker_init_fn_keeps_mmengine_seeding_and_limits_threads(
        keep_threads):
    cv2 = pytest.importorskip('cv2')
    fn = FUNCTIONS.get('interwild_worker_init_fn')
    assert fn is threads.interwild_worker_init_fn
    torch.set_num_threads(2)
    mmengine_worker_init_fn(3, num_workers=4, rank=1, seed=7)
    ref = (np.random.rand(3), random.random(), torch.rand(3))
    fn(3, num_workers=4, rank=1, seed=7)
    ours = (np.random.rand(3), random.random(), torch.rand(3))
    np.testing.assert_array_equal(ref[0], ours[0])
    assert ref[1] == ours[1]
    assert torch.equal(ref[2], ours[2])
    assert torch.get_num_threads() == 1
    assert cv2.getNumThreads() == 1
    cv2.setNumThreads(0)


def test_configure_threads(monkeypatch, keep_threads):
    cfg = Config(dict(
        randomness=dict(seed=5),
        train_dataloader=dict(num_workers=1, batch_size=2,
                              disable_subprocess_warning=True),
        val_dataloader=dict(num_workers=0, batch_size=2),
        test_dataloader=dict(num_workers=2, batch_size=2,
                             worker_init_fn=dict(type='mine'))))
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '1')
    monkeypatch.setattr(threads, 'available_cpus', lambda: 4)
    info = threads.configure_threads(cfg, phase='train')
    assert info == dict(threads=2, source='rule', cpus=4, local_world_size=1,
                        num_workers=1)
    assert torch.get_num_threads() == 2
    assert cfg.train_dataloader.worker_init_fn == dict(
        type='interwild_worker_init_fn', num_workers=1, rank=1, seed=5,
        threads=1, disable_subprocess_warning=True)
    assert 'disable_subprocess_warning' not in cfg.train_dataloader
    assert 'worker_init_fn' not in cfg.val_dataloader  # no workers
    assert cfg.test_dataloader.worker_init_fn == dict(type='mine')  # kept
    # the user's OMP_NUM_THREADS wins
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    torch.set_num_threads(2)
    info = threads.configure_threads(Config(dict()), phase='test')
    assert info['source'] == 'OMP_NUM_THREADS' and info['threads'] == 2


def test_runner_builds_the_worker_init_fn():
    """mmengine's Runner turns the config entry into the registered
    function with the run's seed and rank."""
    from mmengine.runner import Runner
    cfg = Config(dict(
        randomness=dict(seed=3),
        train_dataloader=dict(
            num_workers=2, batch_size=1,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=list(range(4)))))
    threads.configure_threads(cfg)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=3)
    fn = loader.worker_init_fn
    assert isinstance(fn, partial)
    assert fn.func is threads.interwild_worker_init_fn
    assert fn.keywords['seed'] == 3 and fn.keywords['num_workers'] == 2
    assert list(loader) == [[0], [1], [2], [3]]  # the workers run it
