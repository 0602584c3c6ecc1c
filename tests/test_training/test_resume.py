# Copyright (c) interwild_mm contributors.
"""A training run killed with SIGKILL mid-epoch and restarted with --resume
continues from the last checkpoint and finishes; nothing before that
checkpoint is lost (the checkpoint files are untouched and the result equals
an uninterrupted run's)."""
import glob
import hashlib
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import torch

from interwild_mm.utils.checkpoint import safe_torch_load
from ._helpers import HERE, REPO, data_options, run_tool, tool_env

CFG = osp.join(HERE, 'configs', 'tiny_resume.py')
ITERS_PER_EPOCH = 4


def _sha(path: str) -> str:
    with open(path, 'rb') as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _logs(work_dir) -> str:
    text = ''
    for f in sorted(glob.glob(osp.join(str(work_dir), '*', '*.log'))):
        with open(f) as fh:
            text += fh.read()
    return text


def _last_checkpoint(work_dir) -> str:
    p = osp.join(str(work_dir), 'last_checkpoint')
    if not osp.isfile(p):
        return ''
    with open(p) as fh:
        return fh.read().strip()


def _state(path: str) -> dict:
    # the project's safe loader reads what the tools wrote
    return safe_torch_load(path, map_location='cpu')


def _start_and_kill(cmd: list, work_dir) -> None:
    """Start training, wait until epoch_1.pth is complete (mmengine writes
    ``last_checkpoint`` after the file) and epoch 2 has started, kill -9."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=tool_env(),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            assert proc.poll() is None, 'training ended before it was killed'
            if (_last_checkpoint(work_dir).endswith('epoch_1.pth')
                    and f'Epoch(train) [2][1/{ITERS_PER_EPOCH}]'
                    in _logs(work_dir)):
                break
            time.sleep(0.2)
        else:
            raise AssertionError('no checkpoint within the time limit')
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not osp.exists(osp.join(str(work_dir), 'epoch_2.pth')), \
        'killed too late: epoch 2 had finished'


def _check_resumed_log(work_dir, n_logs: int) -> None:
    """The resumed run wrote a new log (the killed run's is kept), started
    at epoch 2 / iter 4 and logged progress and every loss term."""
    logs = sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))
    assert len(logs) == n_logs + 1
    with open(logs[-1]) as fh:
        resumed_log = fh.read()
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in resumed_log
    train_lines = [
        line for line in resumed_log.splitlines() if 'Epoch(train)' in line
    ]
    assert f'Epoch(train) [2][1/{ITERS_PER_EPOCH}]' in train_lines[0]
    assert not any('Epoch(train) [1]' in line for line in train_lines)
    for term in ('eta:', 'loss:', 'loss_rhand_bbox_center', 'loss_rel_trans',
                 'loss_mano_pose', 'loss_mano_shape', 'loss_joint_cam',
                 'loss_mano_mesh_cam', 'loss_joint_img',
                 'loss_mano_joint_img', 'loss_joint_proj'):
        assert term in train_lines[0], term


def _check_equals_uninterrupted(ref_dir, ckpt1_state: dict,
                                final_state: dict) -> None:
    """An uninterrupted run ends with the same weights: the resumed run
    restored the model, optimizer and schedule of epoch 1 exactly."""
    ref_state = _state(osp.join(str(ref_dir), 'epoch_3.pth'))
    ref1 = _state(osp.join(str(ref_dir), 'epoch_1.pth'))['state_dict']
    for k, v in ckpt1_state['state_dict'].items():
        torch.testing.assert_close(v, ref1[k], rtol=0, atol=0, msg=k)
    n_checked = 0
    for k, v in ref_state['state_dict'].items():
        if v.is_floating_point():
            torch.testing.assert_close(
                final_state['state_dict'][k], v, rtol=1e-4, atol=1e-5,
                msg=k)
            n_checked += 1
    assert n_checked > 50


def test_sigkill_mid_epoch_then_resume(tmp_path, synthetic_data,
                                       synthetic_mano_dir):
    opts = data_options(synthetic_data, synthetic_mano_dir)
    base = ['tools/train.py', CFG, '--no-validate', '--cfg-options'] + opts

    # 1) start, kill -9 once epoch 1 is saved and epoch 2 has started
    killed = tmp_path / 'killed'
    _start_and_kill(
        [sys.executable] + base[:2] + ['--work-dir', str(killed)] + base[2:],
        killed)
    ckpt1 = osp.join(str(killed), 'epoch_1.pth')
    sha1 = _sha(ckpt1)
    mtime1 = os.stat(ckpt1).st_mtime_ns
    ckpt1_state = _state(ckpt1)
    assert ckpt1_state['meta']['epoch'] == 1
    assert ckpt1_state['meta']['iter'] == ITERS_PER_EPOCH
    n_logs = len(glob.glob(osp.join(str(killed), '*', '*.log')))

    # 2) restart with --resume: continues at epoch 2 / iter 4 and finishes
    run_tool(base[:2] + ['--work-dir', str(killed), '--resume'] + base[2:])
    _check_resumed_log(killed, n_logs)
    final = osp.join(str(killed), 'epoch_3.pth')
    assert _last_checkpoint(killed) == final
    final_state = _state(final)
    assert final_state['meta']['epoch'] == 3
    assert final_state['meta']['iter'] == 3 * ITERS_PER_EPOCH
    # the earlier checkpoint is untouched
    assert _sha(ckpt1) == sha1 and os.stat(ckpt1).st_mtime_ns == mtime1

    # 3) the result equals an uninterrupted run's
    ref = tmp_path / 'reference'
    run_tool(base[:2] + ['--work-dir', str(ref)] + base[2:])
    _check_equals_uninterrupted(ref, ckpt1_state, final_state)
