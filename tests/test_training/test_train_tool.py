# Copyright (c) interwild_mm contributors.
"""tools/train.py as a user runs it: --cfg-options reach the built objects,
--max-iters gives a short iteration-based run, thread settings are chosen,
and an offline start explains the ImageNet download and how to avoid it."""
import json
import os.path as osp

import pytest
import torch

from ._helpers import HERE, TINY_CFG, data_options, run_tool, tool_env

PROBE_CFG = osp.join(HERE, 'configs', 'tiny_probe.py')
PRETRAINED_CFG = osp.join(HERE, 'configs', 'tiny_pretrained.py')


def _read(path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def test_overrides_max_iters_and_threads(tmp_path, synthetic_data,
                                         synthetic_mano_dir):
    work = tmp_path / 'run'
    env = tool_env(extra_pythonpath=HERE)
    env.pop('OMP_NUM_THREADS')  # the tool's own rule applies
    proc = run_tool(
        ['tools/train.py', PROBE_CFG, '--work-dir', str(work),
         '--max-iters', '2', '--cfg-options'] +
        data_options(synthetic_data, synthetic_mano_dir) +
        ['num_workers=1', 'train_batch_size=3',
         'optim_wrapper.optimizer.lr=0.0025'], env=env, timeout=600)
    probe = _read(work / 'probe_train.json')
    # top-level variables reach the built DataLoader
    assert probe['loader']['num_workers'] == 1
    assert probe['loader']['batch_size'] == 3
    assert probe['loader']['worker_init_fn'] == 'interwild_worker_init_fn'
    assert probe['lr'] == pytest.approx(0.0025)
    # --max-iters: iteration-based loop, checkpoint by iteration,
    # validation at the end
    assert probe['loop'] == 'IterBasedTrainLoop' and probe['max_iters'] == 2
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [2/2]' in log
    assert 'MultiStepLR: begin 0 -> 0, end 24 -> 2' in log
    assert (work / 'iter_2.pth').is_file()
    assert 'MRRPE' in log and (work / 'best_MRRPE_iter_2.pth').is_file()
    # threads: max(1, cores - workers) in the main process
    cores = len(__import__('os').sched_getaffinity(0))
    assert probe['torch_threads'] == max(1, cores - 1)
    assert 'CPU threads: ' in log


def test_ignored_override_is_refused(tmp_path, synthetic_data,
                                     synthetic_mano_dir):
    proc = run_tool(
        ['tools/train.py', TINY_CFG, '--work-dir', str(tmp_path),
         '--cfg-options'] + data_options(synthetic_data, synthetic_mano_dir) +
        ['max_epochs=2'], check=False)
    assert proc.returncode == 1
    assert 'max_epochs=2 would have no effect' in proc.stderr
    assert 'train_cfg.max_epochs' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_offline_start_explains_imagenet_download(tmp_path, synthetic_data,
                                                  synthetic_mano_dir):
    """No internet (an unreachable proxy; nothing leaves the machine) and an
    empty torch hub cache: a clear message, no traceback, exit status 1;
    ``pretrained=False`` then trains offline."""
    env = tool_env()
    for var in ('no_proxy', 'NO_PROXY'):
        env.pop(var, None)
    unreachable = 'http://127.0.0.1:9'  # discard port: connection refused
    env.update(TORCH_HOME=str(tmp_path / 'torch_home'),
               https_proxy=unreachable, HTTPS_PROXY=unreachable,
               http_proxy=unreachable, HTTP_PROXY=unreachable)
    args = ['tools/train.py', PRETRAINED_CFG, '--work-dir',
            str(tmp_path / 'run'), '--max-iters', '1', '--no-validate',
            '--cfg-options'] + data_options(synthetic_data, synthetic_mano_dir)
    proc = run_tool(args, env=env, check=False, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    err = proc.stderr
    assert 'Could not download the ImageNet weights torchvision://resnet18' \
        in err
    cached = osp.join(str(tmp_path / 'torch_home'), 'hub', 'checkpoints',
                      'resnet18-f37072fd.pth')
    assert cached in err
    assert 'torch.hub.load_state_dict_from_url(' in err
    assert '--cfg-options pretrained=False' in err
    assert 'Traceback' not in err

    proc = run_tool(args + ['pretrained=False'], env=env, timeout=600)
    assert (tmp_path / 'run' / 'iter_1.pth').is_file()
    ckpt = torch.load(tmp_path / 'run' / 'iter_1.pth', weights_only=False)
    assert 'trans_net.backbone.layer1.0.conv1.weight' in ckpt['state_dict']
