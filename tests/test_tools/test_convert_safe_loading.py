# Copyright (c) interwild_mm contributors.
"""tools/convert_official_checkpoint.py reads the snapshot with the safe
loader: a snapshot that would run code is refused with a one-line message,
no traceback, and nothing in it runs."""
import subprocess
import sys
from pathlib import Path

from ..test_utils._malicious import write_malicious_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_converter_refuses_malicious_snapshot(tmp_path):
    evil, marker = tmp_path / 'snapshot_6.pth', tmp_path / 'PWNED'
    write_malicious_checkpoint(evil, marker, top_key='epoch')
    out = tmp_path / 'converted.pth'
    proc = subprocess.run(
        [sys.executable, 'tools/convert_official_checkpoint.py',
         str(evil), str(out)],
        cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f'convert_official_checkpoint: refused {evil}' in proc.stderr
    assert f"Refused to load checkpoint '{evil}'" in proc.stderr
    assert 'open' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not marker.exists() and not out.exists()
