# Copyright (c) interwild_mm contributors.
"""Tests of the numpy z-buffer rasteriser.

Reference coverage (tests/test_visualization/_coverage.py) is computed
independently of the rasteriser's edge functions, by a float64 linear solve
per pixel centre.
"""
import time

import numpy as np
import pytest
import torch

from interwild_mm.visualization.renderer import (project_vertices,
                                                 render_hands, render_meshes)
from ._coverage import barycentric_solve, coverage_reference


def pixel_grid(h, w):
    ys, xs = np.mgrid[0:h, 0:w]
    return np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float64)


def perspective(X, f, c):
    X = np.asarray(X, np.float64)
    return np.stack(
        [f[0] * X[:, 0] / X[:, 2] + c[0], f[1] * X[:, 1] / X[:, 2] + c[1]], 1)


def make_sphere(n_lat=10, n_lon=16, radius=1.0):
    """UV sphere, outward-consistent faces (independent of the renderer)."""
    verts = [[0, 0, radius]]
    for i in range(1, n_lat):
        th = np.pi * i / n_lat
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            verts.append([
                radius * np.sin(th) * np.cos(ph),
                radius * np.sin(th) * np.sin(ph), radius * np.cos(th)
            ])
    verts.append([0, 0, -radius])
    verts = np.array(verts)
    faces = []
    for j in range(n_lon):
        faces.append([0, 1 + j, 1 + (j + 1) % n_lon])
    for i in range(n_lat - 2):
        a, b = 1 + i * n_lon, 1 + (i + 1) * n_lon
        for j in range(n_lon):
            j2 = (j + 1) % n_lon
            faces.append([a + j, b + j, b + j2])
            faces.append([a + j, b + j2, a + j2])
    last = len(verts) - 1
    base = 1 + (n_lat - 2) * n_lon
    for j in range(n_lon):
        faces.append([base + j, last, base + (j + 1) % n_lon])
    return verts, np.array(faces)


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


CAM = dict(type='perspective', focal=(300.0, 280.0), princpt=(31.7, 23.2))


def test_single_triangle_coverage_exact():
    h, w = 48, 64
    X = np.array([[-0.031, -0.052, 0.5], [0.094, 0.013, 0.5],
                  [-0.021, 0.061, 0.5]])
    faces = np.array([[0, 1, 2]])
    out = render_meshes([X], faces, CAM, image_size=(h, w))
    tri = perspective(X, CAM['focal'], CAM['princpt'])
    ref = coverage_reference([tri], h, w)
    # No pixel centre lies on an edge (so the inclusive rule is moot).
    strict = coverage_reference([tri], h, w, eps=-1e-6)
    assert (strict == ref).all()
    assert ref.sum() > 50
    np.testing.assert_array_equal(out.mask, ref)
    np.testing.assert_array_equal(out.face_id[ref], 0)
    np.testing.assert_array_equal(out.mesh_id[~ref], -1)
    np.testing.assert_allclose(out.depth[ref], 0.5, rtol=0, atol=1e-12)
    assert np.isinf(out.depth[~ref]).all()


@pytest.mark.parametrize('winding', [(0, 1, 2, 3), (3, 2, 1, 0)])
def test_quad_coverage_and_both_windings(winding):
    h, w = 40, 50
    # Convex quad in pixels (orthographic with unit scale = pixel coords).
    corners = np.array([[5.3, 4.7, 1.0], [41.6, 8.2, 1.0], [44.1, 33.4, 1.0],
                        [9.8, 35.9, 1.0]])[list(winding)]
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    cam = dict(type='orthographic', scale=(1.0, 1.0), offset=(0.0, 0.0))
    out = render_meshes([corners], faces, cam, image_size=(h, w))
    # Independent: convex polygon half-plane test with cross products.
    p = pixel_grid(h, w)
    q = corners[:, :2]
    signs = []
    for k in range(4):
        a, b = q[k], q[(k + 1) % 4]
        signs.append((b[0] - a[0]) * (p[:, 1] - a[1]) - (b[1] - a[1]) *
                     (p[:, 0] - a[0]))
    signs = np.stack(signs, 1)
    ref = ((signs >= 0).all(1) | (signs <= 0).all(1)).reshape(h, w)
    np.testing.assert_array_equal(out.mask, ref)


