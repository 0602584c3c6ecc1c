"""Step-by-step float32 references of the official InterWild computations.

Written from ``docs/official_conventions.md`` only (plain torch operations,
no interwild_mm geometry): the hand-crop arithmetic of §1.4-1.5 and the test
forward pass of §1 on the weights of an ``InterWild`` model. Tests compare
the library against these functions.
"""
import torch
import torch.nn.functional as F

#: InterWild sizes, (H, W)
GRID_HW = (64, 48)
BODY_HW = (256, 192)
INPUT_HW = (512, 384)
CROP_HW = (256, 256)


# ----------------------------------------------------------------------
# §1.4-1.5: boxes, crop affine, warp
def ref_restore_bbox(center, size, aspect, ext, grid_hw=GRID_HW,
                     body_hw=BODY_HW):
    """§1.4 on ``(N, 2)`` tensors, with in-place column updates."""
    n = center.shape[0]
    c = center.reshape(n, 1, 2)
    s = size.reshape(n, 1, 2)
    box = c + torch.cat((-s / 2., s / 2.), dim=1)  # (N, 2 corners, 2)
    box[:, :, 0] = box[:, :, 0] / grid_hw[1] * body_hw[1]
    box[:, :, 1] = box[:, :, 1] / grid_hw[0] * body_hw[0]
    box = box.reshape(n, 4).clone()
    box[:, 2] = box[:, 2] - box[:, 0]
    box[:, 3] = box[:, 3] - box[:, 1]
    w = box[:, 2].clone()
    h = box[:, 3].clone()
    cx = box[:, 0] + w / 2.
    cy = box[:, 1] + h / 2.
    if aspect is not None:
        mask1 = w > aspect * h
        mask2 = w < aspect * h
        h[mask1] = w[mask1] / aspect
        w[mask2] = h[mask2] * aspect
    box[:, 2] = w * ext
    box[:, 3] = h * ext
    box[:, 0] = cx - box[:, 2] / 2.
    box[:, 1] = cy - box[:, 3] / 2.
    box[:, 2] = box[:, 2] + box[:, 0]
    box[:, 3] = box[:, 3] + box[:, 1]
    return box


def ref_to_input(box, body_hw=BODY_HW, input_hw=INPUT_HW):
    """§1.5: body-input -> input pixels, ``x / 192 * 384``, ``y / 256 * 512``."""
    box = box.clone()
    for col in (0, 2):
        box[:, col] = box[:, col] / body_hw[1] * input_hw[1]
    for col in (1, 3):
        box[:, col] = box[:, col] / body_hw[0] * input_hw[0]
    return box


def ref_crop_affine(box, crop_hw=CROP_HW):
    """§1.5: ``shift(c) @ rot(0) @ scale @ shift(-c)``, + translation."""
    n = box.shape[0]
    out_h, out_w = crop_hw
    cx = (box[:, 0] + box[:, 2]) / 2
    cy = (box[:, 1] + box[:, 3]) / 2
    sx = out_w / (box[:, 2] - box[:, 0] + 1e-8)
    sy = out_h / (box[:, 3] - box[:, 1] + 1e-8)
    eye = torch.eye(3, dtype=box.dtype).repeat(n, 1, 1)
    shift, shift_inv, scale, rot = (eye.clone() for _ in range(4))
    shift[:, 0, 2], shift[:, 1, 2] = cx, cy
    shift_inv[:, 0, 2], shift_inv[:, 1, 2] = -cx, -cy
    scale[:, 0, 0], scale[:, 1, 1] = sx, sy
    zero = torch.zeros(n, dtype=box.dtype)
    rot[:, 0, 0], rot[:, 0, 1] = torch.cos(zero), torch.sin(zero)
    rot[:, 1, 0], rot[:, 1, 1] = -torch.sin(zero), torch.cos(zero)
    m = shift @ rot
    m = m @ scale
    m = m @ shift_inv
    m[:, 0, 2] += out_w / 2 - cx
    m[:, 1, 2] += out_h / 2 - cy
    return m


def ref_pixel_norm(h, w):
    """``(1, 3, 3)`` pixel -> [-1, 1] matrix, float32 arithmetic."""
    m = torch.tensor([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0], [0.0, 0.0, 1.0]])
    m[0, 0] = m[0, 0] * 2.0 / (w - 1.0)
    m[1, 1] = m[1, 1] * 2.0 / (h - 1.0)
    return m[None]


def ref_warp(img, m3, crop_hw=CROP_HW):
    """§1.5: ``dst_norm @ (M @ inv(src_norm))``, inverted, ``affine_grid``."""
    n, c, h, w = img.shape
    src_norm = ref_pixel_norm(h, w)
    dst_norm = ref_pixel_norm(*crop_hw)
    dst_from_src = dst_norm @ (m3 @ torch.inverse(src_norm))
    theta = torch.inverse(dst_from_src)[:, :2, :]
    grid = F.affine_grid(theta, [n, c, *crop_hw], align_corners=True)
    return F.grid_sample(img, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=True)


def ref_hand_crops(img, rcenter, rsize, lcenter, lsize):
    """§1.4-1.5 for both hands: boxes, matrices, ``[right; mirrored left]``.

    Returns:
        dict: ``rbox``/``lbox`` (body-input px), ``r_o2h``/``l_o2h``,
        ``r_h2o``/``l_h2o`` (2x3), ``hand_img`` (2N, C, 256, 256).
    """
    out = {}
    crops = []
    for s, c, sz in (('r', rcenter, rsize), ('l', lcenter, lsize)):
        box = ref_restore_bbox(c, sz, 1.0, 2.0)
        m3 = ref_crop_affine(ref_to_input(box))
        out[f'{s}box'] = box
        out[f'{s}_o2h'] = m3[:, :2, :]
        out[f'{s}_h2o'] = torch.inverse(m3)[:, :2, :]
        crop = ref_warp(img, m3)
        crops.append(crop if s == 'r' else torch.flip(crop, [3]))
    out['hand_img'] = torch.cat(crops)
    return out
