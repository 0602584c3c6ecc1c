# Copyright (c) interwild_mm contributors.
"""The official training mix of InterWild's dataset groups, as a sampler."""
import itertools
import math
from typing import Iterator, List, Optional

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmpose.datasets import CombinedDataset
from mmpose.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class InterWildRandomMixSampler(Sampler):
    """Mix the sources of a :class:`CombinedDataset` as the official code.

    ``docs/official_conventions.md §3.6``: the official training set
    concatenates its 3D datasets and its 2D datasets into two groups, brings
    both to the length ``M`` of the longer one and lets a shuffling
    DataLoader draw from the union, so a batch is half 3D / half 2D only in
    expectation. Here each source of the :class:`CombinedDataset` is one
    group (put several datasets of a group into one source with mmengine's
    ``ConcatDataset``). Per epoch and per source of length ``n``:

    * positions ``0 … n·⌊M/n⌋ - 1`` take the source's indices cyclically
      (``p mod n``),
    * the remaining ``M mod n`` positions (the incomplete last cycle) take
      uniformly random indices of that source,

    then the ``S·M`` indices of the ``S`` sources are shuffled together. The
    randomness is seeded by ``seed + epoch`` (:meth:`set_epoch` reshuffles;
    mmengine's ``DistSamplerSeedHook`` calls it). Under DDP every rank
    builds the same epoch list and takes the positions ``rank, rank +
    world_size, …``: the ranks get disjoint shares of it.

    Args:
        dataset (CombinedDataset): the training sources.
        shuffle (bool): shuffle the union (the official behaviour). With
            False the list is source by source. Defaults to True.
        round_up (bool): repeat the start of the epoch list so that every
            rank gets the same number of indices. Defaults to True.
        seed (int, optional): random seed; ``None`` draws one shared by all
            ranks. Defaults to None.
    """

    def __init__(self,
                 dataset: CombinedDataset,
                 shuffle: bool = True,
                 round_up: bool = True,
                 seed: Optional[int] = None) -> None:
        if not isinstance(dataset, CombinedDataset):
            raise TypeError(
                'InterWildRandomMixSampler needs a CombinedDataset (one '
                f'source per dataset group), got {type(dataset).__name__}.')
        lens = list(dataset.lens)
        if not lens or min(lens) <= 0:
            raise ValueError('InterWildRandomMixSampler: every source of the '
                             f'CombinedDataset must be non-empty, got lens '
                             f'{lens}.')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.lens = lens
        self.offsets = [0] + list(itertools.accumulate(lens))[:-1]
        self.max_len = max(lens)
        self.shuffle = shuffle
        self.round_up = round_up
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        total = len(lens) * self.max_len
        if round_up:
            self.num_samples = math.ceil(total / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (total - self.rank) / self.world_size)
            self.total_size = total

    def epoch_indices(self) -> List[int]:
        """The whole epoch's global indices (before the rank split)."""
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        parts = []
        for n, offset in zip(self.lens, self.offsets):
            full = n * (self.max_len // n)
            idx = torch.arange(self.max_len) % n
            if full < self.max_len:
                idx[full:] = torch.randint(
                    0, n, (self.max_len - full, ), generator=g)
            parts.append(idx + offset)
        indices = torch.cat(parts)
        if self.shuffle:
            indices = indices[torch.randperm(len(indices), generator=g)]
        return indices.tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self.epoch_indices()
        if self.round_up:
            reps = math.ceil(self.total_size / len(indices))
            indices = (indices * reps)[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next :meth:`__iter__` (new shuffle and new
        random fill)."""
        self.epoch = int(epoch)
