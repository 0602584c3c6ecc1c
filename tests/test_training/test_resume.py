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
    return torch.load(path, map_location='cpu', weights_only=False)


def test_sigkill_mid_epoch_then_resume(tmp_path, synthetic_data,
                                       synthetic_mano_dir):
    opts = data_options(synthetic_data, synthetic_mano_dir)
    base = ['tools/train.py', CFG, '--no-validate', '--cfg-options'] + opts

    # 1) start, wait until epoch_1.pth is complete (mmengine writes
    #    `last_checkpoint` after the file) and epoch 2 has started, kill -9
    killed = tmp_path / 'killed'
    proc = subprocess.Popen(
        [sys.executable] + base[:2] + ['--work-dir', str(killed)] + base[2:],
        cwd=REPO, env=tool_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    ckpt1 = osp.join(str(killed), 'epoch_1.pth')
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            assert proc.poll() is None, 'training ended before it was killed'
            if (_last_checkpoint(killed).endswith('epoch_1.pth')
                    and f'Epoch(train) [2][1/{ITERS_PER_EPOCH}]'
                    in _logs(killed)):
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
    assert not osp.exists(osp.join(str(killed), 'epoch_2.pth')), \
        'killed too late: epoch 2 had finished'
    sha1 = _sha(ckpt1)
    mtime1 = os.stat(ckpt1).st_mtime_ns
    ckpt1_state = _state(ckpt1)
    assert ckpt1_state['meta']['epoch'] == 1
    assert ckpt1_state['meta']['iter'] == ITERS_PER_EPOCH
    n_logs = len(glob.glob(osp.join(str(killed), '*', '*.log')))

    # 2) restart with --resume: continues at epoch 2 / iter 4 and finishes
    proc2 = run_tool(base[:2] + ['--work-dir', str(killed), '--resume'] +
                     base[2:])
    logs = sorted(glob.glob(osp.join(str(killed), '*', '*.log')))
    assert len(logs) == n_logs + 1  # a new log; the killed run's is kept
    with open(logs[-1]) as fh:
        resumed_log = fh.read()
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in resumed_log
    train_lines = [
        line for line in resumed_log.splitlines() if 'Epoch(train)' in line
    ]
    assert f'Epoch(train) [2][1/{ITERS_PER_EPOCH}]' in train_lines[0]
    assert not any('Epoch(train) [1]' in line for line in train_lines)
    final = osp.join(str(killed), 'epoch_3.pth')
    assert _last_checkpoint(killed) == final
    final_state = _state(final)
    assert final_state['meta']['epoch'] == 3
    assert final_state['meta']['iter'] == 3 * ITERS_PER_EPOCH
    # the earlier checkpoint is untouched
    assert _sha(ckpt1) == sha1 and os.stat(ckpt1).st_mtime_ns == mtime1
    # progress/ETA and every loss term are logged
    for term in ('eta:', 'loss:', 'loss_rhand_bbox_center', 'loss_rel_trans',
                 'loss_mano_pose', 'loss_mano_shape', 'loss_joint_cam',
                 'loss_mano_mesh_cam', 'loss_joint_img',
                 'loss_mano_joint_img', 'loss_joint_proj'):
        assert term in train_lines[0], term
    del proc2

    # 3) an uninterrupted run ends with the same weights: the resumed run
    #    restored the model, optimizer and schedule of epoch 1 exactly
    ref = tmp_path / 'reference'
    run_tool(base[:2] + ['--work-dir', str(ref)] + base[2:])
    ref_state = _state(osp.join(str(ref), 'epoch_3.pth'))
    ref1 = _state(osp.join(str(ref), 'epoch_1.pth'))['state_dict']
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
