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
import torch

from interwild_mm.geometry.camera import project_points

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
      orthographic fits, docs/official_conventions.md §1.11).
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
    if cam_type == 'perspective':  # the project's one pinhole projection
        return project_points(torch.from_numpy(v), torch.from_numpy(scale),
                              torch.from_numpy(offset), eps=0.0).numpy()
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


def _edge_functions(tri_xy: np.ndarray, height: int, width: int
                    ) -> Dict[str, np.ndarray]:
    """Edge-function coefficients, areas and clipped pixel boxes of the
    projected triangles.

    Edge function ``e_k(p) = A_k * px + B_k * py + C_k`` is the doubled
    signed area of ``(v_{k+1}, v_{k+2}, p)``; it equals the doubled area at
    ``p = v_k``.

    Returns:
        dict: ``a``, ``b``, ``c`` (F, 3) coefficients, ``area`` (F,) doubled
        signed areas, ``xmin``, ``xmax``, ``ymin``, ``ymax`` (F,) int64
        inclusive pixel boxes clipped to the image.
    """
    x, y = tri_xy[..., 0], tri_xy[..., 1]
    nxt, nxt2 = [1, 2, 0], [2, 0, 1]
    ax, ay = x[:, nxt], y[:, nxt]
    bx, by = x[:, nxt2], y[:, nxt2]
    coef_a = ay - by
    coef_b = bx - ax
    coef_c = ax * by - ay * bx
    area = coef_a[:, 0] * x[:, 0] + coef_b[:, 0] * y[:, 0] + coef_c[:, 0]
    return dict(
        a=coef_a, b=coef_b, c=coef_c, area=area,
        xmin=np.maximum(np.ceil(x.min(1)), 0).astype(np.int64),
        xmax=np.minimum(np.floor(x.max(1)), width - 1).astype(np.int64),
        ymin=np.maximum(np.ceil(y.min(1)), 0).astype(np.int64),
        ymax=np.minimum(np.floor(y.max(1)), height - 1).astype(np.int64))


def _visible_faces(edges: Dict[str, np.ndarray], tri_xy: np.ndarray,
                   tri_z: np.ndarray, perspective: bool) -> np.ndarray:
    """Indices of the faces worth rasterising (non-degenerate, inside the
    image, finite, in front of a perspective camera)."""
    keep = (np.abs(edges['area']) > 1e-12) & \
        (edges['xmax'] >= edges['xmin']) & (edges['ymax'] >= edges['ymin']) \
        & np.isfinite(tri_xy).all((1, 2)) & np.isfinite(tri_z).all(1)
    if perspective:
        keep &= (tri_z > 0).all(1)
    return np.nonzero(keep)[0]


def _group_fragments(f: np.ndarray, pw: int, ph: int,
                     edges: Dict[str, np.ndarray], tri_z: np.ndarray,
                     width: int, perspective: bool
                     ) -> Optional[Tuple[np.ndarray, ...]]:
    """Covered pixels of faces ``f`` sharing a ``pw x ph`` padded box.

    Returns:
        tuple | None: flat pixel index, depth, face index and (m, 3)
        barycentrics of every fragment; None if nothing is covered.
    """
    xmin, ymin = edges['xmin'], edges['ymin']
    xs = xmin[f, None] + np.arange(pw)[None]  # (n, pw)
    ys = ymin[f, None] + np.arange(ph)[None]  # (n, ph)
    # (n, 3, ph, pw) edge values
    e = (edges['a'][f, :, None, None] * xs[:, None, None, :] +
         edges['b'][f, :, None, None] * ys[:, None, :, None] +
         edges['c'][f, :, None, None])
    inside = (e >= 0).all(1)
    inside &= (xs <= edges['xmax'][f, None])[:, None, :]
    inside &= (ys <= edges['ymax'][f, None])[:, :, None]
    fi, yi, xi = np.nonzero(inside)
    if fi.size == 0:
        return None
    b = e[fi, :, yi, xi] / edges['abs_area'][f[fi], None]  # (m, 3) screen
    z = tri_z[f[fi]]
    if perspective:
        bw_ = b / z
        inv = bw_.sum(1)
        zf = 1.0 / inv
        b = bw_ / inv[:, None]
    else:
        zf = (b * z).sum(1)
    return ys[fi, yi] * width + xs[fi, xi], zf, f[fi], b


