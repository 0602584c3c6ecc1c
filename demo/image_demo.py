# Copyright (c) interwild_mm contributors.
"""InterWild demo on images: 3D interacting hands from a photo.

Usage::

    python demo/image_demo.py INPUT --config configs/interwild_ih26m_coco.py \\
        --checkpoint interwild_converted.pth --out-dir outputs [--device cpu]

``INPUT`` is an image, a folder of images (sorted; non-images ignored) or a
video (then this script behaves like ``demo/video_demo.py``). Per image it
writes ``<name>.json`` (everything, with a ``conventions`` block),
``<name>_p<k>_{right,left,hands}.obj`` (meshes in the real camera, metres)
and ``<name>_overlay.png`` (meshes, boxes, skeletons at the original
resolution). Existing outputs are never replaced unless ``--overwrite``.

The person box (the whole image without a detector) is truncated to integers
exactly like the official demo before the 384x512 patch is cut;
``--float-body-box`` keeps it in float pixels (and then shrinks huge images
with area averaging first).

``--cfg-options`` overrides the config the way every tool does
(``interwild_mm/utils/config.py``): a top-level variable such as
``mano_dir=/data/mano`` reaches every place that uses it, and an override
that would have no effect is refused.

MANO files: ``--mano-dir``, else the config's (``--cfg-options
mano_dir=...`` or ``model.mano.model_dir``), else ``$INTERWILD_MANO_DIR``,
else ``data/mano``. Official InterWild snapshots must be converted first
with ``tools/convert_official_checkpoint.py``.

Person detector: ``--det-config`` / ``--det-checkpoint`` take any mmdet 3.x
detector, e.g. mmpose's RTMDet person detector (see README); without one,
or when it finds nobody above ``--bbox-thr``, the whole image is one
person. A hand that cannot be placed in the real camera (e.g. a zero-size
box) is reported with ``placement: "degenerate"`` and left out of the meshes
and the overlay; the summary lists such hands and every failed file.

Exit status: 0 all inputs processed, 2 some inputs failed (listed in the
summary), 1 nothing could be done (bad arguments, config, checkpoint, MANO).
"""
import argparse
import os.path as osp
import pickle
import sys
from typing import Any, Dict, List, Optional

# Make `interwild_mm` importable when the demo runs from a checkout without
# `pip install -e .`.
_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from interwild_mm.utils.config import add_cfg_options_argument  # noqa: E402


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('input', help='image, folder of images, or video')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint',
        default=None,
        help='mmengine checkpoint (converted official weights or one saved '
        'by tools/train.py); omitted = random weights (testing only)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--device', default=None, help='e.g. cpu, cuda, cuda:1 (default: '
        'cuda if available, else cpu)')
    add_cfg_options_argument(parser)
    parser.add_argument('--mano-dir', default=None,
                        help='folder with MANO_RIGHT.pkl and MANO_LEFT.pkl '
                        '(wins over --cfg-options mano_dir=...)')
    parser.add_argument(
        '--speed',
        choices=('exact', 'approximate', 'none'),
        default='exact',
        help='inference speed-ups: exact (default; factorised TransNet, '
        'backbone micro-batches, inference_mode; outputs within 1e-6 m of '
        'the plain model), approximate (also BatchNorm folding and '
        'channels-last; changes the float rounding), none (plain model)')


def _add_detector_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--det-config', default=None,
                        help='mmdet person detector config (optional)')
    parser.add_argument('--det-checkpoint', default=None,
                        help='mmdet person detector checkpoint (path or URL)')
    parser.add_argument('--det-cat-id', type=int, default=0,
                        help='person class id of the detector')
    parser.add_argument('--bbox-thr', type=float, default=0.5,
                        help='minimum person detection score')
    parser.add_argument('--float-body-box', action='store_true',
                        help='keep the person box in float pixels (and shrink '
                        'huge images first) instead of truncating it to '
                        'integers like the official demo (the default)')


