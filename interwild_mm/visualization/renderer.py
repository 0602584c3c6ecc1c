# Copyright (c) interwild_mm contributors.
"""A small z-buffer triangle rasteriser in numpy.

Why a hand-written rasteriser instead of PyTorch3D, pyrender or OpenGL:

* This project must run (tests, CI, demo) on headless CPU machines. OpenGL
  based renderers (pyrender, moderngl, Open3D) need an EGL/OSMesa context and
  system libraries that are frequently missing on such machines.
* PyTorch3D has no wheels for recent torch versions and compiles for a long
  time from source; it is a heavy dependency for drawing two hands.
* The job is small: at most a few thousand triangles (a MANO hand has 1538
  faces) on one image. Vectorised numpy renders two hands at 640x480 in a few
  tens of milliseconds on one CPU core, and the code is easy to test exactly.

What it does:

* Perspective (``u = f * X / Z + c``) and orthographic (``u = s * X + o``)
  cameras; camera coordinates are x right, y down, z forward (the image
  convention of the whole project, no PyTorch3D axis flip).
* Pixel centres are at integer coordinates. A pixel is covered by a triangle
  when its centre lies inside the projected triangle or on its border
  (inclusive edge test, no anti-aliasing).
* Depth is the camera ``Z``; perspective depth is interpolated with the
  correct ``1 / Z`` rule, orthographic depth linearly. The nearest fragment
  wins (z-buffer), across all meshes, so several meshes are depth-composited
  even when each has its own camera.
* Triangles are rasterised in vectorised groups: each face's pixel bounding
  box is padded to the next power of two per axis, faces with the same padded
  box size are evaluated together with edge functions on a ``(faces, h, w)``
  grid, chunked to bound memory.
* Lambertian shading (two-sided, light from the camera by default) with
  per-face (flat) or per-vertex (smooth, perspective-correct interpolation of
  vertex normals) normals; one RGB colour per mesh; the result is alpha
  blended over the image at its original resolution.
* Besides the blended image it returns the depth map, the per-pixel mesh id
  and face id (useful for tests, visibility and segmentation masks).

Perspective faces with a vertex at ``Z <= near`` are dropped (no clipping).
"""
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

ArrayLike = Any  # numpy array, torch tensor or nested sequence

__all__ = [
    'RenderOutput', 'project_vertices', 'rasterize_triangles', 'render_meshes',
    'render_hands', 'face_normals', 'vertex_normals'
]


