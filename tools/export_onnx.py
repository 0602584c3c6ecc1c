# Copyright (c) interwild_mm contributors.
"""Export an InterWild checkpoint to ONNX (or TorchScript).

Usage::

    python tools/export_onnx.py CONFIG CHECKPOINT OUT.onnx \\
        [--batch-size 2] [--static-batch] [--opset 18] [--speed none|exact] \\
        [--mano-dir DIR] [--cfg-options KEY=VALUE ...] \\
        [--check] [--check-images IMG ...] [--overwrite]
    python tools/export_onnx.py CONFIG CHECKPOINT OUT.pt --format torchscript

The graph is the model's ``mode='tensor'`` forward
(``docs/official_conventions.md §1.11``): input ``inputs``, ``(N, 3, H, W)``
float32 RGB in [0, 1] (uint8 RGB / 255 of the body patch); one named output
per test-mode output (``rel_trans``, ``rhand_bbox``, ``rhand_bbox_conf``,
``rjoint_img``, ``rmano_mesh_cam``, ... ``render_princpt``; the names are
printed and stored in the file's metadata). MANO is inside the graph: the
file carries the MANO model data (licensed), unlike a checkpoint.

ONNX: ``torch.onnx.export`` (dynamo exporter; needs
``requirements/export.txt``), opset >= 18 (the lowest torch 2.12's exporter
writes), one file with the weights, a dynamic batch axis unless
``--static-batch`` (then the batch size is ``--batch-size``). For the export
the hand crops invert their affines in closed form
(``HandRoI(inverse='closed_form')``; ``linalg_inv`` has no ONNX operator):
onnxruntime's outputs differ from the PyTorch model's by float32 rounding
(see ``--check``). ``--speed exact`` exports the factorised TransNet first
convolution of the inference ``speed='exact'`` mode (no 2688x64x64 volume;
~1e-6 m from the default, much faster); the default ``none`` exports the
model as configured.

TorchScript (``--format torchscript``): ``torch.jit.trace`` of the same
forward with the official inverses; ``torch.jit.load(OUT)`` returns a module
giving the eager outputs bit for bit at any batch size, as a tuple in the
printed order (PyTorch deprecates ``torch.jit.trace`` in favour of
``torch.export``, but it works).

``--check`` runs the exported file (onnxruntime, or the loaded TorchScript
module) and the PyTorch model on real images (``--check-images``, resized to
the network input; default: the repository's InterHand2.6M fixture frames)
at batch 1 and 2 (or the static batch size), prints max |Δ| per output
with its tolerance (1e-5 m for meshes, joints and translations, 1e-3 px for
boxes and 2D joints, 1e-5 for poses as rotation matrices;
``interwild_mm/apis/export.py``) and exits with 1 if one is exceeded.

An existing OUT is never overwritten unless ``--overwrite`` is given. The
checkpoint is read with the project's safe loader (``weights_only=True`` and
an allow-list); official snapshots must be converted first
(``tools/convert_official_checkpoint.py``).
"""
import argparse
import os
import os.path as osp
import sys
from pathlib import Path
from typing import List, Optional

# Let idle OpenMP threads sleep instead of spinning; only effective before
# torch is imported (interwild_mm/engine/threads.py explains the rule).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: default --check images: the InterHand2.6M fixture frames of the repo
FIXTURE_IMAGES = sorted(
    str(p) for p in (REPO / 'tests' / 'data' / 'interhand2.6m').glob('*.jpg'))


class UsageError(Exception):
    """A problem with the tool's inputs (printed without a traceback)."""


def build_parser() -> argparse.ArgumentParser:
    from interwild_mm.apis.export import (DEFAULT_OPSET, EXPORT_SPEEDS,
                                          MIN_OPSET)
    from interwild_mm.utils.config import add_cfg_options_argument
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='mmengine checkpoint')
    parser.add_argument('out', help='output file (.onnx or, with '
                        '--format torchscript, .pt)')
    parser.add_argument('--format', choices=('onnx', 'torchscript'),
                        default='onnx', help='what to write (default onnx)')
    parser.add_argument(
        '--batch-size', type=int, default=2,
        help='batch size of the example input the exporter traces; with '
        '--static-batch the only batch size of the file (default 2; a '
        'dynamic batch axis needs >= 2)')
    parser.add_argument('--static-batch', action='store_true',
                        help='ONNX: no dynamic batch axis')
    parser.add_argument(
        '--opset', type=int, default=None,
        help=f'ONNX opset, >= {MIN_OPSET} (default {DEFAULT_OPSET})')
    parser.add_argument(
        '--speed', choices=EXPORT_SPEEDS, default='none',
        help="'exact': the factorised TransNet first conv of the inference "
        "speed='exact' mode; 'none' (default): the model as configured")
    parser.add_argument('--mano-dir', help='folder with MANO_RIGHT.pkl and '
                        'MANO_LEFT.pkl (default: config, then '
                        '$INTERWILD_MANO_DIR, then data/mano)')
    add_cfg_options_argument(parser)
    parser.add_argument('--check', action='store_true',
                        help='compare the exported outputs with PyTorch\'s '
                        'on real images; exit 1 when out of tolerance')
    parser.add_argument('--check-images', nargs='+', metavar='IMG',
                        help='images for --check (default: the '
                        'InterHand2.6M fixture frames of the repository)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch / onnxruntime threads for --check')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing OUT')
    return parser


