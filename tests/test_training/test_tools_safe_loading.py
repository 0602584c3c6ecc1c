# Copyright (c) interwild_mm contributors.
"""tools/train.py and tools/test.py switch safe checkpoint loading on: a
checkpoint that would run code is refused (``--resume`` and the checkpoint
to evaluate) with a one-line message and no traceback, and nothing in it
runs. Loading and resuming good checkpoints through the tools is covered by
test_resume.py and test_test_tool.py."""
from ..test_utils._malicious import write_malicious_checkpoint
from ._helpers import TINY_CFG, data_options, run_tool


def _assert_refused(proc, tool: str, evil, marker) -> None:
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f"{tool}: Refused to load checkpoint '{evil}'" in proc.stderr
    assert 'open' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not marker.exists()


def test_train_tool_refuses_malicious_resume(tmp_path, synthetic_data,
                                             synthetic_mano_dir):
    evil, marker = tmp_path / 'evil.pth', tmp_path / 'PWNED'
    write_malicious_checkpoint(evil, marker)
    proc = run_tool(
        ['tools/train.py', TINY_CFG, '--work-dir', str(tmp_path / 'run'),
         '--resume', str(evil), '--max-iters', '1', '--no-validate',
         '--cfg-options'] + data_options(synthetic_data, synthetic_mano_dir),
        check=False, timeout=600)
    _assert_refused(proc, 'tools/train.py', evil, marker)


def test_test_tool_refuses_malicious_checkpoint(tmp_path, synthetic_data,
                                                synthetic_mano_dir):
    evil, marker = tmp_path / 'evil.pth', tmp_path / 'PWNED'
    write_malicious_checkpoint(evil, marker)
    proc = run_tool(
        ['tools/test.py', TINY_CFG, str(evil), '--work-dir',
         str(tmp_path / 'test'), '--cfg-options'] +
        data_options(synthetic_data, synthetic_mano_dir),
        check=False, timeout=600)
    _assert_refused(proc, 'tools/test.py', evil, marker)
