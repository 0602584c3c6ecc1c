# Copyright (c) interwild_mm contributors.
"""``import interwild_mm`` only registers components.

Checked in a fresh interpreter (this test session has long switched safe
loading on): mmengine's checkpoint loaders and ``load_from_http`` are
exactly what they were before the import, torch's allow-list gained nothing
(but what torch registers itself), and the synthetic-data generators are
not imported. Then the explicit step (under its older name
``patch_mmengine_checkpoint_loading``) replaces exactly the local, HTTP and
torchvision loaders.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Only mmengine-level facts are read before the explicit step, so the
# script says the same about any version of the package.
_SCRIPT = r'''
import json, sys
import torch
from mmengine.runner import checkpoint as mm

before = dict(mm.CheckpointLoader._schemes)
http_before = mm.load_from_http
safe_before = list(torch.serialization.get_safe_globals())

import interwild_mm  # noqa: F401


def changed(reference):
    now = mm.CheckpointLoader._schemes
    return sorted(p for p in set(reference) | set(now)
                  if reference.get(p) is not now.get(p))


schemes = mm.CheckpointLoader._schemes
out = dict(
    changed_by_import=changed(before),
    load_from_http_kept=mm.load_from_http is http_before,
    local_is_mmengine=schemes[''] is mm.load_from_local,
    http_is_mmengine=schemes['https://'] is http_before,
    torchvision_is_mmengine=(
        schemes['torchvision://'] is mm.load_from_torchvision),
    # torch registers a few of its own lazily (torch._dynamo); none else
    safe_globals_added=sorted(
        repr(g) for g in torch.serialization.get_safe_globals()
        if g not in safe_before and not getattr(
            g[0] if isinstance(g, tuple) else g, '__module__',
            '').startswith('torch')),
    generator_modules=sorted(
        m for m in sys.modules
        if m.startswith('interwild_mm.synthetic')
        or m in ('interwild_mm.mano.synthetic',
                 'interwild_mm.datasets.synthetic',
                 'interwild_mm.datasets.synthetic_files')),
)
print('IMPORT ' + json.dumps(out), flush=True)
after_import = dict(schemes)
from interwild_mm.utils import (patch_mmengine_checkpoint_loading,
                                safe_checkpoint_loading_enabled)
patch_mmengine_checkpoint_loading()
step = dict(
    changed_by_step=changed(after_import),
    load_from_http_replaced=mm.load_from_http is not http_before,
    enabled=safe_checkpoint_loading_enabled())
print('STEP ' + json.dumps(step))
'''


@pytest.fixture(scope='module')
def fresh_process() -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-c', _SCRIPT], cwd=str(REPO),
                          env=env, capture_output=True, text=True,
                          timeout=300)


def _report(proc: subprocess.CompletedProcess, tag: str) -> dict:
    lines = [x for x in proc.stdout.splitlines() if x.startswith(tag + ' ')]
    assert lines, f'no {tag} report:\n{proc.stderr[-4000:]}'
    return json.loads(lines[-1][len(tag) + 1:])


@pytest.fixture(scope='module')
def fresh_import(fresh_process) -> dict:
    return _report(fresh_process, 'IMPORT')


def test_import_leaves_mmengine_checkpoint_untouched(fresh_import):
    assert fresh_import['changed_by_import'] == []
    assert fresh_import['load_from_http_kept']
    assert fresh_import['local_is_mmengine']
    assert fresh_import['http_is_mmengine']
    assert fresh_import['torchvision_is_mmengine']
    assert fresh_import['safe_globals_added'] == []


def test_import_does_not_import_generators(fresh_import):
    assert fresh_import['generator_modules'] == []


def test_explicit_step_replaces_exactly_the_safe_loaders(fresh_process):
    step = _report(fresh_process, 'STEP')
    assert step['changed_by_step'] == [
        '', 'http://', 'https://', 'modelzoo://', 'torchvision://'
    ]
    assert step['load_from_http_replaced']
    assert step['enabled']
    assert fresh_process.returncode == 0, fresh_process.stderr[-4000:]
