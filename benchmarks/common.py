# Copyright (c) interwild_mm contributors.
"""Shared helpers of the benchmark scripts (timing, memory, machine info).

Run the scripts from the repository root, e.g.
``.venv/bin/python benchmarks/bench_forward.py``.
"""
import ctypes
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
# the model randomisation is shared with the tests (tests/test_models/
# _nontrivial.py): the repository root must be importable
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
MAIN_CONFIG = str(REPO / 'configs' / 'interwild_ih26m_coco.py')
FIXTURE_DIR = REPO / 'tests' / 'data' / 'interhand2.6m'
INPUT_HW = (512, 384)


# ----------------------------------------------------------------------
# machine / versions
def add_model_args(parser) -> None:
    """``--config``, ``--checkpoint`` and ``--mano-dir`` of every benchmark."""
    parser.add_argument('--config', default=MAIN_CONFIG,
                        help='model config of --checkpoint')
    parser.add_argument('--checkpoint', default=None,
                        help='trained weights (default: seeded random '
                        'weights)')
    parser.add_argument('--mano-dir', default=None,
                        help='MANO folder (default: a synthetic MANO)')


def machine_info() -> Dict:
    """CPU model, core count, memory, library versions, date, load."""
    info: Dict = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        python=platform.python_version(),
        platform=platform.platform(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
        cuda_available=torch.cuda.is_available(),
        device='cpu (the benchmarks run on the CPU)',
    )
    for mod in ('mmcv', 'mmengine', 'mmdet', 'mmpose', 'numpy', 'smplx'):
        try:
            info[mod] = __import__(mod).__version__
        except Exception as exc:  # pragma: no cover - informative only
            info[mod] = f'unavailable ({type(exc).__name__})'
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            key, _, val = line.partition(':')
            if key.strip() in ('Model name', 'CPU(s)', 'Thread(s) per core',
                               'Core(s) per socket', 'Hypervisor vendor',
                               'L2 cache', 'L3 cache'):
                info['lscpu_' + key.strip().replace(' ', '_').replace(
                    '(s)', 's')] = val.strip()
    except FileNotFoundError:  # pragma: no cover
        pass
    try:
        with open('/proc/meminfo') as f:
            info['mem_total_kb'] = int(f.readline().split()[1])
    except OSError:  # pragma: no cover
        pass
    info['loadavg_start'] = os.getloadavg()
    info['cpu_capability'] = torch.backends.cpu.get_cpu_capability()
    return info


# ----------------------------------------------------------------------
# model
def bench_model_cfg(mano_dir: str, first_conv_impl: str = 'dense') -> Dict:
    """The full-size InterWild config, offline (no pretrained download)."""
    from mmengine.config import Config
    cfg = Config.fromfile(MAIN_CONFIG)
    model = cfg.model.to_dict()
    model['mano'] = dict(model_dir=str(mano_dir))
    for key in ('detect_net', 'hand_roi', 'trans_net'):
        model[key]['backbone']['init_cfg'] = None
    model['trans_net']['first_conv_impl'] = first_conv_impl
    return model


