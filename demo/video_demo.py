# Copyright (c) interwild_mm contributors.
"""InterWild demo on videos: per-frame 3D hands, overlay video, JSON lines.

Usage::

    python demo/video_demo.py INPUT.mp4 \\
        --config configs/interwild_ih26m_coco.py \\
        --checkpoint interwild_converted.pth --out-dir outputs [--smooth]

Frames are streamed (never all in memory). Writes
``<name>_overlay.mp4`` (mp4v, same size and frame rate as the input) and
``<name>.jsonl`` (one JSON object per frame, the ``conventions`` block in
the first line). ``--smooth`` applies a One-Euro filter (Casiez et al. 2012)
to every hand's MANO rotations (in the 6D representation, re-orthonormalised),
shape, virtual root, box, 2D joints and to ``rel_trans``; person slots are
matched by their left-to-right order (reliable for one person). All other
options, ``--cfg-options`` included, are those of ``demo/image_demo.py``.
"""
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from image_demo import add_video_args, build_parser, run  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser(__doc__)
    add_video_args(parser)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == '__main__':
    sys.exit(main())
