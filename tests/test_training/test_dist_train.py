# Copyright (c) interwild_mm contributors.
"""tools/dist_train.sh with 2 CPU processes (gloo) trains several iterations
and validates, and its first step gives the same loss as 1 process with the
same total batch (2 = 2 x 1).

Several iterations matter: DistributedDataParallel only notices a parameter
without a gradient when the next iteration starts ("Expected to have
finished reduction in the prior iteration"), so a one-step run cannot catch
it.

Why the two must agree: every loss term is a mean over the batch's elements
(docs/official_conventions.md §2), so with equal per-rank batch sizes the mean
over ranks of the per-rank losses equals the loss of the whole batch in one
process, provided a sample's loss does not depend on its batch mates. BatchNorm
is the only layer coupling samples; CPU has no SyncBN, so the test config runs
every BN in eval mode (running statistics). The data are deterministic (no
random augmentation, unshuffled DefaultSampler: rank r takes samples r, r+2,
..., so the first global batch is samples 0 and 1 in both runs), and both runs
start from the same seed (DDP also broadcasts rank 0's weights).
"""
import json
import os.path as osp
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from ._helpers import HERE, REPO, data_options, run_tool, tool_env

CFG = osp.join(HERE, 'configs', 'tiny_first_step.py')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _read(path):
    with open(path) as fh:
        return json.load(fh)


@pytest.mark.slow  # ~1-2 min on 2 cores
def test_two_process_training_runs_and_first_step_matches_one_process(
        tmp_path, synthetic_data, synthetic_mano_dir):
    opts = data_options(synthetic_data, synthetic_mano_dir)
    env = tool_env(extra_pythonpath=HERE)

    one = tmp_path / 'one'
    run_tool(['tools/train.py', CFG, '--work-dir', str(one), '--no-validate',
              '--max-iters', '1', '--cfg-options'] + opts +
             ['train_batch_size=2'], env=env)

    # what a user types: 4 iterations on 2 processes, validation at the end
    two = tmp_path / 'two'
    env2 = dict(env, MASTER_PORT=str(_free_port()), PYTHON=sys.executable)
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir',
         str(two), '--max-iters', '4', '--cfg-options'] + opts +
        ['train_batch_size=1'],
        cwd=REPO, env=env2, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    assert "'backend': 'gloo'" in log
    assert 'Iter(train) [4/4]' in log
    # validation ran on both ranks and produced the metrics
    assert re.search(r'Iter\(val\) \[\d+/\d+\]\s+MPJPE_single', log), \
        log[-3000:]
    assert (two / 'iter_4.pth').is_file()

    ref = _read(one / 'losses_rank0_iter0.json')
    r0 = _read(two / 'losses_rank0_iter0.json')
    r1 = _read(two / 'losses_rank1_iter0.json')
    assert ref['batch_size'] == 2
    assert r0['batch_size'] == r1['batch_size'] == 1
    # same samples in the first global batch, split over the ranks
    assert r0['ids'] + r1['ids'] == ref['ids']

    assert set(ref['losses']) == set(r0['losses']) == set(r1['losses'])
    # float32 convolutions of a batch of 2 vs two batches of 1 differ in
    # the last bits only
    for k, v in ref['losses'].items():
        mean = 0.5 * (r0['losses'][k] + r1['losses'][k])
        np.testing.assert_allclose(mean, v, rtol=2e-4, atol=1e-6, err_msg=k)
    # and the two ranks saw different samples (a non-trivial comparison)
    assert r0['losses']['loss'] != pytest.approx(r1['losses']['loss'])
