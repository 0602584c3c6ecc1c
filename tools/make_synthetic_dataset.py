# Copyright (c) interwild_mm contributors.
"""Render a synthetic two-hand dataset in the InterHand2.6M and HIC formats.

Example::

    python tools/make_synthetic_dataset.py data/synthetic --num 200 --seed 0

writes ``data/synthetic/{annotations,images}/{train,test}/...`` (InterHand2.6M
layout), ``data/synthetic/HIC/data/...`` (HIC layout) and a README.txt (the
generator is ``interwild_mm.synthetic``). See
``interwild_mm/synthetic/ih26m_writer.py`` for the conventions: the MANO fits
are world-frame NeuralAnnot-style fits that mean what real ones mean to the
official loader (each image's hands are the fits placed in its camera by the
official ``get_mano_data`` order, docs/official_conventions.md §3.1), so
data written by an older version of this tool (plain world-frame MANO
joints) should be regenerated.
"""
import argparse
import os.path as osp
import shlex
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from interwild_mm.synthetic import make_synthetic_dataset  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render synthetic MANO hands into InterHand2.6M- and '
        'HIC-format annotation files.')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--num',
        type=int,
        default=200,
        help='number of InterHand2.6M-format images (train + test)')
    parser.add_argument(
        '--num-test',
        type=int,
        default=None,
        help='how many of --num go to the test split (default num // 5)')
    parser.add_argument(
        '--num-hic',
        type=int,
        default=10,
        help='number of HIC-format test images (640x480); 0 = none')
    parser.add_argument(
        '--mano-dir',
        default=None,
        help='folder with MANO_RIGHT.pkl / MANO_LEFT.pkl (default: the '
        'synthetic MANO in data/mano_synthetic, created if missing)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=(334, 512),
        metavar=('W', 'H'),
        help='InterHand2.6M image size')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    t0 = time.time()
    command = 'python tools/make_synthetic_dataset.py ' + ' '.join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    summary = make_synthetic_dataset(
        args.out_dir,
        num=args.num,
        num_test=args.num_test,
        num_hic=args.num_hic,
        mano_dir=args.mano_dir,
        seed=args.seed,
        img_size=args.img_size,
        command=command)
    print(f'wrote {args.out_dir} in {time.time() - t0:.1f} s: {summary}')


if __name__ == '__main__':
    main()
