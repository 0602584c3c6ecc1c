# Copyright (c) interwild_mm contributors.
"""tools/test.py prints the metric table of the synthetic HIC-format split;
its MRRPE / MPVPE agree with a float64 re-computation from the dumped
predictions, the GT PLY meshes and the MANO joint regressor."""
import json
import os.path as osp
import pickle
import re

import numpy as np
import torch
import trimesh
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ._helpers import TINY_CFG, data_options, run_tool


def _save_untrained(cfg_path: str, mano_dir, out: str) -> None:
    import interwild_mm  # noqa: F401 (registers the model)
    from mmpose.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmpose')
    cfg.model.mano.model_dir = str(mano_dir)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(meta=dict(epoch=0, iter=0), state_dict=model.state_dict()),
               out)


def _parse_table(stdout: str) -> dict:
    table = stdout[stdout.index('InterWild test results'):]
    out = {}
    for m in re.finditer(r'^(\w+)\s+(-?[\d.]+|nan)\s+(mm|%)$', table, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def _wrist_regressor(mano_dir) -> np.ndarray:
    # MANO's J_regressor row 0 (wrist), read straight from the pickle
    from interwild_mm.mano.io import load_mano_pickle
    reg = load_mano_pickle(osp.join(str(mano_dir), 'MANO_RIGHT.pkl'))[
        'J_regressor']
    reg = reg.toarray() if hasattr(reg, 'toarray') else np.asarray(reg)
    return np.asarray(reg[0], dtype=np.float64)


def test_test_tool_prints_hic_metric_table(tmp_path, synthetic_data,
                                           synthetic_mano_dir):
    ckpt = str(tmp_path / 'untrained.pth')
    _save_untrained(TINY_CFG, synthetic_mano_dir, ckpt)
    dump = str(tmp_path / 'results.pkl')
    proc = run_tool([
        'tools/test.py', TINY_CFG, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--out', dump, '--cfg-options'
    ] + data_options(synthetic_data, synthetic_mano_dir))
    table = _parse_table(proc.stdout)
    # the HIC protocol's metrics, nothing of the InterHand2.6M protocol
    for k in ('MPVPE_single', 'MPVPE_interacting', 'MPVPE_all', 'MRRPE',
              'RRVE', 'IoU', 'IoU_right', 'IoU_left'):
        assert k in table, (k, proc.stdout[-2000:])
    assert not any(k.startswith('MPJPE') for k in table)

    # --- independent float64 MRRPE / MPVPE_all --------------------------
    hic_root = osp.join(str(synthetic_data), 'HIC', 'data')
    with open(osp.join(hic_root, 'HIC.json')) as fh:
        hic = json.load(fh)
    anns = {a['image_id']: a for a in hic['annotations']}
    names = {i['id']: i['file_name'] for i in hic['images']}
    with open(dump, 'rb') as fh:
        results = pickle.load(fh)
    assert len(results) == len(hic['images'])
    wrist = _wrist_regressor(synthetic_mano_dir)

    def gt_mesh(path):
        return np.asarray(
            trimesh.load(osp.join(hic_root, path), process=False).vertices,
            dtype=np.float64)

    def pred(res, key):
        v = res['pred_instances'][key]
        v = v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        return v.astype(np.float64)[0]

    mrrpe, vert_err = [], []
    for res in results:
        img_id = [k for k, n in names.items()
                  if res['img_path'].endswith(n)]
        assert len(img_id) == 1
        ann = anns[img_id[0]]
        meshes = {s: gt_mesh(ann[f'{s}_mano_path'])
                  for s in ('right', 'left') if ann.get(f'{s}_mano_path')}
        for s, p in (('right', 'rmano_mesh_cam'), ('left', 'lmano_mesh_cam')):
            if s in meshes:
                g = meshes[s] - wrist @ meshes[s]
                q = pred(res, p)
                q = q - wrist @ q
                vert_err.append(np.linalg.norm(g - q, axis=1).mean())
        if ann['hand_type'] == 'interacting' and len(meshes) == 2:
            rel = wrist @ meshes['left'] - wrist @ meshes['right']
            mrrpe.append(np.linalg.norm(pred(res, 'rel_trans') - rel))
    assert mrrpe, 'the synthetic HIC split has interacting samples'
    np.testing.assert_allclose(table['MRRPE'], 1000 * np.mean(mrrpe),
                               atol=0.011)
    np.testing.assert_allclose(table['MPVPE_all'], 1000 * np.mean(vert_err),
                               atol=0.011)


def test_metric_table_units():
    """Distances in mm, IoU in %, skipped-joint counts in joints."""
    import importlib.util
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'test.py')
    spec = importlib.util.spec_from_file_location('_tools_test', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    table = tool.format_metric_table(
        dict(MPJPE_single=12.345, IoU=55.0, MPJPE_single_joints_skipped=2.0))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()
            if line and line[0].isalpha() and not line.startswith('metric')}
    assert rows['MPJPE_single'] == ['12.35', 'mm']
    assert rows['IoU'] == ['55.00', '%']
    assert rows['MPJPE_single_joints_skipped'] == ['2.00', 'joints']
