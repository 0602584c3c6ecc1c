# Copyright (c) interwild_mm contributors.
"""Forward-pass benchmark of InterWild: dense reference vs ours, per stage.

One process run times every configuration on the same machine,
round-robin (one forward of each configuration per round, so load
fluctuations hit all of them alike), after warm-up, and reports medians.
Per-stage times come from forward hooks on the sub-networks. Peak memory
is measured per configuration in a FRESH subprocess (peak RSS, VmHWM, of
one steady-state forward after a warm-up forward, relative to the RSS
just before it), so configurations do not pollute each other.

Configurations (all full-size InterWild, eval mode):

* ``dense_ref`` - the official computation: Gaussian volume + dense
  2688->64 conv, no options, ``torch.no_grad``;
* ``factorised`` - TransNet's first conv from the 1-D profiles, no other
  option, ``torch.no_grad``;
* ``fact+inference_mode``, ``fact+fold_bn``, ``fact+channels_last``,
  ``fact+max_batch2`` - one option each on top of ``factorised``;
* ``fact+compile`` - fold_bn + ``torch.compile`` (``--compile``);
* ``ours`` - :data:`OURS`;
* ``dense+opts`` - the dense path with the same options as ``ours``
  (shows how much comes from the factorisation alone).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_forward.py            # full run
    .venv/bin/python benchmarks/bench_forward.py --batches 1 --quick
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

#: options of our recommended inference configuration
OURS = dict(impl='factorised', ctx='inference_mode', fold_bn=True,
            channels_last=True, compile=False, max_batch=2)

CONFIGS: Dict[str, Dict] = {
    'dense_ref': dict(impl='dense', ctx='no_grad', fold_bn=False,
                      channels_last=False, compile=False, max_batch=None),
    'factorised': dict(impl='factorised', ctx='no_grad', fold_bn=False,
                       channels_last=False, compile=False, max_batch=None),
    'fact+inference_mode': dict(impl='factorised', ctx='inference_mode',
                                fold_bn=False, channels_last=False,
                                compile=False, max_batch=None),
    'fact+fold_bn': dict(impl='factorised', ctx='no_grad', fold_bn=True,
                         channels_last=False, compile=False, max_batch=None),
    'fact+channels_last': dict(impl='factorised', ctx='no_grad',
                               fold_bn=False, channels_last=True,
                               compile=False, max_batch=None),
    'fact+max_batch2': dict(impl='factorised', ctx='no_grad', fold_bn=False,
                            channels_last=False, compile=False, max_batch=2),
    'fact+compile': dict(impl='factorised', ctx='inference_mode',
                         fold_bn=True, channels_last=False, compile=True,
                         max_batch=None),
    'ours': dict(OURS),
    'dense+opts': dict(OURS, impl='dense'),
}

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

#: parity tolerances of the issue: key -> (tolerance, unit)
PARITY = {
    'rmano_mesh_cam': 1e-5, 'lmano_mesh_cam': 1e-5,
    'rmano_joint_cam': 1e-5, 'lmano_joint_cam': 1e-5,
    'rroot_cam': 1e-5, 'lroot_cam': 1e-5, 'rel_trans': 1e-5,
    'rhand_bbox': 1e-3, 'lhand_bbox': 1e-3,
    'rjoint_img_xy': 1e-3, 'ljoint_img_xy': 1e-3,
    'rroot_rotmat': 1e-5, 'lroot_rotmat': 1e-5,
    'rhand_rotmat': 1e-5, 'lhand_rotmat': 1e-5,
}


def ctx_of(name: str):
    return torch.inference_mode() if name == 'inference_mode' \
        else torch.no_grad()


def make_config(cfg: Dict, seed: int = 0) -> torch.nn.Module:
    from interwild_mm.models.utils.inference_opt import \
        optimize_for_inference
    model = common.build_model(cfg['impl'], seed=seed)
    if cfg['fold_bn'] or cfg['channels_last'] or cfg['compile'] or \
            cfg['max_batch'] is not None:
        model = optimize_for_inference(
            model, fold_bn=cfg['fold_bn'],
            channels_last=cfg['channels_last'], compile=cfg['compile'],
            max_batch=cfg['max_batch'])
    return model


def parity_view(out: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Outputs in the units of the parity tolerances (poses as matrices)."""
    from interwild_mm.geometry.rotation import axis_angle_to_matrix
    v = {k: out[k] for k in PARITY if k in out}
    for s in ('r', 'l'):
        v[f'{s}joint_img_xy'] = out[f'{s}joint_img'][..., :2]
        v[f'{s}root_rotmat'] = axis_angle_to_matrix(
            out[f'{s}mano_root_pose'].double())
        hp = out[f'{s}mano_hand_pose'].double()
        v[f'{s}hand_rotmat'] = axis_angle_to_matrix(
            hp.reshape(hp.shape[0], -1, 3))
    return v


