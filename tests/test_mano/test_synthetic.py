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
    from interwild_mm.synthetic import write_synthetic_mano
    again = write_synthetic_mano(tmp_path / 'again')
    for name in ('MANO_RIGHT.pkl', 'MANO_LEFT.pkl'):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_seed0_model_pinned():
    """The seed-0 model is the one the generator wrote before it moved to
    ``interwild_mm.synthetic`` (values measured with the code of commit
    82b3431, ``interwild_mm/mano/synthetic.py``): entry order, template and
    the random fields. The QR-based ``hands_components`` are left out (their
    signs may depend on the LAPACK build)."""
    from interwild_mm.synthetic import make_synthetic_mano
    right = make_synthetic_mano(seed=0)['right']
    assert list(right) == [
        'hands_components', 'f', 'J_regressor', 'kintree_table', 'J',
        'bs_style', 'hands_coeffs', 'weights', 'posedirs', 'hands_mean',
        'v_template', 'shapedirs', 'bs_type'
    ]
    sums = {  # (sum, sum of absolute values)
        'v_template': (1.5596234786135845, 56.65660186485381),
        'J': (-0.10049999999794039, 0.9944999999979405),
        'weights': (778.0, 778.0),
        'posedirs': (-2.3759026965944607, 89.42474576036209),
        'shapedirs': (-11.35425363723537, 25.404160087657008),
        'hands_mean': (2.68966175777411, 3.6918412119624877),
        'hands_coeffs': (12.279419977668052, 692.218347551196),
    }
    for key, (total, abs_total) in sums.items():
        a = np.asarray(right[key])
        assert a.sum() == pytest.approx(total, rel=1e-9, abs=1e-12), key
        assert np.abs(a).sum() == pytest.approx(abs_total, rel=1e-9), key
    np.testing.assert_array_equal(right['v_template'][745],
                                  [-0.012, -0.013, 0.065])
    np.testing.assert_allclose(
        right['hands_mean'][:6],
        [-0.0030482667231007178, -0.010493976461756437, 0.1,
         -0.024849469506496517, -0.02675196978426814, 0.2], rtol=1e-12)
    np.testing.assert_allclose(
        right['hands_coeffs'][0, :4],
        [-0.2187778661131218, 0.19218652544796758, -0.11161537437537945,
         -0.10106833980528028], rtol=1e-12)
    np.testing.assert_allclose(
        right['shapedirs'][317, :, 3:6],
        [[-0.0009670590955333288, -0.001353640838790095,
          0.000160271577941315],
         [-0.0014690789644871895, -0.0006993775869118937,
          -0.0009863097804355765],
         [0.00047427539180638613, -0.001171110005152257,
          -0.0013670236237240956]], rtol=1e-9)
