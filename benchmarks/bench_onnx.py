# Copyright (c) interwild_mm contributors.
"""onnxruntime vs PyTorch CPU time of InterWild, measured in ONE run.

Four configurations, full-size InterWild (``configs/interwild_ih26m_coco.py``,
synthetic MANO, seeded random weights as in ``bench_forward.py``, or
``--checkpoint``), the same thread count for both runtimes (2 by default:
``torch.set_num_threads`` and onnxruntime's intra-op pool):

* ``torch_plain`` - the PyTorch model as configured (dense TransNet, the
  official computation) under ``torch.no_grad`` (``speed='none'``);
* ``torch_exact`` - ``optimize_for_inference(speed='exact')`` under
  ``torch.inference_mode`` (the inferencer's default);
* ``ort_plain`` - onnxruntime on ``tools/export_onnx.py``'s file of the
  plain model (``--speed none``, closed-form inverses, dynamic batch);
* ``ort_exact`` - onnxruntime on the ``--speed exact`` file (factorised
  TransNet first conv).

Timing: after warm-up, round-robin rounds (one call of every configuration
per round) so that machine load hits all alike; medians, minima and the
ratios to ``torch_plain`` and ``ort_X / torch_X``. Parity: max |Δ| of each
onnxruntime configuration vs its PyTorch counterpart, judged with the
export tolerances (``interwild_mm/apis/export.py``), and the closed-form
PyTorch path vs the default path. Absolute times depend on the machine and
its load (printed with the results); compare ratios of one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_onnx.py --out /tmp/onnx.json \\
        --table /tmp/onnx.md                   # batches 1 and 2, 2 threads
    .venv/bin/python benchmarks/bench_onnx.py --quick   # smoke run
"""
import argparse
import copy
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import common  # noqa: E402

NAMES = ('torch_plain', 'torch_exact', 'ort_plain', 'ort_exact')
#: onnxruntime configuration -> its PyTorch counterpart
PAIRS = {'ort_plain': 'torch_plain', 'ort_exact': 'torch_exact'}


def build_models(args) -> Dict[str, torch.nn.Module]:
    """The plain model and its exact-mode copy."""
    from interwild_mm.models.utils.inference_opt import optimize_for_inference
    if args.checkpoint:
        plain = common.load_model(args.config, args.checkpoint,
                                  args.mano_dir, first_conv_impl='dense')
    else:
        plain = common.build_model('dense', args.mano_dir)
    exact = optimize_for_inference(copy.deepcopy(plain), speed='exact')
    return dict(torch_plain=plain, torch_exact=exact)


def export_files(plain: torch.nn.Module, folder: Path,
                 opset: int) -> Dict[str, Dict]:
    """Export the plain model twice (``speed`` none / exact)."""
    from interwild_mm.apis.export import export_onnx
    example = common.make_inputs(2)
    res = {}
    for name, speed in (('ort_plain', 'none'), ('ort_exact', 'exact')):
        path = folder / f'interwild_{speed}.onnx'
        t0 = time.perf_counter()
        export_onnx(plain, path, example, opset=opset, speed=speed)
        res[name] = dict(path=str(path), speed=speed,
                         export_s=time.perf_counter() - t0,
                         size_mb=path.stat().st_size / 2**20)
        print(f'exported {name}: {res[name]}', flush=True)
    return res


def runners(models: Dict[str, torch.nn.Module], files: Dict[str, Dict],
            threads: int) -> Dict[str, Callable]:
    """name -> ``fn(x) -> dict of outputs`` (numpy for onnxruntime)."""
    from interwild_mm.apis.export import onnx_session, run_onnx

    def torch_fn(model, ctx):
        def fn(x):
            with ctx():
                return model(x, mode='tensor')
        return fn

    fns = dict(torch_plain=torch_fn(models['torch_plain'], torch.no_grad),
               torch_exact=torch_fn(models['torch_exact'],
                                    torch.inference_mode))
    for name in ('ort_plain', 'ort_exact'):
        session = onnx_session(files[name]['path'], threads)
        fns[name] = (lambda s: (lambda x: run_onnx(s, x)))(session)
    return fns


def bench_batch(batch: int, fns: Dict[str, Callable], warmup: int,
                rounds: int) -> Dict:
    """Warm-up, round-robin timing and parity of one batch size."""
    from interwild_mm.apis.export import compare_outputs
    x = common.make_inputs(batch)
    outs = {}
    for n in NAMES:
        t0 = time.perf_counter()
        for _ in range(max(warmup, 1)):
            outs[n] = fns[n](x)
        print(f'  [b{batch}] warm-up {n}: {time.perf_counter() - t0:.2f} s',
              flush=True)
    wall = {n: [] for n in NAMES}
    cpu = {n: [] for n in NAMES}
    for r in range(rounds):
        for n in NAMES:
            c0, t0 = time.process_time(), time.perf_counter()
            fns[n](x)
            wall[n].append(time.perf_counter() - t0)
            cpu[n].append(time.process_time() - c0)
        print(f'  [b{batch}] round {r + 1}/{rounds}: ' + ', '.join(
            f'{n} {wall[n][-1]:.3f}' for n in NAMES) +
            f' (load {os.getloadavg()[0]:.1f})', flush=True)
    res = {}
    for n in NAMES:
        res[n] = common.summarize(wall[n])
        res[n]['cpu_median_s'] = statistics.median(cpu[n])
    for n in NAMES:
        res[n]['ratio_to_torch_plain'] = (res[n]['median_s'] /
                                          res['torch_plain']['median_s'])
    for ort, ref in PAIRS.items():
        res[ort]['ratio_to_' + ref] = (res[ort]['median_s'] /
                                       res[ref]['median_s'])
        rows = compare_outputs(outs[ref], outs[ort])
        res[ort]['parity_vs_' + ref] = [r._asdict() | dict(ok=r.ok)
                                        for r in rows]
    return res


