"""Train an InterWild model with mmengine's Runner.

Example::

    python tools/train.py configs/interwild_ih26m_coco.py
    python tools/train.py configs/interwild_synthetic_quickstart.py \
        --work-dir work_dirs/quickstart --cfg-options train_batch_size=4
    bash tools/dist_train.sh configs/interwild_ih26m_coco.py 4 --amp
    python tools/train.py configs/interwild_ih26m_coco.py --max-iters 20 \
        --cfg-options pretrained=False train_batch_size=2 num_workers=0

``--resume`` without a value resumes from the latest checkpoint in the work
dir (mmengine writes ``last_checkpoint`` there); with a path it resumes from
that checkpoint.

``--max-iters N`` runs N iterations (an ``IterBasedTrainLoop``), validates
once at the end (unless ``--no-validate``) and saves ``iter_N.pth``; an
epoch-based LR schedule is converted to iterations (same fractions of the
run) or, for scheduler types without a known conversion, dropped; what was
done is printed.

Threads: unless ``OMP_NUM_THREADS`` is set, the main process uses
``max(1, cores // ranks - num_workers - 1)`` torch threads, idle OpenMP threads
sleep and data workers use one thread each
(``interwild_mm/engine/threads.py``).

Checkpoints (``load_from``, ``--resume``, ImageNet ``torchvision://``
weights) are loaded with ``weights_only=True`` and an exact allow-list: the
tool switches safe loading on before it builds the Runner
(``interwild_mm/utils/checkpoint.py``).
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

# Let idle OpenMP threads sleep instead of spinning; only effective before
# torch is imported (interwild_mm/engine/threads.py explains the rule).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

# Make `interwild_mm` importable when the package is used from a checkout
# without `pip install -e .` (the setup script installs it editable anyway).
_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from mmengine.config import Config, ConfigDict  # noqa: E402

from interwild_mm.engine.pretrained import PretrainedWeightsError  # noqa
from interwild_mm.utils.checkpoint import UnsafeCheckpointError  # noqa: E402
from interwild_mm.utils.dist import destroy_process_group  # noqa: E402
from interwild_mm.utils.tools_common import (  # noqa: E402
    build_runner, exit_on, parse_runner_tool_args, runner_tool_parser)

#: epoch-based schedulers whose epoch-valued arguments (below) are all there
#: is to convert; others are dropped by --max-iters.
CONVERTIBLE_SCHEDULERS = ('MultiStepLR', 'StepLR', 'CosineAnnealingLR',
                          'LinearLR', 'ConstantLR', 'PolyLR')
EPOCH_ARGS = ('begin', 'end', 'milestones', 'step_size', 'T_max')


def parse_args() -> argparse.Namespace:
    parser = runner_tool_parser(
        'Train InterWild.', config_help='training config file path',
        work_dir_help='where to save logs and checkpoints',
        show_dir_help='save visualised validation predictions into this '
        'folder (relative to the work dir\'s timestamped folder)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest checkpoint '
        'in the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size '
        '(uses `auto_scale_lr.base_batch_size` of the config)')
    parser.add_argument(
        '--max-iters',
        type=int,
        default=None,
        help='train this many iterations (iteration-based loop, validation '
        'at the end unless --no-validate, checkpoint iter_N.pth, the LR '
        'schedule converted to iterations)')
    return parse_runner_tool_args(parser)


def _scale(value, factor: float, max_iters: int):
    if isinstance(value, (list, tuple)):
        return [_scale(v, factor, max_iters) for v in value]
    if not isinstance(value, (int, float)) or value > 1e8:  # INF end
        return value
    return min(max_iters, max(0, int(round(value * factor))))


def convert_schedulers(schedulers, epochs: int, max_iters: int) -> tuple:
    """Epoch-based schedulers -> iteration-based, same fractions of the run.

    Args:
        schedulers (dict | list[dict]): ``param_scheduler`` of the config.
        epochs (int): length of the epoch-based run they were written for.
        max_iters (int): length of the iteration-based run.

    Returns:
        tuple: (converted list, messages).
    """
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    factor = max_iters / max(1, epochs)
    out, notes = [], []
    for sched in schedulers or []:
        sched = ConfigDict(sched)
        kind = sched.get('type', '?')
        if not sched.get('by_epoch', True):
            out.append(sched)
            notes.append(f'{kind} is iteration-based already: kept')
            continue
        base = kind.replace('Momentum', 'LR').replace('ParamScheduler', 'LR')
        if base not in CONVERTIBLE_SCHEDULERS:
            notes.append(f'{kind} (epoch-based) has no iteration '
                         'equivalent here: dropped')
            continue
        old = {k: sched[k] for k in EPOCH_ARGS if k in sched}
        for k in old:
            sched[k] = _scale(sched[k], factor, max_iters)
        sched.by_epoch = False
        sched.pop('convert_to_iter_based', None)
        notes.append(f'{kind}: ' + ', '.join(
            f'{k} {old[k]} -> {sched[k]}' for k in old) +
            f' (epochs of {epochs} -> iterations of {max_iters})')
        out.append(sched)
    return out, notes


def use_max_iters(cfg: Config, max_iters: int) -> List[str]:
    """Switch ``cfg`` to an ``IterBasedTrainLoop`` of ``max_iters``.

    Validation runs once at the end (``val_interval=max_iters``; dropped
    with ``--no-validate``), the checkpoint hook saves ``iter_<N>.pth`` at
    the end, the log shows ``Iter(train) [k/N]`` and the LR schedule is
    converted (:func:`convert_schedulers`).

    Returns:
        list[str]: what was changed, for the user.
    """
    if max_iters < 1:
        raise ValueError(f'--max-iters must be >= 1, got {max_iters}.')
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('type') == 'IterBasedTrainLoop':
        epochs = train_cfg.get('max_iters', max_iters)
    else:
        epochs = train_cfg.get('max_epochs', 1)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
    notes = [f'IterBasedTrainLoop for {max_iters} iterations, validation at '
             f'the end, checkpoint iter_{max_iters}.pth']
    if cfg.get('param_scheduler'):
        if train_cfg.get('type') == 'IterBasedTrainLoop':
            notes.append('param_scheduler: iteration-based already: kept')
        else:
            cfg.param_scheduler, sched_notes = convert_schedulers(
                cfg.param_scheduler, epochs, max_iters)
            notes += ['param_scheduler ' + n for n in sched_notes]
    hooks = cfg.get('default_hooks') or {}
    if hooks.get('checkpoint') is not None:
        hooks.checkpoint.update(by_epoch=False, interval=max_iters)
    if hooks.get('logger') is not None:
        hooks.logger.interval = min(hooks.logger.get('interval', 50),
                                    max_iters)
    if cfg.get('log_processor') is not None:
        cfg.log_processor.by_epoch = False
    return notes


def merge_train_args(cfg: Config, args: argparse.Namespace) -> None:
    """Apply the training options to the config (the options every tool
    shares: :func:`~interwild_mm.utils.tools_common.merge_runner_tool_args`).
    """
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.max_iters is not None:
        for note in use_max_iters(cfg, args.max_iters):
            print(f'--max-iters: {note}', flush=True)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr` '
                           '(enable, base_batch_size) in the config.')
        cfg.auto_scale_lr.enable = True


def main() -> None:
    args = parse_args()
    runner = build_runner('tools/train.py', args, merge_train_args,
                          phase='train', announce_threads=True)
    with exit_on('tools/train.py', PretrainedWeightsError,
                 UnsafeCheckpointError):
        runner.train()
    destroy_process_group()


if __name__ == '__main__':
    main()