def check_args(args: argparse.Namespace) -> None:
    """Refuse bad option combinations before anything is loaded; fill in
    the default opset."""
    from interwild_mm.apis.export import DEFAULT_OPSET, MIN_OPSET
    if osp.exists(args.out) and not args.overwrite:
        raise FileExistsError(f'{args.out} exists; pass --overwrite to '
                              'replace it or choose another OUT.')
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}.')
    if args.format == 'torchscript':
        if args.static_batch or args.opset is not None:
            raise ValueError('--static-batch and --opset apply to --format '
                             'onnx only (a traced TorchScript module follows '
                             'the batch size of its input).')
        return
    if args.opset is None:
        args.opset = DEFAULT_OPSET
    if args.opset < MIN_OPSET:
        raise ValueError(
            f'--opset {args.opset}: the ONNX exporter of this torch writes '
            f'opset >= {MIN_OPSET}; use --opset {MIN_OPSET} or higher.')
    if not args.static_batch and args.batch_size < 2:
        raise ValueError(
            '--batch-size 1 needs --static-batch: a dynamic batch axis is '
            'traced from a batch of >= 2 (torch.export specialises sizes 0 '
            'and 1); the dynamic file accepts batch 1 as well.')


def check_batches(args: argparse.Namespace) -> List[int]:
    """Batch sizes ``--check`` runs: 1 and 2, or the static batch size."""
    if args.format == 'onnx' and args.static_batch:
        return [args.batch_size]
    return [1, 2]


def run_check(model, args: argparse.Namespace, input_hw) -> bool:
    """Compare the exported file with ``model``; print the tables."""
    import torch

    from interwild_mm.apis.export import (compare_outputs, exportable,
                                          format_deviations, load_images,
                                          onnx_session, run_onnx)
    paths = args.check_images or FIXTURE_IMAGES
    batches = check_batches(args)
    images = load_images(paths, input_hw, batch=max(batches))
    if args.format == 'onnx':
        session = onnx_session(args.out, args.threads)
    else:
        traced = torch.jit.load(args.out)
    ok = True
    for batch in batches:
        x = images[:batch]
        with torch.no_grad(), exportable(model, args.speed, 'official'):
            ref = model(x, mode='tensor')
        if args.format == 'onnx':
            out = run_onnx(session, x)
        else:
            with torch.no_grad():
                values = traced(x)
            out = dict(zip([k for k in ref if k != 'img'], values))
        rows = compare_outputs(ref, out)
        print(f'\n--check, batch {batch} ({args.format} vs PyTorch, default '
              'path):')
        print(format_deviations(rows))
        ok = ok and all(r.ok for r in rows)
    return ok


def export(args: argparse.Namespace) -> int:
    """Load, export, optionally check; returns the exit status."""
    import torch

    from interwild_mm.apis.export import (export_onnx, export_torchscript,
                                          load_images, load_model_for_export)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model = load_model_for_export(args.config, args.checkpoint,
                                      args.cfg_options, args.mano_dir)
    except RuntimeError as err:  # unreadable / unfitting checkpoint
        raise UsageError(str(err)) from err
    input_hw = model.sizes.input_hw
    paths = args.check_images or FIXTURE_IMAGES
    example = load_images(paths, input_hw, batch=args.batch_size) \
        if paths else torch.rand(args.batch_size, 3, *input_hw)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.format == 'onnx':
        res = export_onnx(model, args.out, example, opset=args.opset,
                          dynamic_batch=not args.static_batch,
                          speed=args.speed)
        names = res.output_names
        batch = 'dynamic' if not args.static_batch else args.batch_size
        print(f'Wrote {args.out} (ONNX opset {res.opset}, batch {batch}, '
              f'input "inputs" (N, 3, {input_hw[0]}, {input_hw[1]}) RGB in '
              '[0, 1]).')
    else:
        names = export_torchscript(model, args.out, example, args.speed)
        print(f'Wrote {args.out} (TorchScript, traced; any batch size).')
    print('Outputs, in order: ' + ', '.join(names))
    if args.check and not run_check(model, args, input_hw):
        print('\n--check: some outputs are out of tolerance.')
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    from interwild_mm.apis.export import ExportDependencyError
    from interwild_mm.utils.checkpoint import (UnsafeCheckpointError,
                                               enable_safe_checkpoint_loading)
    from interwild_mm.utils.config import ConfigOverrideError
    enable_safe_checkpoint_loading()
    args = build_parser().parse_args(argv)
    try:
        check_args(args)
        return export(args)
    except (UsageError, ExportDependencyError, FileExistsError,
            FileNotFoundError, UnsafeCheckpointError, ConfigOverrideError,
            ValueError) as err:
        print(f'export_onnx: {err}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