def test_perspective_correct_depth_on_tilted_plane():
    h, w = 60, 80
    f, c = (120.0, 110.0), (40.3, 29.6)
    cam = dict(type='perspective', focal=f, princpt=c)
    # Plane through a tilted triangle.
    X = np.array([[-0.4, -0.3, 1.0], [0.5, -0.2, 2.0], [0.0, 0.45, 1.5]])
    out = render_meshes([X], np.array([[0, 1, 2]]), cam, image_size=(h, w))
    n = np.cross(X[1] - X[0], X[2] - X[0])
    d = n @ X[0]
    p = pixel_grid(h, w)[out.mask.reshape(-1)]
    rays = np.stack([(p[:, 0] - c[0]) / f[0], (p[:, 1] - c[1]) / f[1],
                     np.ones(len(p))], 1)
    z_ref = d / (rays @ n)  # ray-plane intersection depth
    assert len(p) > 100
    np.testing.assert_allclose(out.depth[out.mask], z_ref, rtol=1e-9)


def test_orthographic_depth_is_linear():
    h, w = 30, 30
    X = np.array([[2.2, 3.1, 1.0], [27.5, 4.4, 3.0], [6.3, 26.9, 5.0]])
    cam = dict(type='orthographic', focal=1.0, princpt=0.0)  # aliases
    out = render_meshes([X], np.array([[0, 1, 2]]), cam, image_size=(h, w))
    p = pixel_grid(h, w)[out.mask.reshape(-1)]
    lam = barycentric_solve(X[:, :2], p)
    np.testing.assert_allclose(out.depth[out.mask], lam @ X[:, 2], rtol=1e-9)


@pytest.mark.parametrize('order', [(0, 1), (1, 0)])
def test_zbuffer_picks_nearer_mesh(order):
    h, w = 40, 40
    faces = np.array([[0, 1, 2], [0, 2, 3]])

    def square(x0, y0, x1, y1, z):
        return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]])

    ortho = dict(type='orthographic', scale=1.0, offset=0.0)
    near = square(5.5, 5.5, 25.5, 25.5, 2.0)
    far = square(15.5, 15.5, 35.5, 35.5, 3.0)
    meshes = [near, far]
    meshes = [meshes[i] for i in order]
    out = render_meshes(meshes, faces, ortho, image_size=(h, w))
    near_id = order.index(0)
    far_id = order.index(1)
    ys, xs = np.mgrid[0:h, 0:w]
    in_near = (xs >= 6) & (xs <= 25) & (ys >= 6) & (ys <= 25)
    in_far = (xs >= 16) & (xs <= 35) & (ys >= 16) & (ys <= 35)
    assert (in_near & in_far).sum() == 100
    assert (out.mesh_id[in_near] == near_id).all()
    assert (out.mesh_id[in_far & ~in_near] == far_id).all()
    assert (out.mesh_id[~in_near & ~in_far] == -1).all()
    np.testing.assert_allclose(out.depth[in_near], 2.0)
    np.testing.assert_allclose(out.depth[in_far & ~in_near], 3.0)


def test_zbuffer_interpenetrating_triangles():
    """Two crossing planes: each pixel shows the smaller analytic depth."""
    h, w = 32, 32
    ortho = dict(type='orthographic', scale=1.0, offset=0.0)
    # plane A: z = 1 + 0.1 x, plane B: z = 4.1 - 0.1 x (cross at x = 15.5)
    pts = np.array([[-1.0, -1.0], [40.0, -1.0], [-1.0, 40.0], [40.0, 40.0]])
    a = np.c_[pts, 1 + 0.1 * pts[:, 0]]
    b = np.c_[pts, 4.1 - 0.1 * pts[:, 0]]
    faces = np.array([[0, 1, 2], [1, 3, 2]])
    out = render_meshes([a, b], faces, ortho, image_size=(h, w))
    xs = np.mgrid[0:h, 0:w][1].astype(float)
    za, zb = 1 + 0.1 * xs, 4.1 - 0.1 * xs
    np.testing.assert_array_equal(out.mesh_id, np.where(za < zb, 0, 1))
    np.testing.assert_allclose(out.depth, np.minimum(za, zb), rtol=1e-12)


def test_orthographic_matches_perspective_for_fronto_parallel_mesh():
    h, w = 64, 80
    verts, faces = make_sphere(8, 12, 0.05)
    verts = verts * [1.0, 1.0, 0.0]  # squash to the plane z = 0
    z0 = 0.8
    verts = verts + [0.003, -0.004, z0]
    f, c = np.array([500.0, 480.0]), np.array([39.6, 31.3])
    persp = render_meshes([verts],
                          faces,
                          dict(type='perspective', focal=f, princpt=c),
                          image_size=(h, w))
    ortho = render_meshes([verts],
                          faces,
                          dict(type='orthographic', scale=f / z0, offset=c),
                          image_size=(h, w))
    assert persp.mask.sum() > 300
    np.testing.assert_array_equal(persp.mask, ortho.mask)
    np.testing.assert_allclose(persp.depth[persp.mask], z0)
    np.testing.assert_allclose(ortho.depth[ortho.mask], z0)


