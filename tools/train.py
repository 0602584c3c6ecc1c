"""Train an InterWild model with mmengine's Runner.

Example::

    python tools/train.py configs/interwild_ih26m_coco.py
    python tools/train.py configs/interwild_synthetic_quickstart.py \
        --work-dir work_dirs/quickstart --cfg-options train_batch_size=4
    bash tools/dist_train.sh configs/interwild_ih26m_coco.py 4 --amp

``--resume`` without a value resumes from the latest checkpoint in the work
dir (mmengine writes ``last_checkpoint`` there); with a path it resumes from
that checkpoint.
"""
import argparse
import os
import os.path as osp
import sys

# Make `interwild_mm` importable when the package is used from a checkout
# without `pip install -e .` (the setup script installs it editable anyway).
_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from interwild_mm.utils.config import (  # noqa: E402
    enable_visualization, merge_cfg_options, set_work_dir)
from interwild_mm.utils.dist import (  # noqa: E402
    destroy_process_group, init_cpu_process_group, use_cpu_backend)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train InterWild.')
    parser.add_argument('config', help='training config file path')
    parser.add_argument(
        '--work-dir', help='where to save logs and checkpoints')
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
        '--show-dir',
        help='save visualised validation predictions into this folder '
        '(relative to the work dir\'s timestamped folder)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.batch_size=8 mano_dir=/data/mano')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)

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

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr` '
                           '(enable, base_batch_size) in the config.')
        cfg.auto_scale_lr.enable = True

    enable_visualization(cfg, args.show_dir)

    merge_cfg_options(cfg, args.cfg_options)
    use_cpu_backend(cfg)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    init_cpu_process_group(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    destroy_process_group()


if __name__ == '__main__':
    main()
