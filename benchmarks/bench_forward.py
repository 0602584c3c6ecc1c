# Copyright (c) interwild_mm contributors.
"""Forward-pass benchmark of InterWild: the official computation vs our
exact and approximate speed modes, measured in ONE run.

Headline: ratios to ``dense_ref`` measured in the same process, round-robin
(one forward of every configuration per round, after warm-up, medians), so
machine load hits all configurations alike: ``exact`` and ``approximate``
at batch 1 and 8, and the forward memory increment (peak RSS of one
steady-state forward minus the RSS before it, one FRESH subprocess per
configuration) at batch 8. Absolute times come with the machine, its load
average before and after, and the command line: absolute times on a shared
machine are not comparable across runs, ratios are.

Configurations (full-size InterWild, eval mode, see
:mod:`interwild_mm.models.utils.inference_opt`):

* ``dense_ref`` - the official computation: Gaussian volume + dense
  2688->64 conv, whole batch, ``torch.no_grad`` (``speed='none'``);
* ``exact`` - ``optimize_for_inference(speed='exact', max_batch=2)``
  under ``torch.inference_mode`` (what the inferencer runs by default);
* ``approximate`` - ``speed='approximate'`` (adds BN folding and
  channels-last);
* breakdown, one option on top of ``dense_ref``: ``factorised``,
  ``max_batch2``, ``inference_mode``, ``fold_bn``, ``channels_last``;
* ``approximate+compile`` - with ``--compile`` (slow to compile).

Deviation table: max |output - dense_ref output| per output key, on the
weights benchmarked: deterministic random weights by default, a trained
model with ``--checkpoint`` (``--deviation-only`` skips the timing).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_forward.py --out results.json \\
        --table table.md                                   # full run
    .venv/bin/python benchmarks/bench_forward.py --quick   # smoke run
    .venv/bin/python benchmarks/bench_forward.py --deviation-only \\
        --checkpoint work_dirs/quickstart/epoch_1.pth \\
        --config configs/interwild_synthetic_quickstart.py
"""
import argparse
import gc
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import report  # noqa: E402

#: name -> options; ``speed`` uses optimize_for_inference, the breakdown
#: entries apply single options
CONFIGS: Dict[str, Dict] = {
    'dense_ref': dict(speed='none'),
    'exact': dict(speed='exact'),
    'approximate': dict(speed='approximate'),
    'factorised': dict(options=('factorise', )),
    'max_batch2': dict(options=('chunk', )),
    'inference_mode': dict(options=('inference_mode', )),
    'fold_bn': dict(options=('fold_bn', )),
    'channels_last': dict(options=('channels_last', )),
    'approximate+compile': dict(speed='approximate', compile=True),
}
HEADLINE = ('exact', 'approximate')
BREAKDOWN = ('factorised', 'max_batch2', 'inference_mode', 'fold_bn',
             'channels_last')
MAX_BATCH = 2

#: stage name -> sub-module paths timed by hooks
STAGES = {
    'body': ['detect_net.backbone'],
    'box_head': ['detect_net.head'],
    'hand_roi': ['hand_roi'],
    'hand_backbone': ['hand_roi.backbone'],
    'shnet_head': ['shnet'],
    'mano': ['mano_layer_right', 'mano_layer_left'],
    'transnet': ['trans_net'],
    'transnet_resnet18': [
        f'trans_net.backbone.layer{i}' for i in range(1, 5)
    ],
}
STAGE_ORDER = ('body', 'box_head', 'crops', 'hand_backbone', 'shnet_head',
               'mano', 'transnet_volume_conv', 'transnet_resnet18', 'other')


def uses_inference_mode(name: str) -> bool:
    cfg = CONFIGS[name]
    return cfg.get('speed', 'none') != 'none' or \
        'inference_mode' in cfg.get('options', ())


def ctx_of(name: str):
    return torch.inference_mode() if uses_inference_mode(name) \
        else torch.no_grad()


def base_model(args) -> torch.nn.Module:
    """The benchmarked weights: ``--checkpoint`` or random (seeded)."""
    if args.checkpoint:
        return common.load_model(args.config, args.checkpoint,
                                 args.mano_dir, first_conv_impl='dense')
    return common.build_model('dense', mano_dir=args.mano_dir, seed=0)


