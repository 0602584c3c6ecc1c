# Copyright (c) interwild_mm contributors.
"""Box-to-crop affines and differentiable image warping
(``docs/official_conventions.md`` §1.5, §1.10).

Matrices map SOURCE pixels to DESTINATION pixels (pixel centres at integer
positions). Everything is batched torch and keeps the input device/dtype.

One builder of the image -> crop affine serves every crop of the model:
:func:`crop_affine_composed`, composed like kornia 0.6's
``get_affine_matrix2d`` from 3x3 shift / rotation / scale matrices with
batched matmuls, the float32 order of the official code for the hand crops
(§1.5) and for TransNet's image -> volume mapping (§1.10). Points are moved
by :func:`transform_points`, the official batched matmul of a 2x3 matrix
with homogeneous ``(x, y, 1)`` columns.

The kornia-0.6 operation orders are written out here instead of importing
kornia: kornia 0.6 is an old release that the run-time code would otherwise
pin for three small functions, and nothing else of it is needed at run time
(the tests compare against kornia 0.6.12 when it is installed).

Affine inverses: by default (``inverse='official'``) every inverse is
``torch.linalg.inv`` of the 3x3 form, as the official code computes them
(§1.5). ``inverse='closed_form'`` uses :func:`invert_affine_closed_form`
instead (the 2x2 inverse written out): the same matrices up to float32
rounding, and only elementwise operations, which ONNX exports
(``linalg_inv`` has no ONNX operator). The ONNX export switches it on
(``interwild_mm/apis/export.py``); it is off by default.
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'crop_affine_composed', 'compose_affine2d', 'warp_affine',
    'transform_points', 'invert_affine', 'invert_affine_closed_form',
    'check_affine_inverse', 'to_homogeneous_matrix', 'AFFINE_INVERSES'
]

#: ways to invert an affine: ``'official'`` (``torch.linalg.inv`` of the
#: 3x3 form, the official code's) and ``'closed_form'``
#: (:func:`invert_affine_closed_form`, exportable to ONNX)
AFFINE_INVERSES = ('official', 'closed_form')


def to_homogeneous_matrix(mat: Tensor) -> Tensor:
    """Append the row ``[0, 0, 1]`` to ``(..., 2, 3)`` affines (no-op for 3x3).

    Args:
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affine matrices.

    Returns:
        Tensor: ``(..., 3, 3)`` matrices.
    """
    if mat.shape[-2:] == (3, 3):
        return mat
    if mat.shape[-2:] != (2, 3):
        raise ValueError(f'affine matrices must be (..., 2, 3) or '
                         f'(..., 3, 3), got {tuple(mat.shape)}.')
    last = mat.new_zeros(mat.shape[:-2] + (1, 3))
    last[..., 0, 2] = 1
    return torch.cat([mat, last], dim=-2)


def check_affine_inverse(inverse: str) -> str:
    """Return ``inverse`` if it names one of :data:`AFFINE_INVERSES`.

    Raises:
        ValueError: any other value (the message lists the choices).
    """
    if inverse not in AFFINE_INVERSES:
        raise ValueError(f'inverse must be one of {AFFINE_INVERSES}, got '
                         f'{inverse!r}.')
    return inverse


def invert_affine_closed_form(mat: Tensor) -> Tensor:
    """Invert affines ``[A | b]`` in closed form: ``[A^-1 | -A^-1 b]``.

    With ``A = [[a, b], [c, d]]`` and ``det = a·d - b·c``,
    ``A^-1 = [[d, -b], [-c, a]] / det``. Elementwise operations only (no
    ``linalg_inv``), so it exports to ONNX; equal to :func:`invert_affine`
    up to float rounding. A singular ``A`` gives non-finite entries, as
    the 3x3 inverse does.

    Args:
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affines (the last
            row of a 3x3 one is assumed to be ``[0, 0, 1]``).

    Returns:
        Tensor: ``(..., 2, 3)`` inverse affines.
    """
    if mat.shape[-2:] not in ((2, 3), (3, 3)):
        raise ValueError(f'affine matrices must be (..., 2, 3) or '
                         f'(..., 3, 3), got {tuple(mat.shape)}.')
    a, b, tx = mat[..., 0, 0], mat[..., 0, 1], mat[..., 0, 2]
    c, d, ty = mat[..., 1, 0], mat[..., 1, 1], mat[..., 1, 2]
    det = a * d - b * c
    ia, ib = d / det, -b / det
    ic, id_ = -c / det, a / det
    rows = (torch.stack([ia, ib, -(ia * tx + ib * ty)], dim=-1),
            torch.stack([ic, id_, -(ic * tx + id_ * ty)], dim=-1))
    return torch.stack(rows, dim=-2)


def invert_affine(mat: Tensor, inverse: str = 'official') -> Tensor:
    """Invert affines: top 2x3 of ``torch.linalg.inv`` of the 3x3 form.

    This is how the official code gets ``hand2orig`` from the 3x3 crop
    affine (§1.5).

    Args:
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affines.
        inverse (str): ``'official'`` (the 3x3 ``torch.linalg.inv``) or
            ``'closed_form'`` (:func:`invert_affine_closed_form`, for ONNX
            export). Defaults to ``'official'``.

    Returns:
        Tensor: ``(..., 2, 3)`` inverse affines.
    """
    if check_affine_inverse(inverse) == 'closed_form':
        return invert_affine_closed_form(mat)
    return torch.linalg.inv(to_homogeneous_matrix(mat))[..., :2, :]


def _check_boxes(boxes_xyxy: Tensor) -> None:
    if boxes_xyxy.dim() != 2 or boxes_xyxy.shape[-1] != 4:
        raise ValueError(f'boxes_xyxy must be (N, 4), got '
                         f'{tuple(boxes_xyxy.shape)}.')


def _eye3(ref: Tensor) -> Tensor:
    """``(N, 3, 3)`` identities with ``ref``'s batch size, dtype, device."""
    eye = torch.eye(3, dtype=ref.dtype, device=ref.device)
    return eye[None].repeat(ref.shape[0], 1, 1)


