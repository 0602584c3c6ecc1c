"""Evaluate an InterWild checkpoint with mmengine's Runner.

Example::

    python tools/test.py configs/interwild_ih26m_coco.py \
        work_dirs/x/epoch_7.pth
    python tools/test.py configs/interwild_synthetic_quickstart.py \
        work_dirs/quickstart/best.pth --out results.pkl

Converted official snapshots (``tools/convert_official_checkpoint.py``) load
the same way. The checkpoint must fit the config's model exactly (no missing,
unexpected or mis-shaped key); otherwise the tool stops and names the keys
(``--non-strict`` evaluates anyway, with the unmatched weights left at their
initial values). The metric table (MPJPE / MPVPE / MRRPE / RRVE / IoU) is
printed at the end and written to ``<work_dir>/<timestamp>/<timestamp>.json``.
The checkpoint is loaded with ``weights_only=True`` and an exact allow-list
(the tool switches safe loading on first, see
``interwild_mm/utils/checkpoint.py``); one that carries code is refused
before anything in it runs.
"""
import argparse
import os
import os.path as osp
import sys

# Let idle OpenMP threads sleep instead of spinning; only effective before
# torch is imported (interwild_mm/engine/threads.py explains the rule).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from interwild_mm.engine.threads import configure_threads  # noqa: E402
from interwild_mm.utils.checkpoint import (  # noqa: E402
    UnsafeCheckpointError, enable_safe_checkpoint_loading)
from interwild_mm.utils.config import (  # noqa: E402
    ConfigOverrideError, add_cfg_options_argument, enable_visualization,
    merge_cfg_options, set_work_dir)
from interwild_mm.utils.dist import (  # noqa: E402
    destroy_process_group, init_cpu_process_group, use_cpu_backend)
from interwild_mm.utils.state_dict_check import (  # noqa: E402
    CheckpointMismatchError, check_checkpoint_fits)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test InterWild.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation logs')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--show-dir', help='save visualised predictions into this folder')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='evaluate even if the checkpoint does not fit the model '
        '(missing / unexpected / mis-shaped keys are listed and ignored)')
    add_cfg_options_argument(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'Checkpoint not found: {args.checkpoint}. Train one with '
            'tools/train.py or convert an official snapshot with '
            'tools/convert_official_checkpoint.py.')
    cfg.load_from = args.checkpoint

    enable_visualization(cfg, args.show_dir)

    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must end with .pkl or .pickle')
        if osp.exists(args.out):
            raise FileExistsError(
                f'{args.out} exists; choose another --out path (results are '
                'never overwritten silently).')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=args.out))

    merge_cfg_options(cfg, args.cfg_options)
    use_cpu_backend(cfg)
    return cfg


def load_checked(runner: Runner, checkpoint: str, strict: bool) -> None:
    """Load ``checkpoint`` into the runner's model after checking that it
    fits (:func:`check_checkpoint_fits`); with ``strict=False`` the
    mismatches are printed and the checkpoint is loaded as far as it fits.

    Raises:
        CheckpointMismatchError: ``strict`` and the checkpoint does not fit.
    """
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    result = check_checkpoint_fits(
        model, checkpoint, strict=strict,
        hint='Pass --non-strict to evaluate anyway.')
    if not result.ok:
        runner.logger.warning(
            f'--non-strict: {checkpoint} does not fit the model: '
            f'{result.summary()}; unmatched weights keep their initial '
            'values.')
    runner.load_checkpoint(checkpoint, map_location='cpu', strict=strict)


def format_metric_table(metrics: dict) -> str:
    """The evaluation results as a two-column text table.

    Distances (MPJPE / MPVPE / MRRPE / RRVE and variants) are millimetres,
    IoU is x100, ``*_joints_skipped`` counts joints without any valid sample
    (left out of the mean of per-joint means).
    """
    if not metrics:
        return 'no metrics'
    width = max(len(k) for k in metrics)
    lines = [f'{"metric":<{width}}  {"value":>10}  unit',
             '-' * (width + 18)]
    for k, v in metrics.items():
        if k.endswith('_joints_skipped'):
            unit = 'joints'
        else:
            unit = '%' if 'IoU' in k else 'mm'
        lines.append(f'{k:<{width}}  {float(v):>10.2f}  {unit}')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    enable_safe_checkpoint_loading()
    cfg = Config.fromfile(args.config)
    try:
        cfg = merge_args(cfg, args)
    except ConfigOverrideError as err:
        sys.exit(f'tools/test.py: {err}')
    configure_threads(cfg, phase='test')
    init_cpu_process_group(cfg)
    runner = Runner.from_cfg(cfg)
    try:
        load_checked(runner, args.checkpoint, strict=not args.non_strict)
    except (CheckpointMismatchError, UnsafeCheckpointError) as err:
        destroy_process_group(barrier=False)
        sys.exit(f'tools/test.py: {err}')
    metrics = runner.test()
    if runner.rank == 0:
        dataset = cfg.test_dataloader.dataset
        print(f'\nInterWild test results ({dataset.get("type")}, '
              f'{dataset.get("data_root")}):')
        print(format_metric_table(metrics), flush=True)
    destroy_process_group()


if __name__ == '__main__':
    main()
