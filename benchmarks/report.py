# Copyright (c) interwild_mm contributors.
"""Output deviations and the markdown report of ``bench_forward.py``."""
from typing import Dict, Sequence

import torch

#: targets of issue #14: time ratio to dense_ref per batch, memory ratio
TIME_TARGETS = {'exact': {1: 0.6, 8: 0.4}, 'approximate': {1: 0.4, 8: 0.25}}
MEMORY_TARGET = (8, 0.1)

#: tolerance of the exact speed mode per unit
EXACT_TOL = {'m': 1e-6, 'px': 1e-4, 'rad': 1e-6, 'rot': 1e-6, '1': 1e-6,
             'bins': 1e-6, 'rel': 1e-5}


def unit_of(key: str) -> str:
    """Unit of an output of ``InterWild(mode='tensor')``: the export's
    units, with the render cameras' principal points in plain pixels."""
    from interwild_mm.apis.export import output_unit
    unit = output_unit(key)
    return 'px' if unit == 'render_px' else unit


def deviations(ref: Dict[str, torch.Tensor],
               out: Dict[str, torch.Tensor]) -> Dict[str, Dict]:
    """Max |out - ref| per output key (``*joint_img`` split into xy pixels
    and z bins, poses also as rotation matrices, focals relative), judged
    with :data:`EXACT_TOL` (the export's comparison,
    ``interwild_mm.apis.export.compare_outputs``)."""
    from interwild_mm.apis.export import compare_outputs
    shared = {k: ref[k] for k in sorted(ref) if k != 'img' and k in out}
    rows = compare_outputs(shared, out, tolerances=EXACT_TOL,
                           unit_of=unit_of)
    return {r.name: dict(unit=r.unit, max_abs=r.max_abs,
                         within_exact_tol=r.ok) for r in rows}


def _ratio(timing: Dict, batch: int, name: str, key: str = 'ratio_to_'
           'dense_ref'):
    return timing.get(str(batch), {}).get(name, {}).get(key)


def _memory_ratio(memory: Dict, batch: int, name: str):
    res = memory.get(str(batch), {})
    ref = res.get('dense_ref', {}).get('forward_peak_mb')
    val = res.get(name, {}).get('forward_peak_mb')
    return None if not ref or val is None else val / ref


def _fmt(v, target=None) -> str:
    if v is None:
        return 'not measured'
    txt = f'{v:.3f}'
    if target is not None:
        txt += ' (met)' if v <= target else ' (NOT met)'
    return txt


def headline(results: Dict, names: Sequence[str]) -> str:
    timing, memory = results['timing'], results['memory']
    lines = ['## Headline: ratios to `dense_ref` measured in this run', '',
             '| | batch 1 | batch 8 | targets (b1 / b8) |',
             '|---|---|---|---|']
    for n in names:
        tgt = TIME_TARGETS.get(n, {})
        for label, key in (('median wall', 'ratio_to_dense_ref'),
                           ('min wall', 'ratio_min_to_dense_ref'),
                           ('median CPU', 'ratio_cpu_to_dense_ref')):
            main = key == 'ratio_to_dense_ref'
            cells = [_fmt(_ratio(timing, b, n, key),
                          tgt.get(b) if main else None) for b in (1, 8)]
            lines.append(f'| `{n}` time, {label} | {cells[0]} | {cells[1]} '
                         f'| {tgt.get(1, "-")} / {tgt.get(8, "-")} |')
    b, tgt = MEMORY_TARGET
    for n in names:
        lines.append(f'| `{n}` forward memory increment at batch {b} | - | '
                     f'{_fmt(_memory_ratio(memory, b, n), tgt)} | - / {tgt} '
                     '|')
    return '\n'.join(lines) + '\n'


def oversubscribed(info: Dict) -> bool:
    """Whether other load left fewer idle cores than torch threads.

    Then every OpenMP barrier of the many small operations waits for a
    descheduled thread: measured here, the factorised first conv took 5 ms
    with 1 thread and 0.75 s with 2 threads at load 4.8 on 2 cores.
    """
    load = max(info.get('loadavg_start', (0, ))[0],
               info.get('loadavg_end', (0, ))[0])
    cores = info.get('cpu_count') or 1
    return load + info.get('torch_threads', 1) > cores + 0.5


def machine_block(info: Dict) -> str:
    keys = ('date', 'command', 'weights', 'lscpu_Model_name', 'cpu_count',
            'torch_threads', 'torch', 'mmcv', 'mmengine', 'mmpose',
            'loadavg_start', 'loadavg_end', 'wall_total_s')
    lines = ['## Machine, load and command', '']
    lines += [f'* {k}: `{info[k]}`' for k in keys if k in info]
    if oversubscribed(info):
        lines += ['', '**Warning: the machine was loaded (load average + '
                  'threads > cores): OpenMP barriers of small operations '
                  'wait for descheduled threads, times and ratios are not '
                  'representative. Re-run on an idle machine or with fewer '
                  '`--threads`.**']
    return '\n'.join(lines) + '\n'