@dataclass
class RenderOutput:
    """Result of :func:`render_meshes`.

    Attributes:
        image (np.ndarray): (H, W, 3) uint8, the shaded meshes alpha-blended
            over the input image (or over black when no image was given).
        color (np.ndarray): (H, W, 3) float32 shaded mesh colour in [0, 255],
            zero where no mesh was drawn.
        depth (np.ndarray): (H, W) float64 camera ``Z`` of the visible
            surface, ``inf`` where no mesh was drawn.
        mesh_id (np.ndarray): (H, W) int32 index of the visible mesh, -1 for
            background.
        face_id (np.ndarray): (H, W) int64 index of the visible face inside
            its mesh, -1 for background.
    """
    image: np.ndarray
    color: np.ndarray
    depth: np.ndarray
    mesh_id: np.ndarray
    face_id: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a mesh is visible."""
        return self.mesh_id >= 0


def _to_numpy(x: ArrayLike, dtype=np.float64) -> np.ndarray:
    """Convert numpy arrays, torch tensors and sequences to numpy."""
    if hasattr(x, 'detach'):  # torch.Tensor without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _pair(value: ArrayLike, name: str) -> np.ndarray:
    arr = _to_numpy(value).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2:
        raise ValueError(f'camera {name!r} must be a scalar or a pair (x, y), '
                         f'got {arr.size} values')
    return arr


def _parse_camera(
        camera: Dict[str, Any]) -> Tuple[str, np.ndarray, np.ndarray]:
    """Return ``(type, scale_xy, offset_xy)`` of a camera dict.

    Accepted dicts:

    * ``dict(type='perspective', focal=(fx, fy), princpt=(cx, cy))``
    * ``dict(type='orthographic', scale=(sx, sy), offset=(ox, oy))``; the
      InterWild names ``focal``/``princpt`` are accepted as aliases of
      ``scale``/``offset`` (its ``render_focal``/``render_princpt`` are
      orthographic fits, spec 1.11).
    """
    if not isinstance(camera, dict) or 'type' not in camera:
        raise ValueError(
            'camera must be a dict with a "type" key, e.g. '
            "dict(type='perspective', focal=(f, f), princpt=(cx, cy)) or "
            "dict(type='orthographic', scale=(s, s), offset=(ox, oy)); got "
            f'{camera!r}')
    cam_type = camera['type']
    if cam_type == 'perspective':
        missing = [k for k in ('focal', 'princpt') if k not in camera]
        if missing:
            raise ValueError(f'perspective camera is missing {missing}; '
                             'give focal=(fx, fy) and princpt=(cx, cy) in '
                             'pixels')
        return cam_type, _pair(camera['focal'],
                               'focal'), _pair(camera['princpt'], 'princpt')
    if cam_type == 'orthographic':
        scale_keys = [k for k in ('scale', 'focal') if k in camera]
        offset_keys = [k for k in ('offset', 'princpt') if k in camera]
        if len(scale_keys) != 1 or len(offset_keys) != 1:
            raise ValueError(
                'orthographic camera needs exactly one of scale/focal and one '
                'of offset/princpt (u = scale * X + offset, pixels per unit); '
                f'got keys {sorted(camera)}')
        return cam_type, _pair(camera[scale_keys[0]],
                               'scale'), _pair(camera[offset_keys[0]],
                                               'offset')
    raise ValueError(f'unknown camera type {cam_type!r}; use "perspective" '
                     'or "orthographic"')


def project_vertices(vertices: ArrayLike, camera: Dict[str,
                                                       Any]) -> np.ndarray:
    """Project camera-space points to pixels.

    Args:
        vertices (ArrayLike): (..., 3) camera coordinates (x right, y down,
            z forward).
        camera (dict): see :func:`render_meshes`.

    Returns:
        np.ndarray: (..., 2) float64 pixel coordinates ``(u, v)``.
    """
    cam_type, scale, offset = _parse_camera(camera)
    v = _to_numpy(vertices)
    if cam_type == 'perspective':
        return v[..., :2] / v[..., 2:3] * scale + offset
    return v[..., :2] * scale + offset


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit face normals ``(v1 - v0) x (v2 - v0)``, shape (F, 3)."""
    tri = vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals, shape (V, 3)."""
    tri = vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(out, faces[:, k], n)
    return out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)


def _next_pow2_exp(n: np.ndarray) -> np.ndarray:
    """Smallest ``e`` with ``2 ** e >= n`` (n >= 1)."""
    return np.ceil(np.log2(np.maximum(n, 1))).astype(np.int64)


def rasterize_triangles(
        tri_xy: np.ndarray,
        tri_z: np.ndarray,
        height: int,
        width: int,
        perspective: bool = True,
        chunk_elems: int = 1 << 21
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-buffer rasterisation of projected triangles.

    Args:
        tri_xy (np.ndarray): (F, 3, 2) pixel coordinates of the corners.
        tri_z (np.ndarray): (F, 3) camera depth of the corners (must be > 0
            for ``perspective``; any value for orthographic).
        height (int): image height H.
        width (int): image width W.
        perspective (bool): interpolate depth and barycentrics
            perspective-correctly (``1/Z`` rule) if True, linearly otherwise.
        chunk_elems (int): max. number of candidate pixels evaluated at once
            (memory bound).

    Returns:
        tuple:
        - depth (np.ndarray): (H, W) float64, ``inf`` where empty.
        - face_idx (np.ndarray): (H, W) int64 winning face, -1 where empty.
        - bary (np.ndarray): (H, W, 3) float64 barycentric weights of the
          winning face (perspective-correct), 0 where empty.
    """
    tri_xy = np.asarray(tri_xy, dtype=np.float64)
    tri_z = np.asarray(tri_z, dtype=np.float64)
    depth = np.full((height, width), np.inf)
    face_idx = np.full((height, width), -1, dtype=np.int64)
    bary = np.zeros((height, width, 3))
    if tri_xy.shape[0] == 0:
        return depth, face_idx, bary

    x, y = tri_xy[..., 0], tri_xy[..., 1]
    # Edge function e_k(p) = A_k * px + B_k * py + C_k is the doubled signed
    # area of (v_{k+1}, v_{k+2}, p); it equals the doubled area at p = v_k.
    nxt, nxt2 = [1, 2, 0], [2, 0, 1]
    ax, ay = x[:, nxt], y[:, nxt]
    bx, by = x[:, nxt2], y[:, nxt2]
    coef_a = ay - by
    coef_b = bx - ax
    coef_c = ax * by - ay * bx
    area = coef_a[:, 0] * x[:, 0] + coef_b[:, 0] * y[:, 0] + coef_c[:, 0]

    xmin = np.maximum(np.ceil(x.min(1)), 0).astype(np.int64)
    xmax = np.minimum(np.floor(x.max(1)), width - 1).astype(np.int64)
    ymin = np.maximum(np.ceil(y.min(1)), 0).astype(np.int64)
    ymax = np.minimum(np.floor(y.max(1)), height - 1).astype(np.int64)
    keep = (np.abs(area) > 1e-12) & (xmax >= xmin) & (ymax >= ymin) & \
        np.isfinite(tri_xy).all((1, 2)) & np.isfinite(tri_z).all(1)
    if perspective:
        keep &= (tri_z > 0).all(1)
    faces = np.nonzero(keep)[0]
    if faces.size == 0:
        return depth, face_idx, bary

    # Orient the edge functions so that the inside is non-negative.
    sign = np.sign(area)[:, None]
    coef_a, coef_b, coef_c = coef_a * sign, coef_b * sign, coef_c * sign
    abs_area = np.abs(area)

    bw = xmax - xmin + 1
    bh = ymax - ymin + 1
    key = _next_pow2_exp(bw) * 64 + _next_pow2_exp(bh)
    key = key[faces]

    frag_pix, frag_z, frag_face, frag_bary = [], [], [], []
    for k in np.unique(key):
        group = faces[key == k]
        pw, ph = 1 << int(k // 64), 1 << int(k % 64)
        per_chunk = max(1, chunk_elems // (pw * ph))
        for s in range(0, group.size, per_chunk):
            f = group[s:s + per_chunk]
            xs = xmin[f, None] + np.arange(pw)[None]  # (n, pw)
            ys = ymin[f, None] + np.arange(ph)[None]  # (n, ph)
            # (n, 3, ph, pw) edge values
            e = (
                coef_a[f, :, None, None] * xs[:, None, None, :] +
                coef_b[f, :, None, None] * ys[:, None, :, None] +
                coef_c[f, :, None, None])
            inside = (e >= 0).all(1)
            inside &= (xs <= xmax[f, None])[:, None, :]
            inside &= (ys <= ymax[f, None])[:, :, None]
            fi, yi, xi = np.nonzero(inside)
            if fi.size == 0:
                continue
            b = e[fi, :, yi, xi] / abs_area[f[fi], None]  # (m, 3) screen
            z = tri_z[f[fi]]
            if perspective:
                bw_ = b / z
                inv = bw_.sum(1)
                zf = 1.0 / inv
                b = bw_ / inv[:, None]
            else:
                zf = (b * z).sum(1)
            frag_pix.append(ys[fi, yi] * width + xs[fi, xi])
            frag_z.append(zf)
            frag_face.append(f[fi])
            frag_bary.append(b)

    if not frag_pix:
        return depth, face_idx, bary
    pix = np.concatenate(frag_pix)
    z = np.concatenate(frag_z)
    fid = np.concatenate(frag_face)
    bc = np.concatenate(frag_bary)
    order = np.lexsort((fid, z, pix))  # by pixel, then depth, then face
    pix_sorted = pix[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = pix_sorted[1:] != pix_sorted[:-1]
    win = order[first]
    flat = pix[win]
    depth.reshape(-1)[flat] = z[win]
    face_idx.reshape(-1)[flat] = fid[win]
    bary.reshape(-1, 3)[flat] = bc[win]
    return depth, face_idx, bary


def render_meshes(vertices: Sequence[ArrayLike],
                  faces: Union[ArrayLike, Sequence[ArrayLike]],
                  cameras: Union[Dict[str, Any], Sequence[Dict[str, Any]]],
                  image_size: Optional[Tuple[int, int]] = None,
                  image: Optional[np.ndarray] = None,
                  colors: Optional[Sequence[Sequence[float]]] = None,
                  alpha: float = 1.0,
                  shading: str = 'smooth',
                  light_dir: Sequence[float] = (0.0, 0.0, -1.0),
                  ambient: float = 0.35,
                  diffuse: float = 0.65) -> RenderOutput:
    """Render several triangle meshes with a shared z-buffer.

    Args:
        vertices (Sequence[ArrayLike]): per mesh (V_i, 3) camera coordinates
            (x right, y down, z forward; any length unit consistent with the
            camera: metres for InterWild).
        faces (ArrayLike | Sequence[ArrayLike]): per mesh (F_i, 3) vertex
            indices, or one (F, 3) array shared by all meshes.
        cameras (dict | Sequence[dict]): one camera for all meshes or one per
            mesh. ``dict(type='perspective', focal=(fx, fy),
            princpt=(cx, cy))`` or ``dict(type='orthographic', scale=(sx, sy),
            offset=(ox, oy))`` (``focal``/``princpt`` accepted as aliases);
            all in pixels of the output image.
        image_size (tuple, optional): ``(H, W)``; required without ``image``.
        image (np.ndarray, optional): (H, W, 3) uint8 image to draw on (not
            modified); the colours are in the image's channel order.
        colors (Sequence, optional): per mesh colour, 3 values in [0, 255].
            Defaults to a red-ish and a green-ish tint, alternating.
        alpha (float): opacity of the meshes over the image, in [0, 1].
        shading (str): ``'smooth'`` (per-vertex normals) or ``'flat'``
            (per-face normals).
        light_dir (Sequence[float]): direction the light travels, camera
            coordinates (default: from the camera into the scene).
        ambient (float): ambient term.
        diffuse (float): Lambertian term, scaled by ``|n . l|`` (two-sided).

    Returns:
        RenderOutput: blended image, shaded colour, depth, mesh id, face id.
    """
    if image is None and image_size is None:
        raise ValueError('give either image=(H, W, 3) array or image_size='
                         '(H, W)')
    if image is not None:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'image must be (H, W, 3), got {image.shape}')
        height, width = image.shape[:2]
    else:
        height, width = int(image_size[0]), int(image_size[1])
    if shading not in ('smooth', 'flat'):
        raise ValueError(
            f"shading must be 'smooth' or 'flat', got {shading!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')

    n_mesh = len(vertices)
    if isinstance(faces, (list, tuple)) and len(faces) == n_mesh and \
            n_mesh > 0 and np.ndim(faces[0]) == 2:
        faces_list = list(faces)
    else:
        faces_list = [faces] * n_mesh
    cams = list(cameras) if isinstance(cameras, (list, tuple)) else \
        [cameras] * n_mesh
    if len(cams) != n_mesh:
        raise ValueError(f'got {len(cams)} cameras for {n_mesh} meshes; give '
                         'one camera dict or one per mesh')
    if colors is None:
        default = [(230., 115., 115.), (115., 220., 115.)]
        colors = [default[i % 2] for i in range(n_mesh)]
    if len(colors) != n_mesh:
        raise ValueError(f'got {len(colors)} colours for {n_mesh} meshes')

    light = _to_numpy(light_dir).reshape(3)
    light = -light / max(np.linalg.norm(light), 1e-12)  # towards the light

    all_xy, all_z, all_mesh, all_local, offsets = [], [], [], [], [0]
    all_normals = []  # per face: (3, 3) corner normals
    perspective_flags = []
    for i in range(n_mesh):
        v = _to_numpy(vertices[i])
        f = _to_numpy(faces_list[i], dtype=np.int64)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f'mesh {i}: vertices must be (V, 3), got '
                             f'{v.shape}')
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f'mesh {i}: faces must be (F, 3), got {f.shape}')
        if f.size and (f.min() < 0 or f.max() >= v.shape[0]):
            raise ValueError(f'mesh {i}: face indices out of range [0, '
                             f'{v.shape[0]})')
        cam_type, _, _ = _parse_camera(cams[i])
        perspective_flags.append(cam_type == 'perspective')
        uv = project_vertices(v, cams[i])
        all_xy.append(uv[f])
        all_z.append(v[f][..., 2])
        all_mesh.append(np.full(f.shape[0], i, dtype=np.int32))
        all_local.append(np.arange(f.shape[0]))
        if shading == 'flat':
            fn = face_normals(v, f)
            all_normals.append(np.repeat(fn[:, None], 3, axis=1))
        else:
            all_normals.append(vertex_normals(v, f)[f])
        offsets.append(offsets[-1] + f.shape[0])

    color_img = np.zeros((height, width, 3), dtype=np.float32)
    if n_mesh == 0 or offsets[-1] == 0:
        depth = np.full((height, width), np.inf)
        mesh_id = np.full((height, width), -1, dtype=np.int32)
        face_id = np.full((height, width), -1, dtype=np.int64)
    else:
        tri_xy = np.concatenate(all_xy)
        tri_z = np.concatenate(all_z)
        if len(set(perspective_flags)) == 1:
            depth, fidx, bary = rasterize_triangles(tri_xy, tri_z, height,
                                                    width,
                                                    perspective_flags[0])
        else:  # mixed camera types: rasterise each kind, then merge
            depth = np.full((height, width), np.inf)
            fidx = np.full((height, width), -1, dtype=np.int64)
            bary = np.zeros((height, width, 3))
            for persp in (True, False):
                sel = np.concatenate([
                    np.full(offsets[i + 1] - offsets[i],
                            perspective_flags[i] == persp)
                    for i in range(n_mesh)
                ])
                idx = np.nonzero(sel)[0]
                d, fi, b = rasterize_triangles(tri_xy[idx], tri_z[idx], height,
                                               width, persp)
                better = (fi >= 0) & (d < depth)
                depth[better] = d[better]
                fidx[better] = idx[fi[better]]
                bary[better] = b[better]
        mesh_of_face = np.concatenate(all_mesh)
        local_of_face = np.concatenate(all_local)
        covered = fidx >= 0
        mesh_id = np.full((height, width), -1, dtype=np.int32)
        face_id = np.full((height, width), -1, dtype=np.int64)
        mesh_id[covered] = mesh_of_face[fidx[covered]]
        face_id[covered] = local_of_face[fidx[covered]]

        normals = np.concatenate(all_normals)  # (F, 3, 3)
        n = np.einsum('mk,mkc->mc', bary[covered], normals[fidx[covered]])
        n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
        intensity = ambient + diffuse * np.abs(n @ light)
        col = np.asarray(colors, dtype=np.float64)[mesh_id[covered]]
        color_img[covered] = np.clip(col * intensity[:, None], 0, 255)

    mask = mesh_id >= 0
    base = np.zeros((height, width, 3), dtype=np.float32) if image is None \
        else image.astype(np.float32)
    out = base.copy()
    out[mask] = (1.0 - alpha) * base[mask] + alpha * color_img[mask]
    out_u8 = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return RenderOutput(
        image=out_u8,
        color=color_img,
        depth=depth,
        mesh_id=mesh_id,
        face_id=face_id)


def render_hands(image: np.ndarray,
                 meshes: Sequence[ArrayLike],
                 faces: Sequence[ArrayLike],
                 camera: Union[Dict[str, Any], Sequence[Dict[str, Any]]],
                 colors: Optional[Sequence[Sequence[float]]] = None,
                 alpha: float = 0.8,
                 shading: str = 'smooth') -> RenderOutput:
    """Render hand meshes over an image at its original resolution.

    Thin wrapper of :func:`render_meshes` with the InterWild demo colours
    (right red-tinted, left green-tinted) for two meshes.

    Args:
        image (np.ndarray): (H, W, 3) uint8 image (not modified).
        meshes (Sequence[ArrayLike]): per hand (778, 3) camera-space
            vertices (metres).
        faces (Sequence[ArrayLike]): per hand (1538, 3) faces, or one shared
            (F, 3) array.
        camera (dict | Sequence[dict]): one camera for all hands (two-hand
            mode) or one per hand; see :func:`render_meshes`.
        colors (Sequence, optional): per hand colour in the image's channel
            order, values in [0, 255].
        alpha (float): mesh opacity.
        shading (str): ``'smooth'`` or ``'flat'``.

    Returns:
        RenderOutput: see :class:`RenderOutput`.
    """
    return render_meshes(
        meshes,
        faces,
        camera,
        image=image,
        colors=colors,
        alpha=alpha,
        shading=shading)
