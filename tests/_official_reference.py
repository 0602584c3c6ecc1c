"""Step-by-step float32 references of the official InterWild computations.

Written from ``docs/official_conventions.md`` only (plain torch operations,
no interwild_mm geometry): the hand-crop arithmetic of §1.4-1.5, TransNet's
geometry of §1.10 and the test forward pass of §1 on the weights of an
``InterWild`` model. Tests compare the library against these functions.
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
    """§1.5: body-input -> input pixels: ``x / 192 * 384``, ``y / 256 *
    512``."""
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


# ----------------------------------------------------------------------
# §1: the test forward pass
HAND_GRID = 8  # §0 hand grid 8x8x8
VOLUME = 64  # §0 TransNet volume 64^3
SIGMA = 2.5
FOCAL, PRINCPT = 5000.0, 128.0
DEPTH_K = (FOCAL * FOCAL * 0.6**2 / (256 * 256))**0.5  # 11.71875 m


def _bn(x, sd, key):
    return F.batch_norm(x, sd[key + '.running_mean'], sd[key + '.running_var'],
                        sd[key + '.weight'], sd[key + '.bias'], False, 0.0,
                        1e-5)


def _linear(x, sd, key):
    return F.linear(x, sd[key + '.weight'], sd[key + '.bias'])


def _sample(feat, xy):
    """Bilinear samples ``(N, P, C)`` of ``feat`` at cell coordinates ``xy``
    ``(N, P, 2)``, ``align_corners=True``, ``u = x / (W - 1) * 2 - 1``."""
    h, w = feat.shape[2:]
    grid = torch.stack([xy[..., 0] / (w - 1) * 2 - 1,
                        xy[..., 1] / (h - 1) * 2 - 1], dim=-1)
    out = F.grid_sample(feat, grid[:, None], mode='bilinear',
                        padding_mode='zeros', align_corners=True)
    return out[:, :, 0].permute(0, 2, 1)


def _expected_index(prob, dims_other):
    """Expected cell index along the last dim of the marginal of ``prob``
    (summed over ``dims_other``)."""
    marginal = prob.sum(dim=dims_other)
    idx = torch.arange(marginal.shape[-1], dtype=prob.dtype)
    return (marginal * idx).sum(-1)


def ref_detectnet(img, sd, body_backbone):
    """§1.2-1.3: centres, sizes (grid units) and confidences per hand."""
    body = F.interpolate(img, BODY_HW, mode='bilinear', align_corners=False)
    x = body_backbone(body)[-1]
    for conv, bn in ((0, 1), (3, 4), (6, 7)):
        x = F.conv_transpose2d(x, sd[f'detect_net.head.deconv.{conv}.weight'],
                               stride=2, padding=1)
        x = F.relu(_bn(x, sd, f'detect_net.head.deconv.{bn}'))
    logits = F.conv2d(x, sd['detect_net.head.bbox_center.0.weight'],
                      sd['detect_net.head.bbox_center.0.bias'])
    n, k, h, w = logits.shape
    prob = F.softmax(logits.reshape(n, k, h * w), dim=-1).reshape(n, k, h, w)
    cx = _expected_index(prob, 2)  # column marginal -> x
    cy = _expected_index(prob, 3)  # row marginal -> y
    out = {}
    for i, s in enumerate(('r', 'l')):
        c = torch.stack([cx[:, i], cy[:, i]], dim=-1)
        f = _sample(x, c[:, None])[:, 0]
        f = F.relu(_linear(f, sd, f'detect_net.head.{s}hand_size.0'))
        out[f'{s}center'] = c
        out[f'{s}size'] = _linear(f, sd, f'detect_net.head.{s}hand_size.2')
        out[f'{s}conf'] = _sample(prob[:, i:i + 1], c[:, None])[:, 0, 0]
    return out


def ref_rot6d(x):
    """§1.7: Gram-Schmidt of the two 3-vectors; rows of R."""
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True)
    u2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = u2 / u2.norm(dim=-1, keepdim=True)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-2)


def ref_rotmat_to_axis_angle(r):
    """§1.7: through the quaternion of the best-conditioned candidate (the
    largest of ``|w|, |x|, |y|, |z|``), no ``w >= 0`` fix."""
    m = [[r[..., i, j] for j in range(3)] for i in range(3)]
    tr = [1 + m[0][0] + m[1][1] + m[2][2], 1 + m[0][0] - m[1][1] - m[2][2],
          1 - m[0][0] + m[1][1] - m[2][2], 1 - m[0][0] - m[1][1] + m[2][2]]
    two_q = torch.sqrt(torch.stack(tr, dim=-1).clamp(min=0))  # 2|q_i|
    # 4 q_i q for i = w, x, y, z
    rows = [[two_q[..., 0]**2, m[2][1] - m[1][2], m[0][2] - m[2][0],
             m[1][0] - m[0][1]],
            [m[2][1] - m[1][2], two_q[..., 1]**2, m[1][0] + m[0][1],
             m[0][2] + m[2][0]],
            [m[0][2] - m[2][0], m[1][0] + m[0][1], two_q[..., 2]**2,
             m[1][2] + m[2][1]],
            [m[1][0] - m[0][1], m[2][0] + m[0][2], m[2][1] + m[1][2],
             two_q[..., 3]**2]]
    cand = torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)
    cand = cand / (2.0 * two_q.clamp(min=0.1))[..., None]
    best = two_q.argmax(dim=-1)
    q = torch.take_along_dim(cand, best[..., None, None], dim=-2)[..., 0, :]
    vnorm = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(vnorm, q[..., :1])
    small = angle.abs() < 1e-6
    ratio = torch.where(small, 0.5 - angle * angle / 48,
                        torch.sin(angle / 2) / torch.where(small, 1.0, angle))
    return q[..., 1:] / ratio


def ref_shnet(feat, sd):
    """§1.6-1.7 on the ``(2N, C, 8, 8)`` hand features (mirrored frame)."""
    m = feat.shape[0]
    pre = 'shnet.hand_position_net.conv.0'
    logits = F.conv2d(feat, sd[pre + '.weight'], sd[pre + '.bias'])
    logits = logits.reshape(m, 21, HAND_GRID, HAND_GRID, HAND_GRID)
    prob = F.softmax(logits.reshape(m, 21, -1), dim=-1).reshape(logits.shape)
    joints = torch.stack([_expected_index(prob, (2, 3)),
                          _expected_index(prob, (2, 4)),
                          _expected_index(prob, (3, 4))], dim=-1)
    rot = 'shnet.hand_rotation_net.'
    pooled = feat.mean(dim=(2, 3))
    shape = _linear(pooled, sd, rot + 'shape_out.0')
    cam = _linear(pooled, sd, rot + 'cam_out.0')
    root_cam = torch.stack([cam[:, 0], cam[:, 1],
                            DEPTH_K * torch.sigmoid(cam[:, 2])], dim=-1)
    pose_map = F.conv2d(feat, sd[rot + 'conv.0.weight'],
                        sd[rot + 'conv.0.bias'])
    pose_map = F.relu(_bn(pose_map, sd, rot + 'conv.1'))
    pose_feat = torch.cat([_sample(pose_map, joints[..., :2]), joints], -1)
    pose_feat = pose_feat.reshape(m, -1)
    root_r = ref_rot6d(_linear(pose_feat, sd, rot + 'root_pose_out.0'))
    hand_r = ref_rot6d(
        _linear(pose_feat, sd, rot + 'pose_out.0').reshape(m, 15, 6))
    return dict(joint_img=joints, root_pose=ref_rotmat_to_axis_angle(root_r),
                hand_pose=ref_rotmat_to_axis_angle(hand_r).reshape(m, 45),
                shape=shape, root_cam=root_cam)


def ref_unmirror(out, n):
    """§1.8 on rows ``n...2n-1``."""
    res = {k: v.clone() for k, v in out.items()}
    res['joint_img'][n:, :, 0] = (256 - 1 - 32 * out['joint_img'][n:, :, 0]) \
        / 32
    for key in ('root_pose', 'hand_pose'):
        aa = res[key][n:].reshape(n, -1, 3)
        aa[..., 1:] = -aa[..., 1:]
        res[key][n:] = aa.reshape(n, -1)
    res['root_cam'][n:, 0] = -out['root_cam'][n:, 0]
    return res


def _affine2x3(m, xy):
    """Apply ``(N, 2, 3)`` affines to ``(N, P, 2)`` points."""
    return (m[:, None, :, :2] @ xy[..., None])[..., 0] + m[:, None, :, 2]


def _bmm_xy1(m, x, y):
    """§1.10: the batched matmul of ``(N, 2, 3)`` with ``(x, y, 1)``."""
    xy1 = torch.stack((x, y, torch.ones_like(x)), 2)
    return torch.bmm(m, xy1.permute(0, 2, 1)).permute(0, 2, 1)


def ref_transnet_coords(rjoints, ljoints, r_h2o, l_h2o, hand_grid=HAND_GRID,
                        crop=256, volume=VOLUME):
    """§1.10 steps 1-4, float32 step by step: ``(N, 42, 3)`` volume
    coordinates (right then left) and the square union box ``(N, 4)``."""
    img = []
    for j, m in ((rjoints, r_h2o), (ljoints, l_h2o)):
        x = j[:, :, 0] / hand_grid * crop  # 1. hand grid -> crop px
        y = j[:, :, 1] / hand_grid * crop
        img.append(_bmm_xy1(m, x, y))  # crop -> image px
    boxes = []
    for p in img:  # 2. per-hand box x1.2 about the centre
        xmin, xmax = p[:, :, 0].min(1)[0], p[:, :, 0].max(1)[0]
        ymin, ymax = p[:, :, 1].min(1)[0], p[:, :, 1].max(1)[0]
        cx, width = (xmin + xmax) / 2., xmax - xmin
        cy, height = (ymin + ymax) / 2., ymax - ymin
        boxes.append(torch.stack((cx - 0.5 * width * 1.2,
                                  cy - 0.5 * height * 1.2,
                                  cx + 0.5 * width * 1.2,
                                  cy + 0.5 * height * 1.2), 1))
    union = torch.stack((torch.minimum(boxes[0][:, 0], boxes[1][:, 0]),
                         torch.minimum(boxes[0][:, 1], boxes[1][:, 1]),
                         torch.maximum(boxes[0][:, 2], boxes[1][:, 2]),
                         torch.maximum(boxes[0][:, 3], boxes[1][:, 3])), 1)
    union[:, 2] = union[:, 2] - union[:, 0]  # 3. to xywh, aspect 1
    union[:, 3] = union[:, 3] - union[:, 1]
    w, h = union[:, 2].clone(), union[:, 3].clone()
    cx, cy = union[:, 0] + w / 2., union[:, 1] + h / 2.
    wider, taller = w > h, w < h
    h[wider] = w[wider]
    w[taller] = h[taller]
    union[:, 0], union[:, 1] = cx - w / 2., cy - h / 2.
    union[:, 2], union[:, 3] = w + union[:, 0], h + union[:, 1]
    m = ref_crop_affine(union, (volume, volume))[:, :2, :]  # 4. image -> vol
    coords = [
        torch.cat([_bmm_xy1(m, p[:, :, 0], p[:, :, 1]),
                   j[:, :, 2:] / hand_grid * volume], 2)
        for p, j in zip(img, (rjoints, ljoints))
    ]
    return torch.cat(coords, dim=1), union


def ref_gaussian_volume(coords, volume=VOLUME, sigma=SIGMA):
    """§1.10 step 5 on the full integer grid: ``(N, K·D, H, W)`` (one
    sample at a time, to bound the memory)."""
    ar = torch.arange(volume, dtype=coords.dtype)
    zz, yy, xx = torch.meshgrid(ar, ar, ar, indexing='ij')
    out = []
    for c in coords:
        x = c[:, 0, None, None, None]
        y = c[:, 1, None, None, None]
        z = c[:, 2, None, None, None]
        heatmap = torch.exp(-((xx - x) / sigma)**2 / 2 -
                            ((yy - y) / sigma)**2 / 2 -
                            ((zz - z) / sigma)**2 / 2) * 255
        out.append(heatmap.reshape(-1, volume, volume))
    return torch.stack(out)


def ref_transnet(rjoints, ljoints, r_h2o, l_h2o, sd, backbone):
    """§1.10: relative wrist translation ``(N, 3)`` (metres)."""
    coords, _ = ref_transnet_coords(rjoints, ljoints, r_h2o, l_h2o)
    x = F.conv2d(ref_gaussian_volume(coords), sd['trans_net.conv.0.weight'],
                 sd['trans_net.conv.0.bias'], padding=1)
    x = F.relu(_bn(x, sd, 'trans_net.conv.1'))
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        x = getattr(backbone, name)(x)
    wrists = torch.stack([coords[:, 0, :2], coords[:, 21, :2]], 1)
    wrists = torch.stack((wrists[:, :, 0] / 8, wrists[:, :, 1] / 8), 2)
    feat = torch.cat([_sample(x, wrists), wrists], dim=-1).reshape(
        coords.shape[0], -1)
    return _linear(feat, sd, 'trans_net.fc.0')


def _fit_ortho(points, uv):
    """§1.11: per-axis ``s = span(u) / span(X)``, ``o = mean(u - s X)``."""
    span_x = points[..., :2].amax(1) - points[..., :2].amin(1)
    s = (uv.amax(1) - uv.amin(1)) / span_x
    return s, uv.mean(1) - (s[:, None] * points[..., :2]).mean(1)


def ref_forward(img, sd, body_backbone, hand_backbone, trans_backbone,
                mano_layers):
    """§1 test forward of ``img`` ``(N, 3, 512, 384)``; keys of the
    model's ``mode='tensor'`` output."""
    n = img.shape[0]
    det = ref_detectnet(img, sd, body_backbone)
    crops = ref_hand_crops(img, det['rcenter'], det['rsize'], det['lcenter'],
                           det['lsize'])
    sh = ref_unmirror(ref_shnet(hand_backbone(crops['hand_img'])[-1], sd), n)
    out = dict(img=img)
    cams = {}
    for i, s in enumerate(('r', 'l')):
        rows = slice(i * n, (i + 1) * n)
        h2o = crops[f'{s}_h2o']
        ji = sh['joint_img'][rows]
        mano = mano_layers[s](sh['root_pose'][rows], sh['hand_pose'][rows],
                              sh['shape'][rows])
        t = sh['root_cam'][rows]
        wrist = mano['joints'][:, :1]
        joints = mano['joints'] - wrist + t[:, None]  # crop camera
        proj = joints[..., :2] / (joints[..., 2:] + 1e-4) * FOCAL + PRINCPT
        proj = proj * HAND_GRID / 256
        out[f'{s}hand_bbox'] = ref_restore_bbox(det[f'{s}center'],
                                                det[f'{s}size'], None, 1.0)
        out[f'{s}hand_bbox_conf'] = det[f'{s}conf']
        out[f'{s}joint_img'] = torch.cat(
            [_affine2x3(h2o, ji[..., :2] * 32), ji[..., 2:]], dim=-1)
        out[f'{s}mano_mesh_cam'] = mano['vertices'] - wrist
        out[f'{s}mano_joint_cam'] = mano['joints'] - wrist
        out[f'{s}mano_root_pose'] = sh['root_pose'][rows]
        out[f'{s}mano_hand_pose'] = sh['hand_pose'][rows]
        out[f'{s}mano_shape'] = sh['shape'][rows]
        out[f'{s}root_cam'] = t
        cams[s] = (joints, _affine2x3(h2o, proj * 32))
        focal, princpt = _fit_ortho(*cams[s])
        out[f'render_{s}focal'], out[f'render_{s}princpt'] = focal, princpt
    out['rel_trans'] = ref_transnet(
        sh['joint_img'][:n], sh['joint_img'][n:], crops['r_h2o'],
        crops['l_h2o'], sd, trans_backbone)
    left = out['lmano_joint_cam'] + (out['rroot_cam'] +
                                     out['rel_trans'])[:, None]
    focal, princpt = _fit_ortho(
        torch.cat([cams['r'][0], left], dim=1),
        torch.cat([cams['r'][1], cams['l'][1]], dim=1))
    out['render_focal'], out['render_princpt'] = focal, princpt
    return out