def compose_affine2d(translations: Tensor, center: Tensor, scale: Tensor,
                     angle: Tensor) -> Tensor:
    """3x3 affines composed in kornia 0.6's ``get_affine_matrix2d`` order.

    ``A = shift(c) @ rot(-angle) @ diag(sx, sy, 1) @ shift(-c)`` evaluated
    left to right with batched matmuls, then ``translations`` added to the
    last column of its top two rows (§1.5). ``rot(t)`` is
    ``[[cos t, sin t], [-sin t, cos t]]`` with ``t`` in degrees converted
    with a float32 ``pi``, so a positive ``angle`` turns +x towards +y.

    Args:
        translations (Tensor): ``(N, 2)`` added translation (pixels).
        center (Tensor): ``(N, 2)`` rotation/scaling centre (pixels).
        scale (Tensor): ``(N, 2)`` scale factors ``(sx, sy)``.
        angle (Tensor): ``(N,)`` rotation angles in degrees.

    Returns:
        Tensor: ``(N, 3, 3)`` affines (last row ``[0, 0, 1]``).
    """
    for name, t, shape in (('translations', translations, 2),
                           ('center', center, 2), ('scale', scale, 2)):
        if t.dim() != 2 or t.shape[1] != shape:
            raise ValueError(f'{name} must be (N, 2), got {tuple(t.shape)}.')
    if angle.dim() != 1 or not (angle.shape[0] == center.shape[0] ==
                                scale.shape[0] == translations.shape[0]):
        raise ValueError('angle must be (N,) with the batch size of center, '
                         f'scale and translations; got {tuple(angle.shape)}.')
    shift = _eye3(center)
    shift[:, :2, 2] = center
    shift_inv = _eye3(center)
    shift_inv[:, :2, 2] = -center
    scale_m = _eye3(center)
    scale_m[:, 0, 0] *= scale[:, 0]
    scale_m[:, 1, 1] *= scale[:, 1]
    pi = torch.tensor(math.pi, dtype=torch.float32).to(angle)
    rad = -angle * pi / 180.0
    cos, sin = torch.cos(rad), torch.sin(rad)
    rot = _eye3(center)
    rot[:, :2, :2] = torch.stack([cos, sin, -sin, cos], dim=-1).view(-1, 2, 2)
    affine = (shift @ rot @ scale_m @ shift_inv)[:, :2, :]
    affine[..., 2] += translations
    return to_homogeneous_matrix(affine)