def check_parity(ref: Dict, out: Dict) -> Dict:
    a, b = parity_view(ref), parity_view(out)
    diffs = {k: float((a[k].double() - b[k].double()).abs().max())
             for k in PARITY}
    worst = {k: diffs[k] / PARITY[k] for k in PARITY}
    return dict(max_abs_diff=diffs, ok=all(v <= 1.0 for v in worst.values()),
                worst_key=max(worst, key=worst.get),
                worst_ratio_to_tol=max(worst.values()))


# ----------------------------------------------------------------------
# memory child
def memory_child(name: str, batch: int, threads: int) -> Dict:
    torch.set_num_threads(threads)
    cfg = CONFIGS[name]
    model = make_config(cfg)
    x = common.make_inputs(batch)
    with ctx_of(cfg['ctx']):
        out = model(x)  # warm-up (oneDNN primitives, lazy inits)
    del out
    gc.collect()
    common.malloc_trim()
    reset_ok = common.reset_peak_rss()
    rss_before = common.read_status_kb('VmRSS')
    with ctx_of(cfg['ctx']):
        out = model(x)
    hwm = common.read_status_kb('VmHWM')
    return dict(config=name, batch=batch, rss_before_mb=rss_before / 1024,
                peak_rss_mb=hwm / 1024,
                forward_peak_mb=(hwm - rss_before) / 1024,
                hwm_reset=reset_ok)


# ----------------------------------------------------------------------
def bench_batch(batch: int, names: List[str], warmup: int, reps: int,
                models: Dict[str, torch.nn.Module]) -> Dict:
    x = common.make_inputs(batch)
    timers = {}
    outs = {}
    for n in names:
        if not CONFIGS[n]['compile']:
            timers[n] = common.StageTimer(models[n], STAGES)
    # warm-up (and outputs for the parity check)
    for n in names:
        t0 = time.perf_counter()
        for _ in range(max(warmup, 1)):
            with ctx_of(CONFIGS[n]['ctx']):
                outs[n] = models[n](x)
        print(f'  [b{batch}] warm-up {n}: {time.perf_counter() - t0:.2f} s',
              flush=True)
    times = {n: [] for n in names}
    cpu = {n: [] for n in names}
    stage_runs = {n: [] for n in names}
    for r in range(reps):
        for n in names:
            if n in timers:
                timers[n].reset()
            with ctx_of(CONFIGS[n]['ctx']):
                c0 = time.process_time()
                t0 = time.perf_counter()
                models[n](x)
                dt = time.perf_counter() - t0
                cpu[n].append(time.process_time() - c0)
            times[n].append(dt)
            if n in timers:
                st = dict(timers[n].totals)
                st['crops'] = st['hand_roi'] - st['hand_backbone']
                st['transnet_volume_conv'] = (st['transnet'] -
                                              st['transnet_resnet18'])
                st['other'] = dt - sum(st[k] for k in (
                    'body', 'box_head', 'hand_roi', 'shnet_head', 'mano',
                    'transnet'))
                stage_runs[n].append({k: st[k] for k in STAGE_ORDER})
        print(f'  [b{batch}] round {r + 1}/{reps}: ' + ', '.join(
            f'{n} {times[n][-1]:.3f}' for n in names) +
            f' (load {os.getloadavg()[0]:.1f})', flush=True)
    for t in timers.values():
        t.remove()
    res = {}
    ref = outs.get('dense_ref')
    for n in names:
        entry = common.summarize(times[n])
        entry['cpu_median_s'] = statistics.median(cpu[n])
        entry['cpu_times_s'] = [round(t, 5) for t in cpu[n]]
        if stage_runs[n]:
            entry['stages_median_s'] = {
                k: statistics.median(s[k] for s in stage_runs[n])
                for k in STAGE_ORDER
            }
        if ref is not None and n != 'dense_ref':
            entry['parity_vs_dense_ref'] = check_parity(ref, outs[n])
        res[n] = entry
    if ref is not None:
        for n in names:
            d = res['dense_ref']
            res[n]['ratio_to_dense_ref'] = res[n]['median_s'] / d['median_s']
            res[n]['ratio_min_to_dense_ref'] = res[n]['min_s'] / d['min_s']
            res[n]['ratio_cpu_to_dense_ref'] = (res[n]['cpu_median_s'] /
                                                d['cpu_median_s'])
    return res


