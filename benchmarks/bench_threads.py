# Copyright (c) interwild_mm contributors.
"""Training speed of the quickstart config: old thread defaults vs the
tools' thread settings (CPU).

Two settings, each timed in fresh processes (OpenMP reads its environment
once, when torch is loaded), alternated over ``--rounds`` rounds:

* ``old``: what tools/train.py did before: PyTorch's defaults (one OpenMP
  thread per core, spinning idle threads), ``OMP_NUM_THREADS`` unset;
* ``new``: tools/train.py now: ``OMP_WAIT_POLICY=PASSIVE`` set before torch
  is imported, then ``interwild_mm.engine.configure_threads`` (main process
  ``max(1, cores // ranks - num_workers - 1)`` threads unless
  ``OMP_NUM_THREADS`` is set; one thread per data worker).

Each process builds the Runner of ``configs/interwild_synthetic_quickstart.py``
(batch 4, ``num_workers=0``: data loading runs in the main process as in
``make quickstart``) on a small synthetic dataset and times ``--iters``
training iterations (next batch + ``model.train_step``) after ``--warmup``.
``--busy N`` runs N busy-looping processes meanwhile (other jobs on the same
cores, the situation in which the old defaults collapse). ``--modes old new
omp1`` adds a third setting for reference, ``OMP_NUM_THREADS=1`` (the
workaround of the issue report).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_threads.py [--iters 8] [--rounds 2] \
        [--busy 1] [--out results_threads.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / 'configs' / 'interwild_synthetic_quickstart.py')
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_WAIT_POLICY')


def child(args: argparse.Namespace) -> None:
    """Time training iterations in this process; print one JSON line."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import torch
    from mmengine.runner import Runner

    from interwild_mm.engine.threads import configure_threads
    from interwild_mm.utils.config import load_config
    cfg = load_config(CONFIG, {
        'synthetic_root': args.data_root.rstrip('/') + '/',
        'mano_dir': args.mano_dir,
    })
    cfg.work_dir = tempfile.mkdtemp(prefix='bench_threads_')
    cfg.log_level = 'WARNING'
    info = None
    if args.child == 'new':
        info = configure_threads(cfg, phase='train')
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()
    model.train()
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    dataloader = runner.build_dataloader(cfg.train_dataloader, seed=0)
    loader = iter(dataloader)
    times: List[float] = []
    losses: List[float] = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        try:
            batch = next(loader)
        except StopIteration:  # next epoch
            loader = iter(dataloader)
            batch = next(loader)
        out = model.train_step(batch, optim)
        dt = time.perf_counter() - t0
        losses.append(float(sum(v for k, v in out.items() if 'loss' in k)))
        if i >= args.warmup:
            times.append(dt)
    print(json.dumps(dict(mode=args.child, threads=torch.get_num_threads(),
                          omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'),
                          configure_threads=info, times_s=times,
                          losses=losses)))


def _ensure_data(root: Path, mano_dir: str, num: int) -> None:
    if (root / 'annotations' / 'train' /
            'InterHand2.6M_train_data.json').is_file():
        return
    from interwild_mm.synthetic import make_synthetic_dataset
    make_synthetic_dataset(root, num=num, num_test=4, num_hic=2,
                           mano_dir=mano_dir, seed=0)


def _run_child(mode: str, args: argparse.Namespace, data_root: str,
               mano_dir: str) -> Dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if mode == 'new':
        env['OMP_WAIT_POLICY'] = 'PASSIVE'  # what the tools set first
    elif mode == 'omp1':
        env['OMP_NUM_THREADS'] = '1'
    child_mode = 'new' if mode == 'new' else 'old'
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), env.get('PYTHONPATH')) if p)
    cmd = [sys.executable, __file__, '--child', child_mode, '--data-root',
           data_root, '--mano-dir', mano_dir, '--iters', str(args.iters),
           '--warmup', str(args.warmup)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          cwd=str(REPO), timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f'{mode} run failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=8, help='timed iterations')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--rounds', type=int, default=2,
                   help='old/new process pairs (alternated)')
    p.add_argument('--busy', type=int, default=0,
                   help='busy-looping processes running meanwhile')
    p.add_argument('--num', type=int, default=48, help='synthetic images')
    p.add_argument('--out', default=None, help='write the JSON here')
    p.add_argument('--modes', nargs='+', default=['old', 'new'],
                   choices=['old', 'new', 'omp1'],
                   help='settings to time (old and new are always compared)')
    p.add_argument('--child', choices=['old', 'new'], help=argparse.SUPPRESS)
    p.add_argument('--data-root', help=argparse.SUPPRESS)
    p.add_argument('--mano-dir', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args)
        return

    sys.path.insert(0, str(REPO / 'benchmarks'))
    import common
    mano_dir = common.synthetic_mano_dir()
    data_root = Path(
        tempfile.gettempdir()) / f'interwild_bench_data_{args.num}'
    _ensure_data(data_root, mano_dir, args.num)
    busy = [subprocess.Popen([sys.executable, '-c', 'while True: pass'])
            for _ in range(args.busy)]
    modes = ['old', 'new'] + [m for m in args.modes if m not in ('old', 'new')]
    runs: Dict[str, List[Dict]] = {m: [] for m in modes}
    load_start = os.getloadavg()
    try:
        for r in range(args.rounds):
            for mode in modes:
                res = _run_child(mode, args, str(data_root), mano_dir)
                runs[mode].append(res)
                print(f'round {r} {mode}: threads {res["threads"]}, '
                      f's/iter {statistics.median(res["times_s"]):.3f} '
                      f'(median of {len(res["times_s"])})', flush=True)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    summary = {}
    for mode, res in runs.items():
        times = [t for r in res for t in r['times_s']]
        summary[mode] = dict(median_s_per_iter=statistics.median(times),
                             mean_s_per_iter=statistics.mean(times),
                             max_s_per_iter=max(times),
                             threads=res[0]['threads'])
    ref, new = runs['old'][0]['losses'], runs['new'][0]['losses']
    loss_rel = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(ref, new))
    ratio = summary['old']['median_s_per_iter'] / \
        summary['new']['median_s_per_iter']
    print(f'\nquickstart config, batch 4, {args.busy} busy process(es), '
          f'{os.cpu_count()} CPUs, load average at start {load_start[0]:.2f}')
    for mode in modes:
        s = summary[mode]
        print(f'{mode:>4}: {s["median_s_per_iter"]:.3f} s/iter median '
              f'({s["mean_s_per_iter"]:.3f} mean, {s["max_s_per_iter"]:.3f} '
              f'max), {s["threads"]} torch thread(s)')
    print(f'ratio old/new (median s/iter): {ratio:.2f}; largest relative '
          f'loss difference over {len(ref)} iterations: {loss_rel:.1e}')
    if args.out:
        result = dict(machine=common.machine_info(), settings=vars(args),
                      summary=summary, ratio_old_over_new=ratio,
                      max_rel_loss_diff=loss_rel, runs=runs)
        Path(args.out).write_text(
            json.dumps(common.to_jsonable(result), indent=1) + '\n')


if __name__ == '__main__':
    main()
