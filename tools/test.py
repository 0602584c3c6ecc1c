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

from interwild_mm.utils.checkpoint import UnsafeCheckpointError  # noqa: E402
from interwild_mm.utils.dist import destroy_process_group  # noqa: E402
from interwild_mm.utils.state_dict_check import (  # noqa: E402
    CheckpointMismatchError, check_checkpoint_fits)
from interwild_mm.utils.tools_common import (  # noqa: E402
    build_runner, exit_on, parse_runner_tool_args, runner_tool_parser)


def parse_args() -> argparse.Namespace:
    parser = runner_tool_parser(
        'Test InterWild.', config_help='config file path',
        work_dir_help='where to save the evaluation logs',
        show_dir_help='save visualised predictions into this folder')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='evaluate even if the checkpoint does not fit the model '
        '(missing / unexpected / mis-shaped keys are listed and ignored)')
    return parse_runner_tool_args(parser)


def merge_test_args(cfg: Config, args: argparse.Namespace) -> None:
    """Apply the test options to the config (the options every tool
    shares: :func:`~interwild_mm.utils.tools_common.merge_runner_tool_args`).
    """
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'Checkpoint not found: {args.checkpoint}. Train one with '
            'tools/train.py or convert an official snapshot with '
            'tools/convert_official_checkpoint.py.')
    cfg.load_from = args.checkpoint

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
    runner = build_runner('tools/test.py', args, merge_test_args,
                          phase='test')
    with exit_on('tools/test.py', CheckpointMismatchError,
                 UnsafeCheckpointError):
        load_checked(runner, args.checkpoint, strict=not args.non_strict)
    metrics = runner.test()
    if runner.rank == 0:
        dataset = runner.cfg.test_dataloader.dataset
        print(f'\nInterWild test results ({dataset.get("type")}, '
              f'{dataset.get("data_root")}):')
        print(format_metric_table(metrics), flush=True)
    destroy_process_group()


if __name__ == '__main__':
    main()