def times_table(timing: Dict) -> str:
    lines = ['## Absolute times (s; only comparable within this run)', '',
             '| batch | config | median | min | CPU median | rounds | '
             'median / dense_ref | worst exact-tolerance ratio |',
             '|---|---|---|---|---|---|---|---|']
    nan = float('nan')
    for b, res in timing.items():
        for n, e in res.items():
            dev = e.get('deviation_vs_dense_ref')
            worst = '-' if dev is None else _worst(dev)
            lines.append(
                f"| {b} | {n} | {e['median_s']:.3f} | {e['min_s']:.3f} | "
                f"{e['cpu_median_s']:.3f} | {e['reps']} | "
                f"{e.get('ratio_to_dense_ref', nan):.3f} | {worst} |")
    return '\n'.join(lines) + '\n'


def _worst(dev: Dict) -> str:
    key = max(dev, key=lambda k: dev[k]['max_abs'] / EXACT_TOL[dev[k]['unit']])
    ratio = dev[key]['max_abs'] / EXACT_TOL[dev[key]['unit']]
    return f'{key} {ratio:.3g}x'


def deviation_table(devs: Dict[str, Dict], title: str) -> str:
    """Rows = output keys, columns = configurations."""
    if not devs:
        return ''
    names = list(devs)
    keys = list(next(iter(devs.values())))
    lines = [f'## {title}', '',
             'max |output - dense_ref output| (`rel` = relative, `rot` = '
             'rotation-matrix entries); `*` marks values above the exact '
             f'tolerances {EXACT_TOL}.', '',
             '| output | unit | ' + ' | '.join(f'`{n}`' for n in names) +
             ' |', '|---|---|' + '---|' * len(names)]
    for k in keys:
        cells = []
        for n in names:
            e = devs[n].get(k)
            cells.append('-' if e is None else f"{e['max_abs']:.2g}" +
                         ('' if e['within_exact_tol'] else '*'))
        unit = devs[names[0]][k]['unit']
        lines.append(f'| {k} | {unit} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def stage_table(timing: Dict, stage_order: Sequence[str]) -> str:
    lines = ['## Per-stage medians (s)', '',
             '| batch | config | ' + ' | '.join(stage_order) + ' |',
             '|---|---|' + '---|' * len(stage_order)]
    for b, res in timing.items():
        for n, e in res.items():
            if 'stages_median_s' in e:
                lines.append(f'| {b} | {n} | ' + ' | '.join(
                    f"{e['stages_median_s'][k]:.4f}" for k in stage_order) +
                    ' |')
    return '\n'.join(lines) + '\n'


def memory_table(memory: Dict) -> str:
    if not memory:
        return ''
    lines = ['## Forward memory (fresh subprocess per row, MiB)', '',
             '| batch | config | RSS before forward | peak RSS | '
             'increment (peak - before) | / dense_ref |',
             '|---|---|---|---|---|---|']
    for b, res in memory.items():
        ref = res.get('dense_ref', {}).get('forward_peak_mb')
        for n, e in res.items():
            if 'error' in e:
                lines.append(f"| {b} | {n} | error: {e['error']} |||||")
                continue
            ratio = e['forward_peak_mb'] / ref if ref else float('nan')
            lines.append(f"| {b} | {n} | {e['rss_before_mb']:.0f} | "
                         f"{e['peak_rss_mb']:.0f} | "
                         f"{e['forward_peak_mb']:.0f} | {ratio:.3f} |")
    return '\n'.join(lines) + '\n'


def markdown(results: Dict, names: Sequence[str],
             stage_order: Sequence[str]) -> str:
    """The whole report: headline first."""
    weights = results['machine'].get('weights', '')
    parts = []
    if results['timing']:
        parts.append(headline(results, names))
    parts.append(machine_block(results['machine']))
    if results['timing']:
        parts.append(times_table(results['timing']))
        largest = max(results['timing'], key=int)
        devs = {n: e['deviation_vs_dense_ref']
                for n, e in results['timing'][largest].items()
                if 'deviation_vs_dense_ref' in e}
        parts.append(deviation_table(
            devs, f'Output deviations at batch {largest} ({weights})'))
        parts.append(stage_table(results['timing'], stage_order))
    if results.get('deviation'):
        parts.append(deviation_table(
            results['deviation'], f'Output deviations ({weights})'))
    parts.append(memory_table(results['memory']))
    return '\n'.join(p for p in parts if p)