def _add_hand_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--hand-score-thr',
        type=float,
        default=0.05,
        help='minimum hand-box confidence (DetectNet centre-heatmap '
        'probability, ~3e-4 for a flat map) to report a hand as present; '
        '0 = never absent (official demo)')
    parser.add_argument('--focal', type=float, nargs='+', default=None,
                        metavar='F', help='fx [fy] in pixels of the input '
                        'image (default sqrt(W^2+H^2))')
    parser.add_argument('--princpt', type=float, nargs=2, default=None,
                        metavar=('CX', 'CY'), help='principal point in '
                        'pixels (default the image centre)')
    parser.add_argument('--placement', choices=('fit', 'scale'),
                        default='fit', help='how hands are placed in the '
                        'real camera (see interwild_mm/apis/placement.py)')


def _add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--batch-size', type=int, default=1,
                        help='persons per forward pass')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing output files')
    parser.add_argument('--no-meshes', action='store_true',
                        help='do not write OBJ files')


def build_parser(description: str = __doc__) -> argparse.ArgumentParser:
    """Command-line options shared by the image and video demos."""
    parser = argparse.ArgumentParser(
        description=description.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    for add in (_add_model_args, _add_detector_args, _add_hand_args,
                _add_output_args):
        add(parser)
    return parser


def add_video_args(parser: argparse.ArgumentParser) -> None:
    """Options of the video demo (temporal smoothing)."""
    parser.add_argument('--smooth', action='store_true',
                        help='One-Euro smoothing of the per-frame outputs')
    parser.add_argument('--min-cutoff', type=float, default=1.0,
                        help='One-Euro minimum cutoff frequency (Hz)')
    parser.add_argument('--beta', type=float, default=0.5,
                        help='One-Euro speed coefficient')


#: ``InterWildInferencer`` argument -> command-line option (dest).
INFERENCER_OPTIONS = dict(
    model='config', weights='checkpoint', device='device',
    cfg_options='cfg_options', det_config='det_config',
    det_checkpoint='det_checkpoint', det_cat_id='det_cat_id',
    bbox_thr='bbox_thr', hand_score_thr='hand_score_thr', speed='speed',
    mano_dir='mano_dir', placement='placement')
#: inferencer call argument -> command-line option (dest).
CALL_OPTIONS = dict(batch_size='batch_size', out_dir='out_dir',
                    overwrite='overwrite', focal='focal', princpt='princpt')


def inferencer_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """``InterWildInferencer`` arguments of the parsed options."""
    kwargs = {k: getattr(args, v) for k, v in INFERENCER_OPTIONS.items()}
    kwargs['body_box_mode'] = 'float' if args.float_body_box else \
        'official_int'
    return kwargs


def call_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """Arguments of one inferencer call of the parsed options (the video
    options fall back to their defaults for the image demo)."""
    kwargs = {k: getattr(args, v) for k, v in CALL_OPTIONS.items()}
    kwargs.update(
        save_meshes=not args.no_meshes,
        smooth=getattr(args, 'smooth', False),
        smooth_cfg=dict(min_cutoff=getattr(args, 'min_cutoff', 1.0),
                        beta=getattr(args, 'beta', 0.5)))
    return kwargs


def _print_result(result: Dict[str, Any]) -> None:
    if 'error' in result or 'frame_index' in result:
        return
    n_hands = sum(h['present'] for p in result['persons']
                  for h in p['hands'].values())
    print(f'{result["name"]}: {len(result["persons"])} person(s), '
          f'{n_hands} hand(s)')


def run(args: argparse.Namespace) -> int:
    """Build the inferencer from parsed arguments and run it."""
    from interwild_mm.apis import InputError, InterWildInferencer
    if args.focal is not None and len(args.focal) not in (1, 2):
        print('error: --focal takes fx or fx fy', file=sys.stderr)
        return 1
    try:
        inferencer = InterWildInferencer(**inferencer_kwargs(args))
        for result in inferencer(args.input, **call_kwargs(args)):
            _print_result(result)
    except (InputError, FileExistsError, FileNotFoundError, RuntimeError,
            ValueError, ImportError, pickle.UnpicklingError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    summary = inferencer.summary
    print(f'done: {summary}; outputs in {args.out_dir}')
    if summary.failed:
        return 2 if summary.ok else 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    return run(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