def _nearest_fragments(frags: Sequence[Tuple[np.ndarray, ...]],
                       height: int, width: int
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-buffer: per pixel the nearest fragment (ties: lower face index)."""
    depth = np.full((height, width), np.inf)
    face_idx = np.full((height, width), -1, dtype=np.int64)
    bary = np.zeros((height, width, 3))
    if not frags:
        return depth, face_idx, bary
    pix, z, fid, bc = (np.concatenate(parts) for parts in zip(*frags))
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
    if tri_xy.shape[0] == 0:
        return _nearest_fragments([], height, width)
    edges = _edge_functions(tri_xy, height, width)
    faces = _visible_faces(edges, tri_xy, tri_z, perspective)
    if faces.size == 0:
        return _nearest_fragments([], height, width)
    # Orient the edge functions so that the inside is non-negative.
    sign = np.sign(edges['area'])[:, None]
    for k in ('a', 'b', 'c'):
        edges[k] = edges[k] * sign
    edges['abs_area'] = np.abs(edges['area'])
    # faces with the same power-of-two padded box are evaluated together
    bw = edges['xmax'] - edges['xmin'] + 1
    bh = edges['ymax'] - edges['ymin'] + 1
    key = (_next_pow2_exp(bw) * 64 + _next_pow2_exp(bh))[faces]
    frags = []
    for k in np.unique(key):
        group = faces[key == k]
        pw, ph = 1 << int(k // 64), 1 << int(k % 64)
        per_chunk = max(1, chunk_elems // (pw * ph))
        for s in range(0, group.size, per_chunk):
            out = _group_fragments(group[s:s + per_chunk], pw, ph, edges,
                                   tri_z, width, perspective)
            if out is not None:
                frags.append(out)
    return _nearest_fragments(frags, height, width)


def _image_size(image: Optional[np.ndarray],
                image_size: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """``(H, W)`` of the output, checking ``image``."""
    if image is None and image_size is None:
        raise ValueError('give either image=(H, W, 3) array or image_size='
                         '(H, W)')
    if image is None:
        return int(image_size[0]), int(image_size[1])
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be (H, W, 3), got {image.shape}')
    return image.shape[0], image.shape[1]


def _per_mesh(vertices: Sequence[ArrayLike], faces: Any, cameras: Any,
              colors: Optional[Sequence[Sequence[float]]]
              ) -> Tuple[list, list, list]:
    """One faces array, camera and colour per mesh."""
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
    return faces_list, cams, list(colors)


def _mesh_triangles(i: int, vertices: ArrayLike, faces: ArrayLike,
                    camera: Dict[str, Any], shading: str) -> Dict[str, Any]:
    """Projected corners, depths and corner normals of mesh ``i``."""
    v = _to_numpy(vertices)
    f = _to_numpy(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f'mesh {i}: vertices must be (V, 3), got '
                         f'{v.shape}')
    if f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f'mesh {i}: faces must be (F, 3), got {f.shape}')
    if f.size and (f.min() < 0 or f.max() >= v.shape[0]):
        raise ValueError(f'mesh {i}: face indices out of range [0, '
                         f'{v.shape[0]})')
    cam_type, _, _ = _parse_camera(camera)
    if shading == 'flat':
        normals = np.repeat(face_normals(v, f)[:, None], 3, axis=1)
    else:
        normals = vertex_normals(v, f)[f]
    return dict(xy=project_vertices(v, camera)[f], z=v[f][..., 2],
                mesh=np.full(f.shape[0], i, dtype=np.int32),
                local=np.arange(f.shape[0]), normals=normals,
                perspective=cam_type == 'perspective')


def _rasterize_meshes(tris: Sequence[Dict[str, Any]], height: int,
                      width: int
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise all meshes in one z-buffer (each camera kind separately,
    then merged, when perspective and orthographic meshes are mixed)."""
    tri_xy = np.concatenate([t['xy'] for t in tris])
    tri_z = np.concatenate([t['z'] for t in tris])
    kinds = [t['perspective'] for t in tris]
    if len(set(kinds)) == 1:
        return rasterize_triangles(tri_xy, tri_z, height, width, kinds[0])
    depth = np.full((height, width), np.inf)
    fidx = np.full((height, width), -1, dtype=np.int64)
    bary = np.zeros((height, width, 3))
    for persp in (True, False):
        sel = np.concatenate(
            [np.full(len(t['z']), t['perspective'] == persp) for t in tris])
        idx = np.nonzero(sel)[0]
        d, fi, b = rasterize_triangles(tri_xy[idx], tri_z[idx], height,
                                       width, persp)
        better = (fi >= 0) & (d < depth)
        depth[better] = d[better]
        fidx[better] = idx[fi[better]]
        bary[better] = b[better]
    return depth, fidx, bary


def _shade(tris: Sequence[Dict[str, Any]], fidx: np.ndarray,
           bary: np.ndarray, colors: Sequence[Sequence[float]],
           light: np.ndarray, ambient: float, diffuse: float
           ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lambertian colour, mesh id and face id of every covered pixel."""
    height, width = fidx.shape
    covered = fidx >= 0
    mesh_id = np.full((height, width), -1, dtype=np.int32)
    face_id = np.full((height, width), -1, dtype=np.int64)
    color_img = np.zeros((height, width, 3), dtype=np.float32)
    if not covered.any():
        return color_img, mesh_id, face_id
    mesh_id[covered] = np.concatenate([t['mesh'] for t in tris])[
        fidx[covered]]
    face_id[covered] = np.concatenate([t['local'] for t in tris])[
        fidx[covered]]
    normals = np.concatenate([t['normals'] for t in tris])  # (F, 3, 3)
    n = np.einsum('mk,mkc->mc', bary[covered], normals[fidx[covered]])
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    intensity = ambient + diffuse * np.abs(n @ light)
    col = np.asarray(colors, dtype=np.float64)[mesh_id[covered]]
    color_img[covered] = np.clip(col * intensity[:, None], 0, 255)
    return color_img, mesh_id, face_id


def _blend(image: Optional[np.ndarray], color_img: np.ndarray,
           mask: np.ndarray, alpha: float) -> np.ndarray:
    """Alpha-blend the shaded meshes over the image (or black)."""
    base = np.zeros(color_img.shape, dtype=np.float32) if image is None \
        else np.asarray(image).astype(np.float32)
    out = base.copy()
    out[mask] = (1.0 - alpha) * base[mask] + alpha * color_img[mask]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


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
    height, width = _image_size(image, image_size)
    if shading not in ('smooth', 'flat'):
        raise ValueError(
            f"shading must be 'smooth' or 'flat', got {shading!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    faces_list, cams, colors = _per_mesh(vertices, faces, cameras, colors)
    light = _to_numpy(light_dir).reshape(3)
    light = -light / max(np.linalg.norm(light), 1e-12)  # towards the light
    tris = [
        _mesh_triangles(i, v, f, cam, shading)
        for i, (v, f, cam) in enumerate(zip(vertices, faces_list, cams))
    ]
    if sum(len(t['z']) for t in tris) == 0:
        depth, fidx, bary = _nearest_fragments([], height, width)
    else:
        depth, fidx, bary = _rasterize_meshes(tris, height, width)
    color_img, mesh_id, face_id = _shade(tris, fidx, bary, colors, light,
                                         ambient, diffuse)
    return RenderOutput(
        image=_blend(image, color_img, mesh_id >= 0, alpha),
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
