# Copyright (c) interwild_mm contributors.
"""Helpers of the training tests: run tools/train.py / tools/test.py as
subprocesses (what users run) against the tiny configs in ``configs/``."""
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_interwild.py')


def data_options(data_root: Path, mano_dir: Path,
                 hic_test: bool = True) -> List[str]:
    """--cfg-options pointing the configs at the test data (``hic_test``:
    the config's test split is the HIC-format one)."""
    root = str(data_root).rstrip('/') + '/'
    opts = [f'synthetic_root={root}', f'mano_dir={mano_dir}']
    if hic_test:
        opts.append(f'test_dataloader.dataset.data_root={root}HIC/data/')
    return opts


def tool_env(extra_pythonpath: Optional[str] = None) -> Dict[str, str]:
    env = dict(os.environ)
    # one intra-op thread per process: the CI machine has 2 cores and the
    # distributed test runs two processes side by side.
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHONUNBUFFERED'] = '1'
    if extra_pythonpath:
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (extra_pythonpath, env.get('PYTHONPATH')) if p)
    return env


def run_tool(args: List[str], timeout: float = 300,
             env: Optional[Dict[str, str]] = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python <args>`` in the repository root; capture the output."""
    proc = subprocess.run([sys.executable] + args, cwd=REPO, env=env or
                          tool_env(), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    return proc