def crop_affine_composed(boxes_xyxy: Tensor,
                         out_size: Sequence[int] = (256, 256),
                         eps: float = 1e-8) -> Tensor:
    """Image -> crop affine of a box, in the official float32 order.

    ``w = x2 - x1``, ``c = (x1 + x2) / 2``, scale
    ``(W / (w + eps), H / (h + eps))``, translation ``(W/2, H/2) - c``,
    angle 0, composed by :func:`compose_affine2d`
    (``docs/official_conventions.md`` §1.5). The box centre maps to pixel
    ``(W/2, H/2)`` (128 for a 256 crop, not 127.5). Used for the hand crops
    (§1.5) and TransNet's image -> volume mapping (§1.10 step 3).

    Args:
        boxes_xyxy (Tensor): ``(N, 4)`` boxes in source pixels.
        out_size (Sequence[int]): crop size ``(H, W)``.
        eps (float): added to the box width/height.

    Returns:
        Tensor: ``(N, 3, 3)`` image -> crop matrices.
    """
    _check_boxes(boxes_xyxy)
    out_h, out_w = int(out_size[0]), int(out_size[1])
    x1, y1, x2, y2 = boxes_xyxy.unbind(-1)
    w, h = x2 - x1, y2 - y1
    center = torch.stack([(x1 + x2) / 2, (y1 + y2) / 2], dim=-1)
    scale = torch.stack([out_w / (w + eps), out_h / (h + eps)], dim=-1)
    translations = torch.stack(
        [out_w / 2 - center[:, 0], out_h / 2 - center[:, 1]], dim=-1)
    angle = torch.zeros_like(w)
    return compose_affine2d(translations, center, scale, angle)


def _pixel_to_unit(h: int, w: int, ref: Tensor) -> Tensor:
    """``(1, 3, 3)`` pixel -> [-1, 1] matrix (``2x/(W-1) - 1``).

    Built like kornia 0.6's ``normal_transform_pixel``: on the CPU with
    0-dim tensor arithmetic in ``ref``'s dtype (``1 * 2.0 / (W - 1)``), then
    moved to ``ref``'s device, so the float32 entries are the correctly
    rounded quotients on every device. (kornia builds them in the default
    dtype, float32, even for float64 inputs; here float64 inputs get float64
    entries.)

    The matrix is stacked from 0-dim tensors, not written in place into a
    ``torch.tensor`` literal: ``torch.jit.trace`` records such a literal as
    a constant of the trace, and an in-place update of it would then be
    applied again at every call of the traced module.
    """
    if h < 2 or w < 2:
        raise ValueError(f'align_corners=True warping needs images of at '
                         f'least 2x2 pixels, got H={h}, W={w}.')
    one = torch.ones((), dtype=ref.dtype)
    zero = torch.zeros((), dtype=ref.dtype)
    sx = one * 2.0 / (w - 1.0)
    sy = one * 2.0 / (h - 1.0)
    m = torch.stack([sx, zero, -one, zero, sy, -one, zero, zero, one])
    return m.reshape(1, 3, 3).to(ref.device)


