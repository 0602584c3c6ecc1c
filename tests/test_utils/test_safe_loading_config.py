# Copyright (c) interwild_mm contributors.
"""A project config switches safe checkpoint loading on by itself.

In a fresh interpreter: after ``import interwild_mm`` mmengine's local
loader is still its own; reading ``configs/interwild_synthetic_quickstart.py``
(whose ``custom_imports`` list ``interwild_mm.utils.safe_loading``) switches
the safe loaders on, and a Runner built from that config refuses a
checkpoint that would run code, both as ``load_from`` and on resume, with
nothing from the file executed.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._malicious import write_malicious_checkpoint

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs' / 'interwild_synthetic_quickstart.py'

_SCRIPT = r'''
import json, os, sys
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mm

config, mano_dir, work_dir, evil, marker = sys.argv[1:6]


def local_loader():
    return mm.CheckpointLoader._schemes[''].__module__


import interwild_mm  # noqa: F401
out = dict(local_loader_after_import=local_loader())
from interwild_mm.utils.config import load_config
cfg = load_config(config, {'mano_dir': mano_dir, 'pretrained': False})
out['local_loader_after_config'] = local_loader()
cfg.work_dir = work_dir
cfg.load_from = evil
runner = Runner.from_cfg(cfg)
for mode, load in (('load_from', runner.load_or_resume),
                   ('resume', lambda: runner.resume(evil))):
    try:
        load()
        out[mode] = 'loaded'
    except Exception as err:  # reported, checked by the test
        out[mode] = f'{type(err).__name__}: {err}'
out['marker_exists'] = os.path.exists(marker)
print('RESULT ' + json.dumps(out))
'''


@pytest.fixture(scope='module')
def runner_report(tmp_path_factory, synthetic_mano_dir) -> dict:
    tmp = tmp_path_factory.mktemp('safe_cfg')
    marker, evil = tmp / 'PWNED', tmp / 'evil.pth'
    write_malicious_checkpoint(evil, marker)
    assert not marker.exists()
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-c', _SCRIPT, str(CONFIG), str(synthetic_mano_dir),
         str(tmp / 'work'), str(evil), str(marker)],
        cwd=str(REPO), env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
    out = json.loads(line[-1][len('RESULT '):])
    out['marker_exists'] = out['marker_exists'] or marker.exists()
    out['evil'] = str(evil)
    return out


def test_config_switches_safe_loading_on(runner_report):
    assert runner_report['local_loader_after_import'] == \
        'mmengine.runner.checkpoint'
    assert runner_report['local_loader_after_config'] == \
        'interwild_mm.utils.checkpoint'


@pytest.mark.parametrize('mode', ['load_from', 'resume'])
def test_runner_from_project_config_refuses_malicious_checkpoint(
        runner_report, mode):
    message = runner_report[mode]
    assert message.startswith('UnsafeCheckpointError: Refused to load '
                              f"checkpoint '{runner_report['evil']}'")
    assert 'open' in message
    assert not runner_report['marker_exists']
