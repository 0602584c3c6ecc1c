# Copyright (c) interwild_mm contributors.
"""Write a synthetic MANO_RIGHT.pkl / MANO_LEFT.pkl pair (a stand-in for the
licensed MANO files, for tests and CI).

Usage:
    python tools/make_synthetic_mano.py OUT_DIR [--seed 0]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from interwild_mm.synthetic import write_synthetic_mano  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic MANO model pair with the official '
        'file layout (NOT the real MANO model).')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random smooth fields')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = write_synthetic_mano(args.out_dir, seed=args.seed)
    print(f'Wrote synthetic MANO_RIGHT.pkl and MANO_LEFT.pkl to {out}')


if __name__ == '__main__':
    main()
