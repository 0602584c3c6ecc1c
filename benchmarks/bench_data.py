# Copyright (c) interwild_mm contributors.
"""Data-loading and training-step throughput of InterWild (CPU).

1. Data: samples/s of ONE worker (``num_workers=0``, i.e. the main process)
   running the InterHand2.6M train pipeline of
   ``configs/_base_/datasets/interwild_ih26m_coco.py`` (load + augment +
   body affine + targets + pack) plus collation, on the 4 IH2.6M fixture
   frames of ``tests/data/interhand2.6m`` (334x512 JPEGs, the real
   IH2.6M 5 fps frame size), cycled. Multiply by the worker count for a
   first estimate of a multi-worker loader on as many free cores.
2. Training step: images/s of ``model.train_step`` (data preprocessor,
   forward, losses, backward, Adam step) of the full-size InterWild at a
   small batch, on those samples.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_data.py [--samples 40] [--batch 2]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

DATASET_CONFIG = str(common.REPO / 'configs' / '_base_' / 'datasets' /
                     'interwild_ih26m_coco.py')


def build_fixture_dataset(mano_dir: str):
    """InterHand26MDataset on the fixtures with the config's train
    pipeline."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import interwild_mm  # noqa: F401
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    cfg = Config.fromfile(DATASET_CONFIG)
    pipeline = []
    for t in cfg.train_pipeline:
        t = dict(t)
        if 'mano_model_dir' in t:
            t['mano_model_dir'] = mano_dir
        pipeline.append(t)
    root = common.FIXTURE_DIR
    return DATASETS.build(
        dict(type='InterHand26MDataset',
             data_root=str(root),
             ann_file='test_interhand2.6m_data.json',
             camera_file='test_interhand2.6m_camera.json',
             joint_file='test_interhand2.6m_joint_3d.json',
             data_prefix=dict(img=''),
             metainfo=cfg.hands_metainfo,
             pipeline=pipeline))


def bench_loading(ds, samples: int, batch: int) -> Dict:
    from mmengine.dataset import pseudo_collate
    for i in range(len(ds)):  # warm-up (file cache, lazy inits)
        ds[i]
    n = len(ds)
    t0 = time.perf_counter()
    buf = []
    for i in range(samples):
        buf.append(ds[i % n])
        if len(buf) == batch:
            pseudo_collate(buf)
            buf = []
    dt = time.perf_counter() - t0
    return dict(samples=samples, seconds=dt, samples_per_s_per_worker=samples
                / dt, ms_per_sample=1000 * dt / samples)


def bench_train_step(ds, batch: int, steps: int, lr: float = 1e-4) -> Dict:
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    model = common.build_model('dense')
    model.train()
    # the official optimiser covers the six sub-networks (no MANO layers,
    # which hold no parameters anyway)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr))
    data = pseudo_collate([ds[i % len(ds)] for i in range(batch)])
    times: List[float] = []
    losses = None
    for s in range(steps + 1):
        t0 = time.perf_counter()
        losses = model.train_step(data, optim)
        dt = time.perf_counter() - t0
        if s > 0:  # first step = warm-up
            times.append(dt)
        print(f'  train step {s}: {dt:.2f} s', flush=True)
    res = common.summarize(times)
    res['batch'] = batch
    res['images_per_s'] = batch / res['median_s']
    res['loss_keys'] = sorted(losses)
    res['finite'] = bool(all(torch.isfinite(v).all() for v in losses.values()))
    return res


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--samples', type=int, default=40)
    p.add_argument('--batch', type=int, default=2,
                   help='train-step batch (default 2)')
    p.add_argument('--steps', type=int, default=3,
                   help='timed train steps after one warm-up')
    p.add_argument('--out', default=None, help='write the JSON here')
    p.add_argument('--merge-into', default=None,
                   help='add the results under key "data" of this JSON '
                   '(e.g. benchmarks/results.json of bench_forward.py)')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    mano = common.synthetic_mano_dir()
    ds = build_fixture_dataset(mano)
    res = dict(machine=common.machine_info(), settings=vars(args))
    res['dataset_len'] = len(ds)
    res['loading'] = bench_loading(ds, args.samples, args.batch)
    print('loading:', res['loading'], flush=True)
    res['train_step'] = bench_train_step(ds, args.batch, args.steps)
    print('train step:', res['train_step'], flush=True)
    res['machine']['loadavg_end'] = os.getloadavg()
    if args.out:
        Path(args.out).write_text(json.dumps(common.to_jsonable(res),
                                             indent=1) + '\n')
    if args.merge_into:
        path = Path(args.merge_into)
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged['data'] = common.to_jsonable(res)
        path.write_text(json.dumps(merged, indent=1) + '\n')
    print(json.dumps(dict(loading=res['loading'],
                          train_step=res['train_step'])))


if __name__ == '__main__':
    main()