def make_config(name: str, args) -> torch.nn.Module:
    """Build configuration ``name`` (see :data:`CONFIGS`)."""
    from interwild_mm.models.utils import inference_opt as opt
    cfg = CONFIGS[name]
    model = base_model(args)
    if 'speed' in cfg:
        return opt.optimize_for_inference(
            model, cfg['speed'], max_batch=MAX_BATCH,
            compile=cfg.get('compile', False))
    for option in cfg['options']:
        if option == 'factorise':
            opt.factorise_transnet(model)
        elif option == 'chunk':
            opt.chunk_modules(model, MAX_BATCH)
        elif option == 'fold_bn':
            opt.fold_batchnorm(model)
        elif option == 'channels_last':
            model.to(memory_format=torch.channels_last)
    return model


# ----------------------------------------------------------------------
# memory child (fresh process)
def memory_child(name: str, batch: int, args) -> Dict:
    torch.set_num_threads(args.threads)
    model = make_config(name, args)
    x = common.make_inputs(batch)
    with ctx_of(name):
        out = model(x)  # warm-up (oneDNN primitives, lazy inits)
    del out
    gc.collect()
    common.malloc_trim()
    reset_ok = common.reset_peak_rss()
    rss_before = common.read_status_kb('VmRSS')
    with ctx_of(name):
        model(x)
    hwm = common.read_status_kb('VmHWM')
    return dict(config=name, batch=batch, rss_before_mb=rss_before / 1024,
                peak_rss_mb=hwm / 1024,
                forward_peak_mb=(hwm - rss_before) / 1024,
                hwm_reset=reset_ok)


def measure_memory(batches: List[int], names: List[str], args) -> Dict:
    results: Dict = {}
    for b in batches:
        results[str(b)] = {}
        for n in names:
            print(f'memory: batch {b} {n}', flush=True)
            child = [str(Path(__file__).resolve()), '--threads',
                     str(args.threads), '--memory-child', n, str(b),
                     '--config', args.config]
            if args.checkpoint:
                child += ['--checkpoint', args.checkpoint]
            if args.mano_dir:
                child += ['--mano-dir', args.mano_dir]
            try:
                r = common.run_json_subprocess(child)
            except Exception as exc:  # timeout / crash: record it
                r = dict(error=f'{type(exc).__name__}: {exc}')
            results[str(b)][n] = r
            print('   ', r, flush=True)
    return results


# ----------------------------------------------------------------------
# timing
def _stage_split(totals: Dict[str, float], wall: float) -> Dict[str, float]:
    st = dict(totals)
    st['crops'] = st['hand_roi'] - st['hand_backbone']
    st['transnet_volume_conv'] = st['transnet'] - st['transnet_resnet18']
    st['other'] = wall - sum(st[k] for k in (
        'body', 'box_head', 'hand_roi', 'shnet_head', 'mano', 'transnet'))
    return {k: st[k] for k in STAGE_ORDER}


def run_rounds(x: torch.Tensor, names: List[str], reps: int,
               models: Dict[str, torch.nn.Module], timers: Dict) -> Dict:
    """``reps`` round-robin rounds; wall/CPU times and stage splits."""
    runs = {n: dict(wall=[], cpu=[], stages=[]) for n in names}
    for r in range(reps):
        for n in names:
            if n in timers:
                timers[n].reset()
            with ctx_of(n):
                c0, t0 = time.process_time(), time.perf_counter()
                models[n](x)
                dt = time.perf_counter() - t0
                runs[n]['cpu'].append(time.process_time() - c0)
            runs[n]['wall'].append(dt)
            if n in timers:
                runs[n]['stages'].append(_stage_split(timers[n].totals, dt))
        print(f'  [b{x.shape[0]}] round {r + 1}/{reps}: ' + ', '.join(
            f"{n} {runs[n]['wall'][-1]:.3f}" for n in names) +
            f' (load {os.getloadavg()[0]:.1f})', flush=True)
    return runs


def bench_batch(batch: int, names: List[str], warmup: int, reps: int,
                models: Dict[str, torch.nn.Module]) -> Dict:
    x = common.make_inputs(batch)
    timers = {n: common.StageTimer(models[n], STAGES) for n in names
              if not CONFIGS[n].get('compile')}
    outs = {}
    for n in names:  # warm-up; its outputs feed the deviation check
        t0 = time.perf_counter()
        for _ in range(max(warmup, 1)):
            with ctx_of(n):
                outs[n] = models[n](x)
        print(f'  [b{batch}] warm-up {n}: {time.perf_counter() - t0:.2f} s',
              flush=True)
    runs = run_rounds(x, names, reps, models, timers)
    for t in timers.values():
        t.remove()
    res = {}
    for n in names:
        entry = common.summarize(runs[n]['wall'])
        entry['cpu_median_s'] = statistics.median(runs[n]['cpu'])
        if runs[n]['stages']:
            entry['stages_median_s'] = {
                k: statistics.median(s[k] for s in runs[n]['stages'])
                for k in STAGE_ORDER
            }
        if 'dense_ref' in outs and n != 'dense_ref':
            entry['deviation_vs_dense_ref'] = report.deviations(
                outs['dense_ref'], outs[n])
        res[n] = entry
    if 'dense_ref' in res:
        d = res['dense_ref']
        for e in res.values():
            e['ratio_to_dense_ref'] = e['median_s'] / d['median_s']
            e['ratio_min_to_dense_ref'] = e['min_s'] / d['min_s']
            e['ratio_cpu_to_dense_ref'] = (e['cpu_median_s'] /
                                           d['cpu_median_s'])
    return res


