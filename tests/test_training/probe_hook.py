# Copyright (c) interwild_mm contributors.
"""Test-only hook: what the tools really built (imported by the tool
subprocesses through ``custom_imports``; its folder is put on PYTHONPATH).

``ProbeHook`` writes ``<work_dir>/probe_<phase>.json`` with the built
dataloader (workers, batch size, worker_init_fn), the main process's torch
threads and, for training, the learning rate and train loop.
"""
import json
import os.path as osp
from functools import partial

import torch
from mmengine.hooks import Hook

from mmpose.registry import HOOKS


def _loader_info(loader) -> dict:
    fn = loader.worker_init_fn
    if isinstance(fn, partial):
        fn = fn.func
    return dict(
        num_workers=loader.num_workers,
        batch_size=loader.batch_size,
        persistent_workers=loader.persistent_workers,
        worker_init_fn=getattr(fn, '__name__', None),
        dataset_len=len(loader.dataset))


@HOOKS.register_module()
class ProbeHook(Hook):

    def _dump(self, runner, phase: str, loader) -> None:
        info = dict(loader=_loader_info(loader),
                    torch_threads=torch.get_num_threads(),
                    loop=type(getattr(runner, f'{phase}_loop')).__name__)
        if phase == 'train':
            info['lr'] = runner.optim_wrapper.get_lr()['lr'][0]
            info['max_iters'] = runner.train_loop.max_iters
        with open(osp.join(runner.work_dir, f'probe_{phase}.json'), 'w') as f:
            json.dump(info, f)

    def before_train(self, runner) -> None:
        self._dump(runner, 'train', runner.train_dataloader)

    def before_test(self, runner) -> None:
        self._dump(runner, 'test', runner.test_dataloader)
