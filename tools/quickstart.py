# Copyright (c) interwild_mm contributors.
"""`make quickstart`: train and evaluate InterWild on synthetic data (CPU).

Steps (every output goes to a new ``work_dirs/quickstart/<timestamp>/``;
nothing existing is modified or deleted):

1. the synthetic MANO model (``data/mano_synthetic``) and a synthetic
   two-hand dataset (``data/synthetic``) are generated if absent, reused
   otherwise;
2. the untrained model (same config and seed as the training run) is saved
   as ``init.pth`` and evaluated on the held-out synthetic test captures;
3. ``tools/train.py configs/interwild_synthetic_quickstart.py`` trains it;
4. the final checkpoint is evaluated on the same held-out captures, and
   ``tools/test.py`` prints the metric table of the HIC-format split;
5. ``demo/image_demo.py`` runs on a held-out synthetic image;
6. the before/after metrics and the output locations are printed.

Example::

    python tools/quickstart.py                # what `make quickstart` runs
    python tools/quickstart.py --max-epochs 2 # shorter
    python tools/quickstart.py --max-iters 50 --cfg-options num_workers=1

``--cfg-options`` overrides the config for every step (training, the
evaluations and tools/test.py), the same way as in tools/train.py.
Threads follow ``interwild_mm/engine/threads.py`` (one line: unless
``OMP_NUM_THREADS`` is set, ``max(1, cores - num_workers - 1)`` torch threads
and sleeping idle OpenMP threads).
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

# Let idle OpenMP threads sleep instead of spinning (before torch is
# imported; inherited by the tools this script runs).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

CONFIG = osp.join('configs', 'interwild_synthetic_quickstart.py')
#: metrics shown in the before/after table (held-out captures, mm / IoU x100)
REPORTED = ('MRRPE', 'MPVPE_all', 'MPJPE_all', 'RRVE', 'IoU')
#: default synthetic dataset size (images of the InterHand2.6M-format splits)
DEFAULT_NUM = 500
DEFAULT_NUM_TEST = 50
DEFAULT_NUM_HIC = 20


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train + evaluate InterWild on synthetic data (CPU).')
    parser.add_argument('--data-root', default='data/synthetic',
                        help='synthetic dataset (generated if absent)')
    parser.add_argument('--mano-dir', default='data/mano_synthetic',
                        help='synthetic MANO folder (generated if absent)')
    parser.add_argument('--work-root', default='work_dirs/quickstart',
                        help='a new timestamped folder is made in here')
    parser.add_argument('--num', type=int, default=DEFAULT_NUM,
                        help='dataset size when it has to be generated')
    parser.add_argument('--max-epochs', type=int, default=None,
                        help='override the config\'s max_epochs')
    parser.add_argument('--max-iters', type=int, default=None,
                        help='train this many iterations instead of epochs '
                        '(tools/train.py --max-iters)')
    parser.add_argument('--device', default='cpu', help='demo device')
    from interwild_mm.utils.config import add_cfg_options_argument
    add_cfg_options_argument(parser)
    return parser.parse_args(argv)


def build_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The ``--cfg-options`` of every step: the data and MANO folders, the
    schedule of ``--max-epochs`` and the user's ``--cfg-options`` (last, so
    they win)."""
    data_root = args.data_root.rstrip('/') + '/'
    overrides: Dict[str, Any] = {
        'synthetic_root': data_root,
        'mano_dir': args.mano_dir,
        'test_dataloader.dataset.data_root': data_root + 'HIC/data/',
    }
    if args.max_epochs is not None:
        overrides.update({
            'train_cfg.max_epochs': args.max_epochs,
            'param_scheduler.0.end': args.max_epochs,
            'param_scheduler.0.milestones':
            [max(1, args.max_epochs * 3 // 4)],
        })
    overrides.update(args.cfg_options or {})
    return overrides


def _cli_value(v: Any) -> str:
    if isinstance(v, list):
        return '[' + ','.join(_cli_value(x) for x in v) + ']'
    if isinstance(v, tuple):
        return '(' + ','.join(_cli_value(x) for x in v) + ',)'
    return str(v)


def overrides_to_cli(overrides: Dict[str, Any]) -> List[str]:
    """``key=value`` arguments for ``--cfg-options`` of the tools."""
    return [f'{k}={_cli_value(v)}' for k, v in overrides.items()]


def _run(cmd: List[str]) -> None:
    """Run a command (inherits stdout/stderr); raise if it fails."""
    print('\n$ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=_REPO_ROOT)


def ensure_mano(mano_dir: str) -> bool:
    """Write the synthetic MANO pair unless both files exist. True if made."""
    if all(osp.isfile(osp.join(mano_dir, f))
           for f in ('MANO_RIGHT.pkl', 'MANO_LEFT.pkl')):
        print(f'[quickstart] reusing the MANO model in {mano_dir}')
        return False
    if osp.exists(mano_dir) and os.listdir(mano_dir):
        raise FileExistsError(
            f'{mano_dir} exists but lacks MANO_RIGHT.pkl / MANO_LEFT.pkl; '
            'pass another --mano-dir (the quickstart never overwrites '
            'files).')
    _run([sys.executable, 'tools/make_synthetic_mano.py', mano_dir])
    return True


def _dataset_files(root: str) -> List[str]:
    files = [osp.join(root, 'HIC', 'data', 'HIC.json')]
    for split in ('train', 'test'):
        for kind in ('data', 'camera', 'joint_3d', 'MANO_NeuralAnnot'):
            files.append(
                osp.join(root, 'annotations', split,
                         f'InterHand2.6M_{split}_{kind}.json'))
    return files


def ensure_dataset(root: str, mano_dir: str, num: int) -> bool:
    """Generate the synthetic dataset unless it is complete. True if made."""
    files = _dataset_files(root)
    if all(osp.isfile(f) for f in files):
        print(f'[quickstart] reusing the synthetic dataset in {root}')
        return False
    if osp.exists(root) and os.listdir(root):
        missing = [f for f in files if not osp.isfile(f)]
        raise FileExistsError(
            f'{root} exists but is incomplete (missing {missing[0]}...); '
            'remove it yourself or pass another --data-root (the quickstart '
            'never deletes files).')
    _run([
        sys.executable, 'tools/make_synthetic_dataset.py', root, '--num',
        str(num), '--num-test',
        str(max(1, num * DEFAULT_NUM_TEST // DEFAULT_NUM)), '--num-hic',
        str(DEFAULT_NUM_HIC), '--mano-dir', mano_dir, '--seed', '0'
    ])
    return True


def _load_cfg(config: str, overrides: Dict[str, object], work_dir: str):
    from mmengine.config import Config

    from interwild_mm.engine.threads import configure_threads
    from interwild_mm.utils.config import merge_cfg_options
    cfg = Config.fromfile(osp.join(_REPO_ROOT, config))
    merge_cfg_options(cfg, overrides)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    configure_threads(cfg, phase='test')
    return cfg


def save_initial_checkpoint(config: str, overrides: Dict[str, object],
                            work_dir: str, out_file: str) -> None:
    """Save the untrained model exactly as the training run starts it.

    The Runner seeds the RNGs (``randomness.seed``) before building the
    model, and ``init_weights`` is what ``Runner.train`` calls, so this is
    the training run's starting point.
    """
    import torch
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
    cfg = _load_cfg(config, overrides, work_dir)
    cfg.experiment_name = 'init_' + time.strftime('%Y%m%d_%H%M%S')
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    state = weights_to_cpu(runner.model.state_dict())
    save_checkpoint(
        dict(meta=dict(epoch=0, iter=0, note='untrained (init_weights)'),
             state_dict=state), out_file)
    del runner
    torch.set_grad_enabled(True)


def evaluate_heldout(config: str, overrides: Dict[str, object],
                     checkpoint: str, work_dir: str,
                     tag: str) -> Dict[str, float]:
    """Metrics of ``checkpoint`` on the validation split (held-out
    synthetic captures, InterHand2.6M protocol)."""
    from mmengine.runner import Runner
    cfg = _load_cfg(config, overrides, work_dir)
    cfg.experiment_name = f'eval_{tag}_' + time.strftime('%Y%m%d_%H%M%S')
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    return {k: float(v) for k, v in metrics.items()}


def _first_test_image(root: str) -> str:
    with open(
            osp.join(root, 'annotations', 'test',
                     'InterHand2.6M_test_data.json')) as fh:
        images = json.load(fh)['images']
    return osp.join(root, 'images', 'test', images[0]['file_name'])


def _fmt(v: Optional[float]) -> str:
    return '   n/a' if v is None else f'{v:8.2f}'


def _new_work_dir(work_root: str) -> str:
    """Create ``work_root/<timestamp>`` (never an existing folder)."""
    work_dir = osp.join(work_root, time.strftime('%Y%m%d_%H%M%S'))
    while osp.exists(work_dir):  # never reuse a folder
        time.sleep(1)
        work_dir = osp.join(work_root, time.strftime('%Y%m%d_%H%M%S'))
    os.makedirs(work_dir)
    return work_dir


def train_and_test(args: argparse.Namespace, cli: List[str],
                   work_dir: str) -> Dict[str, Any]:
    """Steps 3-4: ``tools/train.py``, then ``tools/test.py`` on the HIC
    split. Returns ``checkpoint`` (the last one), ``best_checkpoint`` and
    ``train_seconds``."""
    t_train = time.time()
    iters = [] if args.max_iters is None else [
        '--max-iters', str(args.max_iters)]
    _run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir] +
         iters + ['--cfg-options'] + cli)
    train_s = time.time() - t_train
    with open(osp.join(work_dir, 'last_checkpoint')) as fh:
        last_ckpt = fh.read().strip()
    best = sorted(glob.glob(osp.join(work_dir, 'best_MRRPE_*.pth')))
    _run([sys.executable, 'tools/test.py', CONFIG, last_ckpt, '--work-dir',
          osp.join(work_dir, 'test_hic'), '--cfg-options'] + cli)
    return dict(checkpoint=last_ckpt,
                best_checkpoint=best[-1] if best else None,
                train_seconds=train_s)


def run_demo(args: argparse.Namespace, checkpoint: str,
             work_dir: str) -> Dict[str, str]:
    """Step 5: ``demo/image_demo.py`` on the first held-out test image."""
    demo_dir = osp.join(work_dir, 'demo')
    demo_img = _first_test_image(args.data_root)
    _run([
        sys.executable, 'demo/image_demo.py', demo_img, '--config', CONFIG,
        '--checkpoint', checkpoint, '--out-dir', demo_dir, '--device',
        args.device, '--mano-dir', args.mano_dir,
        # a few CPU minutes of training leave DetectNet's box confidences
        # low; show both hands like the official demo (threshold 0)
        '--hand-score-thr', '0'
    ])
    return dict(demo_dir=demo_dir, demo_image=demo_img)


def print_summary(summary: Dict[str, Any], work_dir: str) -> None:
    """Step 6: the before/after table and where everything is."""
    before, after = summary['before'], summary['after']
    print('\n' + '=' * 64)
    print('InterWild quickstart - held-out synthetic captures '
          '(InterHand2.6M protocol, mm; IoU x100)')
    print(f'{"metric":<12}{"untrained":>12}{"trained":>12}')
    for k in REPORTED:
        print(f'{k:<12}{_fmt(before.get(k)):>12}{_fmt(after.get(k)):>12}')
    print('-' * 64)
    print(f'training time     : {summary["train_seconds"] / 60:.1f} min '
          f'(total {summary["total_seconds"] / 60:.1f} min)')
    print(f'work dir          : {work_dir}')
    print(f'trained checkpoint: {summary["checkpoint"]}')
    if summary['best_checkpoint']:
        print(f'best (by MRRPE)   : {summary["best_checkpoint"]}')
    print(f'HIC-format test   : {osp.join(work_dir, "test_hic")}')
    print(f'demo outputs      : {summary["demo_dir"]}  '
          f'(input {summary["demo_image"]})')
    metrics_file = osp.join(work_dir, 'quickstart_metrics.json')
    print(f'metrics (json)    : {metrics_file}')
    print('=' * 64)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    t_start = time.time()
    os.chdir(_REPO_ROOT)
    # the in-process evaluations load checkpoints through mmengine
    from interwild_mm.utils.checkpoint import enable_safe_checkpoint_loading
    enable_safe_checkpoint_loading()
    # `--cfg-options` of tools/train.py / tools/test.py, and the same
    # overrides for the in-process evaluations; checked before any long step
    overrides = build_overrides(args)
    from interwild_mm.utils.config import ConfigOverrideError
    from interwild_mm.utils.tools_common import exit_on
    with exit_on('tools/quickstart.py', ConfigOverrideError):
        _load_cfg(CONFIG, overrides, args.work_root)
    cli = overrides_to_cli(overrides)
    work_dir = _new_work_dir(args.work_root)

    ensure_mano(args.mano_dir)
    ensure_dataset(args.data_root, args.mano_dir, args.num)

    # --- before: the untrained starting point --------------------------
    init_ckpt = osp.join(work_dir, 'init.pth')
    print('\n[quickstart] evaluating the untrained model (held-out '
          'captures)...', flush=True)
    save_initial_checkpoint(CONFIG, overrides, work_dir, init_ckpt)
    before = evaluate_heldout(CONFIG, overrides, init_ckpt, work_dir,
                              'before')
    # --- train, test, after, demo ----------------------------------------
    trained = train_and_test(args, cli, work_dir)
    after = evaluate_heldout(CONFIG, overrides, trained['checkpoint'],
                             work_dir, 'after')
    demo = run_demo(args, trained['checkpoint'], work_dir)

    summary = dict(before=before, after=after, **trained, **demo,
                   total_seconds=time.time() - t_start)
    with open(osp.join(work_dir, 'quickstart_metrics.json'), 'w') as fh:
        json.dump(summary, fh, indent=2)
    print_summary(summary, work_dir)


if __name__ == '__main__':
    main()