def deviation_only(args) -> Dict:
    """Outputs of every speed mode vs ``dense_ref`` on one batch."""
    x = common.make_inputs(args.deviation_batch)
    outs = {}
    for n in ('dense_ref', ) + HEADLINE + BREAKDOWN:
        model = make_config(n, args)
        with ctx_of(n):
            outs[n] = model(x)
        del model
        gc.collect()
    return {n: report.deviations(outs['dense_ref'], outs[n])
            for n in outs if n != 'dense_ref'}


# ----------------------------------------------------------------------
def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batches', type=int, nargs='+', default=[1, 8],
                   help='batch sizes (the headline needs 1 and 8)')
    p.add_argument('--threads', type=int, default=2,
                   help='torch.set_num_threads (default 2)')
    p.add_argument('--reps', type=int, nargs='+', default=[9, 5],
                   help='timed round-robin rounds per batch (same order)')
    p.add_argument('--warmup', type=int, nargs='+', default=[2, 1])
    p.add_argument('--configs', nargs='+', default=None,
                   help='configurations to time (default: dense_ref, the '
                   'headline and the breakdown)')
    p.add_argument('--compile', action='store_true',
                   help='also time approximate+compile')
    p.add_argument('--memory-configs', nargs='+',
                   default=['dense_ref', 'exact', 'approximate'])
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--quick', action='store_true',
                   help='3 rounds, 1 warm-up (smoke run; numbers unusable)')
    common.add_model_args(p)
    p.add_argument('--deviation-only', action='store_true',
                   help='only the deviation table (no timing, no memory)')
    p.add_argument('--deviation-batch', type=int, default=8)
    p.add_argument('--out', default=None, help='JSON output')
    p.add_argument('--table', default=None,
                   help='write the markdown report to this file')
    p.add_argument('--memory-child', nargs=2, metavar=('CONFIG', 'BATCH'),
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


def timed_configs(args) -> List[str]:
    names = list(args.configs or ('dense_ref', ) + HEADLINE + BREAKDOWN)
    if args.compile and 'approximate+compile' not in names:
        names.append('approximate+compile')
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise SystemExit(f'unknown configurations {unknown}; choose from '
                         f'{sorted(CONFIGS)}')
    return names


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child[0],
                                      int(args.memory_child[1]), args)))
        return
    torch.set_num_threads(args.threads)
    info = common.machine_info()
    info['command'] = ' '.join(
        shlex.quote(a) for a in [sys.executable] + sys.argv)
    info['weights'] = args.checkpoint or 'seeded random weights'
    print(json.dumps(info, indent=1), flush=True)
    results: Dict = dict(machine=info, settings=vars(args), timing={},
                         memory={}, deviation={})
    t_start = time.perf_counter()
    if args.deviation_only:
        results['deviation'] = deviation_only(args)
    else:
        names = timed_configs(args)
        models = {n: make_config(n, args) for n in names}
        for i, b in enumerate(args.batches):
            reps = 3 if args.quick else args.reps[min(i, len(args.reps) - 1)]
            warm = 1 if args.quick else args.warmup[min(
                i, len(args.warmup) - 1)]
            print(f'batch {b}: {names}, warm-up {warm}, rounds {reps}',
                  flush=True)
            results['timing'][str(b)] = bench_batch(b, names, warm, reps,
                                                    models)
        models.clear()
        gc.collect()
        if not args.no_memory:
            results['memory'] = measure_memory(args.batches,
                                               args.memory_configs, args)
    info['loadavg_end'] = os.getloadavg()
    info['wall_total_s'] = time.perf_counter() - t_start
    text = report.markdown(results, HEADLINE, STAGE_ORDER)
    print(text)
    if args.out:
        Path(args.out).write_text(
            json.dumps(common.to_jsonable(results), indent=1) + '\n')
    if args.table:
        Path(args.table).write_text(text)


if __name__ == '__main__':
    main()
