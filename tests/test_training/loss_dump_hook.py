# Copyright (c) interwild_mm contributors.
"""Test-only hook for the distributed-loss test (imported by the training
subprocess through ``custom_imports``; its folder is put on PYTHONPATH).

* ``FreezeBNHook`` puts every BatchNorm in eval mode (running statistics)
  before each training iteration, so that a sample's loss does not depend
  on which other samples share its batch. (BN statistics of a batch of 1
  per rank differ from those of a batch of 2; CPU has no SyncBN.)
* ``DumpLossHook`` writes each rank's loss terms of the first iterations to
  ``<work_dir>/losses_rank<r>_iter<i>.json`` (mmengine logs rank 0 only).
"""
import json
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose.registry import HOOKS


@HOOKS.register_module()
class FreezeBNHook(Hook):
    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        for m in runner.model.modules():
            if isinstance(m, _BatchNorm):
                m.eval()


@HOOKS.register_module()
class DumpLossHook(Hook):

    def __init__(self, num_iters: int = 1) -> None:
        self.num_iters = num_iters

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter >= self.num_iters:  # runner.iter: 0-based, this iter
            return
        losses = {k: float(v.detach()) if hasattr(v, 'detach') else float(v)
                  for k, v in (outputs or {}).items()}
        ids = [s.metainfo.get('img_id', s.metainfo.get('id'))
               for s in data_batch['data_samples']]
        path = osp.join(runner.work_dir,
                        f'losses_rank{get_rank()}_iter{runner.iter}.json')
        with open(path, 'w') as fh:
            json.dump(dict(losses=losses, ids=ids,
                           batch_size=len(data_batch['data_samples'])), fh)
