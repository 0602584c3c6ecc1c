# Copyright (c) interwild_mm contributors.
"""The synthetic two-hand dataset: InterHand2.6M train/test + HIC test.

:func:`make_synthetic_dataset` renders MANO hands
(:class:`.hand_generator.SyntheticHandGenerator`) and writes an
InterHand2.6M-format dataset with a ``train`` and a ``test`` split
(different captures; :mod:`.ih26m_writer`, which also states the geometry
conventions), a small HIC-format test split (:mod:`.hic_writer`) and a
README.txt, so that every loader, transform, metric and a short training run
can be exercised without the licensed data. The output is a function of the
arguments: the same arguments give byte-identical files.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import torch

from .files import README_TEMPLATE
from .hand_generator import SyntheticHandGenerator
from .hic_writer import write_hic_split
from .ih26m_writer import SPLIT_CAPTURES, write_ih26m_split

__all__ = ['make_synthetic_dataset']


def _check_arguments(num: int, num_test: Optional[int], num_hic: int,
                     w: int, h: int) -> int:
    """Validate the sizes; returns ``num_test`` (default ``num // 5``).

    Raises:
        ValueError: a size out of range (the message names it).
    """
    if w < 64 or h < 64:
        raise ValueError(f'img_size must be at least 64x64, got {w}x{h}')
    if num < 2:
        raise ValueError(f'num must be >= 2 (train and test), got {num}')
    if num_test is None:
        num_test = max(1, num // 5)
    if not 1 <= num_test < num:
        raise ValueError(f'num_test must be in [1, num), got {num_test}')
    if num_hic < 0:
        raise ValueError(f'num_hic must be >= 0, got {num_hic}')
    return num_test


def _write_splits(gen: SyntheticHandGenerator, out_dir: str, num_train: int,
                  num_test: int, num_hic: int, seed: int,
                  img_size: Sequence[int]) -> Dict[str, Dict[str, int]]:
    """Write the three splits with one torch thread; per split the counts.

    MANO on one hand is far too small for intra-op threads; they only add
    overhead (10x slower on a loaded 2-core machine). The caller's thread
    count is restored afterwards.
    """
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = {
            'train':
            write_ih26m_split(gen, out_dir, 'train', num_train, seed,
                              img_size),
            'test':
            write_ih26m_split(gen, out_dir, 'test', num_test, seed, img_size),
        }
        if num_hic:
            summary['hic'] = write_hic_split(gen, out_dir, num_hic, seed)
    finally:
        torch.set_num_threads(num_threads)
    return summary


def make_synthetic_dataset(out_dir: Union[str, os.PathLike],
                           num: int = 200,
                           num_test: Optional[int] = None,
                           num_hic: int = 10,
                           mano_dir: Optional[str] = None,
                           seed: int = 0,
                           img_size: Sequence[int] = (334, 512),
                           command: str = '') -> Dict[str, Dict[str, int]]:
    """Write the synthetic InterHand2.6M (train/test) and HIC datasets.

    Args:
        out_dir (str | PathLike): output root.
        num (int): number of InterHand2.6M-format images (train + test).
        num_test (int, optional): how many of them go to ``test``; defaults
            to ``max(1, num // 5)``.
        num_hic (int): number of HIC-format test images (640x480).
        mano_dir (str, optional): MANO folder; default
            ``data/mano_synthetic`` (created if missing).
        seed (int): random seed; the output is a function of the arguments.
        img_size (Sequence[int]): InterHand2.6M image size (W, H).
        command (str): command line recorded in README.txt.

    Returns:
        dict: per split the hand-type counts.

    Raises:
        ValueError: a size out of range.
    """
    out_dir = str(out_dir)
    w, h = int(img_size[0]), int(img_size[1])
    num_test = _check_arguments(num, num_test, num_hic, w, h)
    gen = SyntheticHandGenerator(mano_dir)
    summary = _write_splits(gen, out_dir, num - num_test, num_test, num_hic,
                            seed, (w, h))
    readme = README_TEMPLATE.format(
        command=command
        or 'interwild_mm.synthetic.make_synthetic_dataset',
        seed=seed,
        mano_dir=gen.mano_dir,
        w=w,
        h=h,
        train=num - num_test,
        test=num_test,
        hic=num_hic,
        train_caps=list(SPLIT_CAPTURES['train']),
        test_caps=list(SPLIT_CAPTURES['test']),
        counts=json.dumps(summary))
    with open(osp.join(out_dir, 'README.txt'), 'w', encoding='utf-8') as fh:
        fh.write(readme)
    return summary