def test_projection_formulas():
    X = np.array([[0.1, -0.2, 2.0], [0.3, 0.05, 0.5]])
    uv = project_vertices(
        X, dict(type='perspective', focal=(100, 200), princpt=(10, 20)))
    np.testing.assert_allclose(uv, [[15.0, 0.0], [70.0, 40.0]])
    uv = project_vertices(
        X, dict(type='orthographic', scale=(100, 200), offset=(10, 20)))
    np.testing.assert_allclose(uv, [[20.0, -20.0], [40.0, 30.0]])


def test_lambertian_flat_shading_of_tilted_plane():
    h, w = 40, 40
    theta = np.deg2rad(50.0)
    # Plane rotated by theta about the y axis; orthographic view along z.
    pts = np.array([[-10, -10], [50, -10], [-10, 50], [50, 50]], float)
    z = 5 + np.tan(theta) * pts[:, 0]
    verts = np.c_[pts, z]
    faces = np.array([[0, 1, 2], [1, 3, 2]])
    cam = dict(type='orthographic', scale=1.0, offset=0.0)
    color = (200.0, 100.0, 50.0)
    for shading in ('flat', 'smooth'):
        out = render_meshes([verts],
                            faces,
                            cam,
                            image_size=(h, w),
                            colors=[color],
                            shading=shading,
                            ambient=0.2,
                            diffuse=0.8)
        expected = np.array(color) * (0.2 + 0.8 * np.cos(theta))
        assert out.mask.all()
        np.testing.assert_allclose(
            out.color.reshape(-1, 3),
            np.broadcast_to(expected, (h * w, 3)),
            rtol=1e-5)


def test_overlay_lands_on_known_mesh_projection():
    """The issue's overlay test: rendered pixels = projected known meshes."""
    rng = np.random.default_rng(3)
    h, w = 96, 128
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    verts, faces = make_sphere(9, 14, 1.0)
    meshes, normals = [], []
    for centre, scale in (([-0.05, 0.01,
                            0.6], [0.04, 0.06,
                                   0.03]), ([0.06, -0.02,
                                             0.7], [0.05, 0.03, 0.04])):
        rot = random_rotation(rng)
        meshes.append((verts * scale) @ rot.T + centre)
        normals.append((verts / scale) @ rot.T)  # analytic ellipsoid normal
    f, c = (300.0, 300.0), (63.7, 47.4)
    cam = dict(type='perspective', focal=f, princpt=c)
    colors = [(255.0, 0.0, 0.0), (0.0, 255.0, 0.0)]
    out = render_hands(
        image,
        meshes, [faces, faces],
        cam,
        colors=colors,
        alpha=1.0,
        shading='flat')
    # Rendered mask = union of pixels inside the projected triangles.
    tris = [perspective(m, f, c)[faces] for m in meshes]
    tris = np.concatenate(tris)
    loose = coverage_reference(tris, h, w, eps=1e-9)
    strict = coverage_reference(tris, h, w, eps=-1e-9)
    assert strict.sum() > 1000
    assert (out.mask <= loose).all() and (out.mask >= strict).all()
    # The background is untouched, the covered pixels changed to the mesh
    # colour channel pattern (pure red / pure green, shaded).
    np.testing.assert_array_equal(out.image[~out.mask], image[~out.mask])
    for k, col in enumerate(colors):
        sel = out.mesh_id == k
        assert sel.sum() > 200
        zero_ch = [i for i in range(3) if col[i] == 0]
        assert (out.image[sel][:, zero_ch] == 0).all()
    # Projected vertices that face the camera (well inside the silhouette)
    # fall on rendered pixels.
    for m, n in zip(meshes, normals):
        view = m / np.linalg.norm(m, axis=1, keepdims=True)
        cos = (n / np.linalg.norm(n, axis=1, keepdims=True) * view).sum(1)
        front = cos < -0.5
        assert front.sum() > 20
        x, y = np.rint(perspective(m[front], f, c)).astype(int).T
        assert out.mask[y, x].all()
    # The nearer mesh wins where both project: compare with the analytic
    # nearest surface along the pixel ray (depth map min of single renders).
    single = [
        render_meshes([m], faces, cam, image_size=(h, w)) for m in meshes
    ]
    both = single[0].mask & single[1].mask
    nearer = np.where(single[0].depth < single[1].depth, 0, 1)
    np.testing.assert_array_equal(out.mesh_id[both], nearer[both])


