# Copyright (c) interwild_mm contributors.
"""The synthetic MANO pair: official layout, hand-like geometry, mirror."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from interwild_mm.mano.constants import (FINGERTIP_VERTEX_IDS, MANO_PARENTS,
                                         NUM_FACES, NUM_VERTS)
from interwild_mm.mano.io import load_mano_pickle

SHAPES = {
    'v_template': (778, 3), 'f': (1538, 3), 'J_regressor': (16, 778),
    'weights': (778, 16), 'posedirs': (778, 3, 135),
    'shapedirs': (778, 3, 10), 'kintree_table': (2, 16),
    'hands_components': (45, 45), 'hands_mean': (45, ), 'J': (16, 3),
}


@pytest.fixture(scope='module')
def models(synthetic_mano_dir):
    return {side: load_mano_pickle(synthetic_mano_dir / f'MANO_{side}.pkl')
            for side in ('RIGHT', 'LEFT')}


def _signed_volume(v: np.ndarray, f: np.ndarray) -> float:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum('ij,ij->i', a, np.cross(b, c)).sum() / 6.0)


def test_layout(models):
    for model in models.values():
        for key, shape in SHAPES.items():
            assert model[key].shape == shape, key
        assert model['f'].dtype == np.uint32
        assert model['f'].min() == 0 and model['f'].max() == NUM_VERTS - 1
        assert len(np.unique(np.sort(model['f'], axis=1), axis=0)) == \
            NUM_FACES
        np.testing.assert_array_equal(model['kintree_table'][0, 1:],
                                      MANO_PARENTS[1:])
        jreg = model['J_regressor'].toarray()
        np.testing.assert_allclose(jreg.sum(1), 1.0, atol=1e-12)
        np.testing.assert_allclose(model['weights'].sum(1), 1.0, atol=1e-12)
        assert (model['weights'] >= 0).all()
        np.testing.assert_allclose(jreg @ model['v_template'], model['J'],
                                   atol=1e-12)


def test_hand_like_geometry(models):
    right = models['RIGHT']
    v = right['v_template']
    joints = right['J_regressor'].toarray() @ v
    tips = {k: v[i] for k, i in FINGERTIP_VERTEX_IDS.items()}
    # about real size: wrist -> middle fingertip ~ 0.18 m
    assert 0.16 < np.linalg.norm(tips['Middle_4'] - joints[0]) < 0.20
    # each fingertip is the vertex farthest from the wrist among those
    # closest to its last finger joint chain (it ends the finger)
    last_joint = {'Index_4': 3, 'Middle_4': 6, 'Pinky_4': 9, 'Ring_4': 12,
                  'Thumb_4': 15}
    for name, j in last_joint.items():
        seg = tips[name] - joints[j]
        assert 0.015 < np.linalg.norm(seg) < 0.04
        # nothing of the mesh extends beyond the tip along the last bone
        beyond = (v - tips[name]) @ (seg / np.linalg.norm(seg))
        near = np.linalg.norm(v - tips[name], axis=1) < 0.01
        assert beyond[near].max() <= 1e-12
    # bones have sensible lengths
    for j in range(1, 16):
        bone = np.linalg.norm(joints[j] - joints[MANO_PARENTS[j]])
        assert 0.015 < bone < 0.1
    # outward-facing closed surface with a hand-like volume (m^3)
    assert 5e-5 < _signed_volume(v, right['f'].astype(np.int64)) < 5e-4


def test_left_is_mirrored_with_shapedirs_defect(models):
    right, left = models['RIGHT'], models['LEFT']
    mirror = np.array([-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(left['v_template'],
                                  right['v_template'] * mirror)
    # same triangles, opposite winding
    np.testing.assert_array_equal(left['f'], right['f'][:, [0, 2, 1]])
    vl = left['v_template']
    assert _signed_volume(vl, left['f'].astype(np.int64)) > 0
    # the official defect: left shapedirs equal to the right ones
    np.testing.assert_array_equal(left['shapedirs'], right['shapedirs'])
    assert np.abs(right['shapedirs'][:, 0, :]).sum() > 1.0
    np.testing.assert_array_equal(left['hands_mean'].reshape(15, 3),
                                  right['hands_mean'].reshape(15, 3) *
                                  [1, -1, -1])


def test_deterministic_and_cli(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / 'syn'
    proc = subprocess.run(
        [sys.executable, str(repo / 'tools/make_synthetic_mano.py'),
         str(out)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from interwild_mm.mano.synthetic import write_synthetic_mano
    again = write_synthetic_mano(tmp_path / 'again')
    for name in ('MANO_RIGHT.pkl', 'MANO_LEFT.pkl'):
        assert (out / name).read_bytes() == (again / name).read_bytes()