def warp_affine(img: Tensor, mat: Tensor, out_size: Sequence[int],
                inverse: str = 'official') -> Tensor:
    """Warp images with source->destination pixel affines (kornia 0.6 order).

    Bilinear, zero padding, ``align_corners=True`` (pixel-centre convention):
    the output pixel ``p`` reads the input at ``mat^-1 p``. The sampling
    grid is computed in kornia 0.6's ``warp_affine`` order (§1.5):
    ``N_dst @ (M @ inv(N_src))`` with the pixel -> [-1, 1] matrices ``N``,
    inverted, top 2x3 into ``F.affine_grid``, then ``F.grid_sample``.

    Args:
        img (Tensor): ``(N, C, H, W)`` images.
        mat (Tensor): ``(N, 2, 3)`` or ``(N, 3, 3)`` source->destination pixel
            affines.
        out_size (Sequence[int]): output ``(H, W)``.
        inverse (str): how the two inverses are computed: ``'official'``
            (``torch.linalg.inv``, kornia's) or ``'closed_form'``
            (:func:`invert_affine_closed_form`, for ONNX export; same
            composition order). Defaults to ``'official'``.

    Returns:
        Tensor: ``(N, C, out_H, out_W)`` warped images.
    """
    if img.dim() != 4:
        raise ValueError(f'img must be (N, C, H, W), got {tuple(img.shape)}.')
    m = to_homogeneous_matrix(mat).to(img.dtype)
    if m.dim() != 3 or m.shape[0] != img.shape[0]:
        raise ValueError(f'need one matrix per image: img batch '
                         f'{img.shape[0]}, mat shape {tuple(mat.shape)}.')
    out_h, out_w = int(out_size[0]), int(out_size[1])
    src_norm = _pixel_to_unit(img.shape[2], img.shape[3], m)
    dst_norm = _pixel_to_unit(out_h, out_w, m)
    if check_affine_inverse(inverse) == 'closed_form':
        src_unit_to_pixel = to_homogeneous_matrix(
            invert_affine_closed_form(src_norm))
        theta = invert_affine_closed_form(dst_norm @ (m @ src_unit_to_pixel))
    else:
        dst_norm_from_src_norm = dst_norm @ (m @ torch.linalg.inv(src_norm))
        theta = torch.linalg.inv(dst_norm_from_src_norm)[:, :2, :]
    grid = F.affine_grid(
        theta, [img.shape[0], img.shape[1], out_h, out_w], align_corners=True)
    return F.grid_sample(
        img, grid, mode='bilinear', padding_mode='zeros', align_corners=True)


def transform_points(points: Tensor, mat: Tensor) -> Tensor:
    """Apply affines to 2D points, in the official float32 order.

    The 2x3 matrix multiplies homogeneous ``(x, y, 1)`` columns in one
    batched matmul (``bmm(M, [x; y; 1])``, as the official code maps joints
    and targets between the image, crop and volume spaces, §1.10-1.11, §2),
    not ``A·p + t`` in two steps.

    Args:
        points (Tensor): ``(..., P, 2)`` points (x, y).
        mat (Tensor): ``(..., 2, 3)`` or ``(..., 3, 3)`` affines, batch
            dimensions broadcastable with ``points``'.

    Returns:
        Tensor: ``(..., P, 2)`` transformed points.
    """
    if points.shape[-1] != 2:
        raise ValueError(f'points must be (..., P, 2), got '
                         f'{tuple(points.shape)}.')
    if mat.shape[-2:] not in ((2, 3), (3, 3)):
        raise ValueError(f'mat must be (..., 2, 3) or (..., 3, 3), got '
                         f'{tuple(mat.shape)}.')
    mat = mat[..., :2, :].to(points.dtype)
    xy1 = torch.cat([points, torch.ones_like(points[..., :1])], dim=-1)
    return torch.matmul(mat, xy1.transpose(-1, -2)).transpose(-1, -2)