def test_alpha_blending_and_input_untouched():
    h, w = 20, 20
    image = np.full((h, w, 3), 100, np.uint8)
    keep = image.copy()
    sq = np.array(
        [[2.5, 2.5, 1], [12.5, 2.5, 1], [12.5, 12.5, 1], [2.5, 12.5, 1]],
        float)
    out = render_meshes([sq],
                        np.array([[0, 1, 2], [0, 2, 3]]),
                        dict(type='orthographic', scale=1, offset=0),
                        image=image,
                        colors=[(200, 0, 50)],
                        alpha=0.25,
                        ambient=1.0,
                        diffuse=0.0)
    np.testing.assert_array_equal(image, keep)
    m = out.mask
    assert m.sum() == 100
    np.testing.assert_array_equal(out.image[m],
                                  np.broadcast_to([125, 75, 88], (100, 3)))
    np.testing.assert_array_equal(out.image[~m], image[~m])


def test_per_mesh_cameras_and_torch_input():
    h, w = 50, 50
    tri = torch.tensor([[-0.1, -0.1, 1.0], [0.1, -0.1, 1.0], [0.0, 0.1, 1.0]],
                       dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2]])
    cam_a = dict(type='orthographic', scale=50.0, offset=(12.3, 25.1))
    cam_b = dict(type='perspective', focal=50.0, princpt=(37.7, 25.2))
    out = render_meshes([tri, tri + torch.tensor([0, 0, 1.0])],
                        faces, [cam_a, cam_b],
                        image_size=(h, w))
    ref_a = coverage_reference([tri.numpy()[:, :2] * 50 + [12.3, 25.1]], h, w)
    ref_b = coverage_reference(
        [perspective(tri.numpy() + [0, 0, 1.0], (50, 50), (37.7, 25.2))], h, w)
    np.testing.assert_array_equal(out.mesh_id == 0, ref_a)
    np.testing.assert_array_equal(out.mesh_id == 1, ref_b)


def test_behind_camera_and_offscreen_faces_are_skipped():
    h, w = 20, 20
    X = np.array([[-0.1, -0.1, -1.0], [0.1, -0.1, -1.0], [0.0, 0.1, -1.0]])
    out = render_meshes([X], np.array([[0, 1, 2]]), CAM, image_size=(h, w))
    assert not out.mask.any()
    X2 = np.array([[5, 5, 1.0], [6, 5, 1.0], [5, 6, 1.0]])  # far off-screen
    out = render_meshes([X2], np.array([[0, 1, 2]]), CAM, image_size=(h, w))
    assert not out.mask.any()


@pytest.mark.parametrize('camera,match', [
    (dict(focal=1, princpt=0), 'type'),
    (dict(type='perspective', focal=1), 'princpt'),
    (dict(type='orthographic', scale=1, focal=1, offset=0), 'exactly one'),
    (dict(type='fisheye', focal=1, princpt=0), 'unknown camera type'),
])
def test_bad_camera_errors(camera, match):
    with pytest.raises(ValueError, match=match):
        render_meshes([np.zeros((3, 3))],
                      np.array([[0, 1, 2]]),
                      camera,
                      image_size=(4, 4))


def test_bad_faces_error():
    with pytest.raises(ValueError, match='out of range'):
        render_meshes([np.zeros((3, 3))],
                      np.array([[0, 1, 3]]),
                      CAM,
                      image_size=(4, 4))


def test_speed_two_mano_sized_meshes_vga():
    rng = np.random.default_rng(1)
    verts, faces = make_sphere(28, 28, 1.0)  # 1512 faces
    assert 1400 < len(faces) < 1600
    meshes = [
        (verts * [0.05, 0.09, 0.03]) @ random_rotation(rng).T + [0.04, 0, 0.5],
        (verts * [0.05, 0.09, 0.03]) @ random_rotation(rng).T +
        [-0.04, 0, .55]
    ]
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    cam = dict(type='perspective', focal=(700, 700), princpt=(320, 240))
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        out = render_hands(image, meshes, [faces, faces], cam)
        best = min(best, time.perf_counter() - t0)
    assert out.mask.sum() > 10000
    assert best < 0.5, f'rendering took {best:.3f} s'