def closed_form_deviation(model: torch.nn.Module, batch: int) -> List[Dict]:
    """PyTorch with closed-form inverses (the exported form) vs default."""
    from interwild_mm.apis.export import compare_outputs, exportable
    x = common.make_inputs(batch)
    with torch.no_grad():
        ref = model(x, mode='tensor')
        with exportable(model):
            out = model(x, mode='tensor')
    return [r._asdict() | dict(ok=r.ok) for r in compare_outputs(ref, out)]


def _worst(rows: List[Dict]) -> str:
    judged = [r for r in rows if r['tolerance']]
    r = max(judged, key=lambda r: r['max_abs'] / r['tolerance'])
    flag = 'ok' if all(r['ok'] for r in judged) else 'NOT ok'
    return (f"{flag} (worst {r['name']}: {r['max_abs']:.2e} "
            f"{r['unit']} = {r['max_abs'] / r['tolerance']:.3f}x tol)")


def markdown(results: Dict) -> str:
    """The report table of a run."""
    info = results['machine']
    lines = [
        f"Machine: {info.get('lscpu_Model_name', '?')}, "
        f"{info.get('cpu_count')} CPUs, torch {info['torch']}, onnxruntime "
        f"{info.get('onnxruntime')}, {results['settings']['threads']} "
        f"threads for both runtimes; load average "
        f"{info['loadavg_start'][0]:.2f} at the start, "
        f"{info['loadavg_end'][0]:.2f} at the end.", '',
        f"Command: `{info['command']}`", '',
        '| batch | config | median s | min s | CPU s | / torch_plain | '
        'ort / torch same mode | parity vs PyTorch (same mode) |',
        '|---|---|---|---|---|---|---|---|']
    for b, res in results['timing'].items():
        for n in NAMES:
            e = res[n]
            same = e.get('ratio_to_' + PAIRS.get(n, ''), None)
            parity = e.get('parity_vs_' + PAIRS.get(n, ''))
            lines.append(
                f"| {b} | {n} | {e['median_s']:.3f} | {e['min_s']:.3f} | "
                f"{e['cpu_median_s']:.3f} | {e['ratio_to_torch_plain']:.3f}"
                f" | {'-' if same is None else f'{same:.3f}'} | "
                f"{'-' if parity is None else _worst(parity)} |")
    lines += ['', 'Export (seconds, file size): ' + ', '.join(
        f"{n} {f['export_s']:.0f} s / {f['size_mb']:.0f} MiB"
        for n, f in results['export'].items()), '',
        'Closed-form inverses (the exported form) vs the default path, in '
        'PyTorch: ' + _worst(results['closed_form_vs_default'])]
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batches', type=int, nargs='+', default=[1, 2])
    p.add_argument('--threads', type=int, default=2,
                   help='threads of both runtimes (default 2)')
    p.add_argument('--rounds', type=int, default=9,
                   help='timed round-robin rounds per batch')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--quick', action='store_true',
                   help='3 rounds, 1 warm-up, batch 1 (smoke run)')
    p.add_argument('--opset', type=int, default=18)
    p.add_argument('--onnx-dir', default=None,
                   help='where to write the exported files (default: a '
                   'temporary folder, removed afterwards)')
    common.add_model_args(p)
    p.add_argument('--out', default=None, help='JSON output')
    p.add_argument('--table', default=None, help='markdown output')
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.warmup, args.batches = 3, 1, [1]
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    import onnxruntime
    info = common.machine_info()
    info['onnxruntime'] = onnxruntime.__version__
    info['command'] = ' '.join(
        shlex.quote(a) for a in [sys.executable] + sys.argv)
    info['weights'] = args.checkpoint or 'seeded random weights'
    print(json.dumps(info, indent=1), flush=True)
    models = build_models(args)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.onnx_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = export_files(models['torch_plain'], folder, args.opset)
        fns = runners(models, files, args.threads)
        results = dict(machine=info, settings=vars(args), export=files,
                       timing={})
        for b in args.batches:
            results['timing'][str(b)] = bench_batch(b, fns, args.warmup,
                                                    args.rounds)
    results['closed_form_vs_default'] = closed_form_deviation(
        models['torch_plain'], 2)
    info['loadavg_end'] = os.getloadavg()
    table = markdown(results)
    print('\n' + table)
    if args.out:
        Path(args.out).write_text(json.dumps(common.to_jsonable(results),
                                             indent=1))
    if args.table:
        Path(args.table).write_text(table + '\n')


if __name__ == '__main__':
    main()
