# Copyright (c) interwild_mm contributors.
"""Tests of the OBJ (official demo layout) and PLY (trimesh) writers."""
import numpy as np
import pytest
import torch
import trimesh

from interwild_mm.visualization.mesh_io import save_obj, save_ply


def random_mesh(seed=0, nv=30, nf=40):
    rng = np.random.default_rng(seed)
    v = rng.normal(0, 0.05, (nv, 3)) + [0, 0, 6.0]
    f = np.stack([rng.choice(nv, 3, replace=False) for _ in range(nf)])
    return v, f


def test_obj_exact_official_layout(tmp_path):
    v, f = random_mesh()
    path = tmp_path / 'sub' / 'hand_right.obj'
    save_obj(str(path), v, f)
    lines = path.read_text().splitlines()
    assert len(lines) == len(v) + len(f)
    for line, vert in zip(lines[:len(v)], v):
        tok = line.split()
        assert tok[0] == 'v' and len(tok) == 4
        np.testing.assert_allclose([float(x) for x in tok[1:]],
                                   vert,
                                   atol=1e-8)
    for line, face in zip(lines[len(v):], f):
        tok = line.split()
        assert tok[0] == 'f' and len(tok) == 4
        for t, idx in zip(tok[1:], face):
            a, b = t.split('/')
            assert int(a) == int(b) == idx + 1  # 1-based, texture = vertex


def test_obj_equivalent_to_trimesh_export(tmp_path):
    """trimesh reads our file as the same mesh its own exporter writes."""
    v, f = random_mesh(1)
    save_obj(str(tmp_path / 'ours.obj'), torch.tensor(v), torch.tensor(f))
    ref = trimesh.Trimesh(v, f, process=False)
    (tmp_path / 'trimesh.obj').write_text(
        trimesh.exchange.obj.export_obj(ref, include_normals=False))
    a = trimesh.load(str(tmp_path / 'ours.obj'), process=False)
    b = trimesh.load(str(tmp_path / 'trimesh.obj'), process=False)
    np.testing.assert_allclose(a.vertices, b.vertices, atol=1e-7)
    np.testing.assert_array_equal(a.faces, b.faces)
    np.testing.assert_array_equal(a.faces, f)


@pytest.mark.parametrize('binary', [True, False])
def test_ply_roundtrip_keeps_order(tmp_path, binary):
    v, f = random_mesh(2, nv=778, nf=1538)
    path = tmp_path / 'm.ply'
    save_ply(str(path), v, f, binary=binary)
    m = trimesh.load(str(path), process=False)
    np.testing.assert_allclose(m.vertices, v, rtol=1e-6, atol=1e-7)  # f32
    np.testing.assert_array_equal(m.faces, f)
    head = path.read_bytes()[:200]
    assert head.startswith(b'ply')
    assert (b'binary_little_endian' in head) == binary


@pytest.mark.parametrize('v,f,match', [
    (np.zeros((3, 2)), np.array([[0, 1, 2]]), 'vertices'),
    (np.zeros((3, 3)), np.array([[0, 1, 2, 0]]), 'faces'),
    (np.zeros((3, 3)), np.array([[0, 1, 3]]), '0-based'),
    (np.full((3, 3), np.nan), np.array([[0, 1, 2]]), 'NaN'),
])
def test_bad_input(tmp_path, v, f, match):
    with pytest.raises(ValueError, match=match):
        save_obj(str(tmp_path / 'x.obj'), v, f)
    with pytest.raises(ValueError, match=match):
        save_ply(str(tmp_path / 'x.ply'), v, f)