def fmt_table(results: Dict, info: Dict, args) -> str:
    lines = []
    lines.append('| batch | config | median s | min s | CPU s (median) | '
                 'reps | median / dense_ref | min / dense_ref | '
                 'CPU / dense_ref | parity vs dense_ref |')
    lines.append('|---|---|---|---|---|---|---|---|---|---|')
    for b, res in results['timing'].items():
        for n, e in res.items():
            par = e.get('parity_vs_dense_ref')
            ptxt = '-' if par is None else (
                ('ok' if par['ok'] else 'FAIL') +
                f" ({par['worst_key']} {par['worst_ratio_to_tol']:.2g}x tol)")
            nan = float('nan')
            lines.append(
                f"| {b} | {n} | {e['median_s']:.3f} | {e['min_s']:.3f} | "
                f"{e['cpu_median_s']:.3f} | {e['reps']} | "
                f"{e.get('ratio_to_dense_ref', nan):.3f} | "
                f"{e.get('ratio_min_to_dense_ref', nan):.3f} | "
                f"{e.get('ratio_cpu_to_dense_ref', nan):.3f} | {ptxt} |")
    lines.append('')
    lines.append('Per-stage medians (s):')
    lines.append('')
    lines.append('| batch | config | ' + ' | '.join(STAGE_ORDER) + ' |')
    lines.append('|---|---|' + '---|' * len(STAGE_ORDER))
    for b, res in results['timing'].items():
        for n, e in res.items():
            if 'stages_median_s' in e:
                lines.append(f'| {b} | {n} | ' + ' | '.join(
                    f"{e['stages_median_s'][k]:.4f}" for k in STAGE_ORDER) +
                    ' |')
    if results.get('memory'):
        lines.append('')
        lines.append('Peak memory (fresh subprocess per row, MiB):')
        lines.append('')
        lines.append('| batch | config | RSS before forward | peak RSS | '
                     'forward peak (peak - before) | / dense_ref |')
        lines.append('|---|---|---|---|---|---|')
        for b, res in results['memory'].items():
            ref = res.get('dense_ref', {}).get('forward_peak_mb')
            for n, e in res.items():
                if 'error' in e:
                    lines.append(f"| {b} | {n} | error: {e['error']} |||||")
                    continue
                ratio = (e['forward_peak_mb'] / ref) if ref else float('nan')
                lines.append(f"| {b} | {n} | {e['rss_before_mb']:.0f} | "
                             f"{e['peak_rss_mb']:.0f} | "
                             f"{e['forward_peak_mb']:.0f} | {ratio:.3f} |")
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batches', type=int, nargs='+', default=[1, 8, 32])
    p.add_argument('--threads', type=int, default=2,
                   help='torch.set_num_threads (default 2)')
    p.add_argument('--reps', type=int, nargs='+', default=[7, 4, 2],
                   help='timed repetitions per batch (same order)')
    p.add_argument('--warmup', type=int, nargs='+', default=[2, 1, 1])
    p.add_argument('--compile', action='store_true',
                   help='also time fact+compile (batch <= 8)')
    p.add_argument('--configs', nargs='+', default=None,
                   help='configurations timed at batch <= 8 (default all)')
    p.add_argument('--large-batch-configs', nargs='+',
                   default=['dense_ref', 'factorised', 'ours'],
                   help='configurations timed at batch >= 32')
    p.add_argument('--memory-configs', nargs='+',
                   default=['dense_ref', 'factorised', 'ours'])
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--quick', action='store_true',
                   help='3 reps, 1 warm-up (smoke run)')
    p.add_argument('--out', default=None,
                   help='JSON output (default: print only)')
    p.add_argument('--table', default=None,
                   help='write the markdown tables to this file')
    p.add_argument('--memory-child', nargs=2, metavar=('CONFIG', 'BATCH'),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child[0],
                                      int(args.memory_child[1]),
                                      args.threads)))
        return

    torch.set_num_threads(args.threads)
    info = common.machine_info()
    print(json.dumps(info, indent=1), flush=True)
    small = args.configs or [
        n for n in CONFIGS if n != 'fact+compile' or args.compile
    ]
    results: Dict = dict(machine=info, ours=OURS, settings=vars(args),
                         timing={}, memory={})
    models: Dict[str, torch.nn.Module] = {}
    t_start = time.perf_counter()
    for i, b in enumerate(args.batches):
        reps = 3 if args.quick else args.reps[min(i, len(args.reps) - 1)]
        warm = 1 if args.quick else args.warmup[min(i,
                                                    len(args.warmup) - 1)]
        names = small if b <= 8 else list(args.large_batch_configs)
        for n in names:
            if n not in models:
                models[n] = make_config(CONFIGS[n])
        print(f'batch {b}: {names}, warm-up {warm}, reps {reps}', flush=True)
        results['timing'][str(b)] = bench_batch(b, names, warm, reps, models)
    if not args.no_memory:
        models.clear()
        gc.collect()
        for b in args.batches:
            results['memory'][str(b)] = {}
            for n in args.memory_configs:
                print(f'memory: batch {b} {n}', flush=True)
                try:
                    r = common.run_json_subprocess([
                        str(Path(__file__).resolve()), '--threads',
                        str(args.threads), '--memory-child', n, str(b)
                    ])
                except Exception as exc:  # timeout / crash: record it
                    r = dict(error=f'{type(exc).__name__}: {exc}')
                results['memory'][str(b)][n] = r
                print('   ', r, flush=True)
    info['loadavg_end'] = os.getloadavg()
    info['wall_total_s'] = time.perf_counter() - t_start
    table = fmt_table(results, info, args)
    print(table)
    if args.out:
        Path(args.out).write_text(
            json.dumps(common.to_jsonable(results), indent=1) + '\n')
    if args.table:
        Path(args.table).write_text(table)


if __name__ == '__main__':
    main()