def _randomise_for_benchmark(model: torch.nn.Module, seed: int) -> None:
    """Give the untrained model non-degenerate, input-dependent outputs.

    No trained checkpoint is available offline. With the default head
    init (std 1e-3) every box collapses to the image centre with size ~0
    and all joints to the grid centre, which is not representative. Here
    BN statistics/affines are randomised (so BN folding is exercised) and
    the head layers get larger weights, box sizes around 1/6 of the image.
    Timing does not depend on the values; parity checks become meaningful.
    """
    from tests.test_models._nontrivial import (randomise_bn,
                                               spread_boxes_and_joints)
    g = torch.Generator().manual_seed(seed)
    randomise_bn(model, spread=0.1, low=0.75, width=0.5, generator=g)
    spread_boxes_and_joints(model, g, centre_std=0.05, position_std=0.02)
    with torch.no_grad():
        for lin in (model.shnet.hand_rotation_net.root_pose_out[0],
                    model.shnet.hand_rotation_net.pose_out[0]):
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=g) * 0.02)
            lin.bias.copy_(torch.tensor([1., 0, 0, 0, 1, 0]).repeat(
                lin.bias.numel() // 6))
        tconv = model.trans_net.conv[0].weight
        tconv.copy_(torch.randn(tconv.shape, generator=g) * 1e-3)


def build_model(first_conv_impl: str = 'dense',
                mano_dir: Optional[str] = None,
                seed: int = 0) -> torch.nn.Module:
    """Full-size InterWild in eval mode with deterministic random weights."""
    from mmengine.registry import init_default_scope
    import interwild_mm  # noqa: F401 (registers the modules)
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    if mano_dir is None:
        mano_dir = synthetic_mano_dir()
    torch.manual_seed(seed)
    model = MODELS.build(bench_model_cfg(mano_dir, first_conv_impl))
    import logging
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    model.init_weights()
    _randomise_for_benchmark(model, seed)
    return model.eval()


def load_model(config: str, checkpoint: str,
               mano_dir: Optional[str] = None,
               first_conv_impl: Optional[str] = None) -> torch.nn.Module:
    """An InterWild of ``config`` with the weights of ``checkpoint``.

    Backbone ``init_cfg`` entries are dropped (no download), the checkpoint
    must match the model exactly (``strict=True``). MANO: ``mano_dir`` or
    the synthetic pair (meshes then differ from real MANO ones, the
    network outputs do not depend on it).
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    import interwild_mm  # noqa: F401 (registers the modules)
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model_cfg = Config.fromfile(config).model.to_dict()
    model_cfg['mano'] = dict(model_dir=str(mano_dir or synthetic_mano_dir()))
    for key in ('detect_net', 'hand_roi', 'trans_net'):
        model_cfg[key]['backbone']['init_cfg'] = None
    if first_conv_impl is not None:
        model_cfg['trans_net']['first_conv_impl'] = first_conv_impl
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                    logger='silent')
    return model.eval()


def synthetic_mano_dir() -> str:
    """A cached synthetic MANO pair (the real files are licensed)."""
    from interwild_mm.synthetic import write_synthetic_mano
    d = Path(tempfile.gettempdir()) / 'interwild_bench_mano'
    if not ((d / 'MANO_RIGHT.pkl').exists() and
            (d / 'MANO_LEFT.pkl').exists()):
        d.mkdir(parents=True, exist_ok=True)
        write_synthetic_mano(d)
    return str(d)


def make_inputs(batch: int) -> torch.Tensor:
    """``(batch, 3, 512, 384)`` RGB [0, 1] from the IH2.6M fixture images.

    The 334x512 fixture frames are resized to the 384x512 network input
    and cycled to fill the batch.
    """
    from interwild_mm.apis.export import load_images
    paths = sorted(FIXTURE_DIR.glob('*.jpg'))
    if not paths:
        raise FileNotFoundError(f'no fixture images in {FIXTURE_DIR}')
    return load_images(paths, INPUT_HW, batch=batch)


# ----------------------------------------------------------------------
# timing
def timeit(fn: Callable[[], object], warmup: int, reps: int) -> List[float]:
    """Wall times (s) of ``reps`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summarize(times: List[float]) -> Dict:
    return dict(
        median_s=statistics.median(times),
        min_s=min(times),
        max_s=max(times),
        reps=len(times),
        times_s=[round(t, 5) for t in times])


class StageTimer:
    """Accumulate wall time spent in named sub-modules via forward hooks.

    ``stages`` maps a stage name to one or more sub-module paths; the time
    of a stage is the sum over its modules' calls. Nested measurements are
    subtracted explicitly by the caller (e.g. crops = HandRoI - backbone).
    """

    def __init__(self, model: torch.nn.Module,
                 stages: Dict[str, List[str]]) -> None:
        self.totals: Dict[str, float] = {k: 0.0 for k in stages}
        self._handles = []
        self._start: Dict[int, float] = {}
        for name, paths in stages.items():
            for path in paths:
                mod = model.get_submodule(path)
                self._handles.append(
                    mod.register_forward_pre_hook(self._pre(id(mod))))
                self._handles.append(
                    mod.register_forward_hook(self._post(id(mod), name)))

    def _pre(self, key: int):
        def hook(module, args):
            self._start[key] = time.perf_counter()
        return hook

    def _post(self, key: int, name: str):
        def hook(module, args, output):
            self.totals[name] += time.perf_counter() - self._start.pop(key)
        return hook

    def reset(self) -> None:
        for k in self.totals:
            self.totals[k] = 0.0

    def remove(self) -> None:
        for h in self._handles:
            h.remove()


# ----------------------------------------------------------------------
# memory
def read_status_kb(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in kB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, clear_refs 5)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def malloc_trim() -> None:
    """Return freed heap pages to the OS (glibc) before a measurement."""
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except OSError:  # pragma: no cover - non-glibc
        pass


def run_json_subprocess(args: List[str], timeout: float = 900) -> Dict:
    """Run ``python args...`` (a fresh process), parse its last stdout line
    as JSON."""
    proc = subprocess.run([sys.executable] + args, capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO))
    if proc.returncode != 0:
        return dict(error=f'rc={proc.returncode}: ' +
                    proc.stderr.strip().splitlines()[-1]
                    if proc.stderr.strip() else f'rc={proc.returncode}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def num_threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def max_abs_diff(a: Dict[str, torch.Tensor],
                 b: Dict[str, torch.Tensor]) -> Dict[str, float]:
    return {
        k: float((a[k].double() - b[k].double()).abs().max())
        for k in a if isinstance(a[k], torch.Tensor) and k in b
    }


def to_jsonable(obj):
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj
