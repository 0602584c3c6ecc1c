# Copyright (c) interwild_mm contributors.
"""Synthetic two-hand dataset in the InterHand2.6M and HIC file formats.

Renders MANO hands (``interwild_mm.mano.ManoLayer``) with the project's
z-buffer rasteriser over random backgrounds and writes

* an InterHand2.6M-format dataset (spec 3.2) with a ``train`` and a ``test``
  split (different captures), and
* a small HIC-format test split (spec 3.4),

so that every loader, transform, metric and a short training run can be
exercised without the licensed data.

Geometry conventions (identical to InterHand2.6M):

* World coordinates in millimetres for cameras and joints, metres for MANO.
* Camera ``c`` of a capture: ``X_cam = R (X_world - campos)`` (mm), i.e. the
  extrinsic translation is ``t = -R campos``; pinhole intrinsics ``focal``,
  ``princpt`` in pixels; x right, y down, z forward.
* MANO parameters are world-frame NeuralAnnot-style fits ``{pose 48,
  shape 10, trans 3}`` (``hand_pose`` an offset from the MANO mean pose,
  ``flat_hand_mean=False``). They mean what the official loader makes of
  them: the hand of an image is the fit placed in that image's camera by
  the official ``get_mano_data`` steps
  (:func:`interwild_mm.datasets.transforms.mano_data.place_mano_fit`, i.e.
  root orientation pre-multiplied by ``R``, MANO with ``transl = trans``,
  then ``P - root + R root + t`` with the regressed wrist as ``root``).
  That placement depends on the camera (it differs from ``R X_world + t``
  of the plain world-frame MANO mesh by ``R (R - I)(w0 - J0)``, ``w0`` the
  regressed wrist of the posed mesh, ``J0`` MANO's kinematic root), so
  **every image is its own frame** (its own ``frame_idx``, joint_3d entry
  and MANO entry; a sampled hand pose seen by two cameras gives two frames
  with the same fit): the rendered meshes are the placed meshes, and the
  ``world_coord`` joints are the placed joints mapped back to the world
  (``R^T (P - t)``), so the loaders' MANO targets land exactly on the
  annotated joints.
* ``world_coord`` joints (42) are the ManoLayer joints (21 per hand, right
  then left) in millimetres, written in the InterHand2.6M order (tips first,
  wrist last, see ``interwild_mm.mano.constants.IH26M_JOINT_NAMES``).
* Cameras and fits are rounded to the 7 decimals written in the json files
  before anything is derived from them.

Every capture has a few fixed cameras in front of a capture centre (within
about 27 degrees of the frontal direction, 0.45-0.85 m away, roll within 15
degrees), every sampled hand pose places one or two hands around that centre
(right-only, left-only, or interacting = both wrists side by side, the
person's left wrist 6-12 cm to the left of the right one, as in photos)
and is rendered from one or two of the capture's cameras. Per-image
``joint_valid`` = the hand exists and the projected joint lies inside the
image and in front of the camera (self-occlusion does not invalidate, as in
InterHand2.6M). Views in which no joint is inside the image are skipped.
Besides the official files, a per-image visibility mask (PNG, 0 background,
1 right, 2 left; from the renderer's mesh-id map) is written for tests.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from interwild_mm.datasets.synthetic_files import (JSON_DECIMALS,
                                                   README_TEMPLATE, dump_json,
                                                   floats, hand_bbox,
                                                   write_jpg, write_mask)
from interwild_mm.datasets.transforms.mano_data import place_mano_fit
from interwild_mm.mano.constants import NUM_SH_JOINTS, TH_TO_IH26M
from interwild_mm.visualization.mesh_io import save_ply
from interwild_mm.visualization.renderer import render_meshes

__all__ = [
    'SyntheticHandGenerator', 'make_synthetic_dataset', 'HIC_FOCAL',
    'HIC_PRINCPT', 'HIC_IMG_SIZE', 'DEFAULT_SYNTHETIC_MANO_DIR'
]

#: Where the generator looks for (and creates) the synthetic MANO model.
DEFAULT_SYNTHETIC_MANO_DIR = 'data/mano_synthetic'
#: Fixed HIC intrinsics and image size (W, H) (spec 3.4).
HIC_FOCAL = (525.0, 525.0)
HIC_PRINCPT = (319.5, 239.5)
HIC_IMG_SIZE = (640, 480)

HAND_TYPES = ('right', 'left', 'interacting')
_HAND_TYPE_PROBS = (0.25, 0.25, 0.5)
_CAMERAS_PER_CAPTURE = 4
_FRAMES_PER_SEQ = 20
_OFF_CENTRE_PROB = 0.15
# Capture ids of each split (disjoint, like InterHand2.6M).
_SPLIT_CAPTURES = {'train': (0, 1, 2), 'test': (8, 9)}
_SPLIT_SEED_OFFSET = {'train': 0, 'test': 1000, 'hic': 2000}


@dataclass
class HandFrame:
    """Sampled hands (one or two MANO fits), world frame.

    Attributes:
        hand_type (str): 'right', 'left' or 'interacting'.
        params (dict): per side ``{'pose': (48,), 'shape': (10,),
            'trans': (3,)}`` (metres, world, rounded to the json precision)
            or ``None``.
    """
    hand_type: str
    params: Dict[str, Optional[Dict[str, np.ndarray]]]


def _random_background(rng: np.random.Generator, height: int,
                       width: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB: gradient + blurred blobs + noise."""
    # Smooth content is drawn at 1/4 resolution, then upsampled.
    sh, sw = max(height // 4, 4), max(width // 4, 4)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    img = ((1 - t)[..., None] * c0 + t[..., None] * c1).astype(np.float32)
    for _ in range(int(rng.integers(3, 9))):
        centre = (int(rng.integers(0, sw)), int(rng.integers(0, sh)))
        axes = (int(rng.integers(2, max(3, sw // 3))),
                int(rng.integers(2, max(3, sh // 3))))
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                    color, -1)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    noise = rng.normal(0, rng.uniform(2, 12), (height, width, 3))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _look_at(campos: np.ndarray, target: np.ndarray,
             roll: float) -> np.ndarray:
    """World->camera rotation (rows = camera axes in world), z to target.

    The camera's y axis is the projection of world +y (down) onto the image
    plane before ``roll``, so a camera looking along world +z has its x, y
    axes along world x, y (the person frame of :meth:`sample_frame`).
    """
    z = target - campos
    z = z / np.linalg.norm(z)
    helper = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else \
        np.array([0.0, 0.0, 1.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c, s = np.cos(roll), np.sin(roll)
    x, y = c * x + s * y, -s * x + c * y
    return np.stack([x, y, z])


class SyntheticHandGenerator:
    """Samples MANO hands and renders them with known cameras.

    Args:
        mano_dir (str, optional): folder with MANO_RIGHT.pkl / MANO_LEFT.pkl.
            ``None`` uses ``data/mano_synthetic`` and writes the synthetic
            model there if it is missing.
        pose_std (float): std of the hand-pose offsets from the mean pose
            (radians, clipped at 2 std).
        shape_std (float): std of the betas (clipped at 2 std).
    """

    def __init__(self,
                 mano_dir: Optional[str] = None,
                 pose_std: float = 0.15,
                 shape_std: float = 0.8) -> None:
        from interwild_mm.mano import ManoLayer
        if mano_dir is None:
            mano_dir = DEFAULT_SYNTHETIC_MANO_DIR
            if not (osp.isfile(osp.join(mano_dir, 'MANO_RIGHT.pkl'))
                    and osp.isfile(osp.join(mano_dir, 'MANO_LEFT.pkl'))):
                from interwild_mm.mano.synthetic import write_synthetic_mano
                write_synthetic_mano(mano_dir)
        self.mano_dir = mano_dir
        self.layers = {
            side: ManoLayer(model_dir=mano_dir, side=side).eval()
            for side in ('right', 'left')
        }
        self.faces = {
            side: self.layers[side].faces.cpu().numpy().astype(np.int64)
            for side in ('right', 'left')
        }
        self.pose_std = pose_std
        self.shape_std = shape_std

    @torch.no_grad()
    def mano(self, side: str, pose: np.ndarray, shape: np.ndarray,
             trans: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """MANO forward for one hand: (778, 3) vertices, (21, 3) joints (m)."""
        f = torch.float32
        out = self.layers[side](
            global_orient=torch.as_tensor(pose[None, :3], dtype=f),
            hand_pose=torch.as_tensor(pose[None, 3:], dtype=f),
            betas=torch.as_tensor(shape[None], dtype=f),
            transl=torch.as_tensor(trans[None], dtype=f))
        return (out['vertices'][0].double().numpy(),
                out['joints'][0].double().numpy())

    def sample_hand(self,
                    rng: np.random.Generator,
                    side: str,
                    centre_m: np.ndarray,
                    anchor: str = 'centroid') -> Dict[str, np.ndarray]:
        """Random MANO parameters whose world-frame mesh centroid
        (``anchor='centroid'``) or wrist joint (``anchor='wrist'``) lies at
        ``centre_m``; rounded to the json precision."""
        if anchor not in ('centroid', 'wrist'):
            raise ValueError(f"anchor must be 'centroid' or 'wrist', got "
                             f'{anchor!r}')
        root = Rotation.random(random_state=rng).as_rotvec()
        hand = np.clip(
            rng.normal(0, self.pose_std, 45), -2 * self.pose_std,
            2 * self.pose_std)
        shape = np.clip(
            rng.normal(0, self.shape_std, 10), -2 * self.shape_std,
            2 * self.shape_std)
        pose = np.round(np.concatenate([root, hand]), JSON_DECIMALS)
        shape = np.round(shape, JSON_DECIMALS)
        verts, joints = self.mano(side, pose, shape, np.zeros(3))
        # transl is purely additive in MANO: shift the anchor to centre_m.
        ref = verts.mean(0) if anchor == 'centroid' else joints[0]
        trans = np.round(centre_m - ref, JSON_DECIMALS)
        return dict(pose=pose, shape=shape, trans=trans)

    def sample_frame(self,
                     rng: np.random.Generator,
                     centre_m: np.ndarray,
                     hand_type: Optional[str] = None) -> HandFrame:
        """Sample the hands of one frame around ``centre_m`` (world, m)."""
        if hand_type is None:
            hand_type = HAND_TYPES[rng.choice(3, p=_HAND_TYPE_PROBS)]
        # Mostly near the capture centre; sometimes far enough off-centre to
        # be cut by the image border in some views (joint_valid = 0).
        spread = 0.14 if rng.random() < _OFF_CENTRE_PROB else 0.04
        centre = centre_m + rng.uniform(-spread, spread, 3)
        centres = {}
        if hand_type == 'interacting':
            # Wrists side by side in the person frame (world x = the
            # person's left, y down, z away from the cameras): the left
            # wrist 6-12 cm to the person's left of the right one, with a
            # few cm of vertical and depth jitter. rel_trans therefore has
            # the structure of real photos (official demo: x > 0).
            d = np.array([
                rng.uniform(0.06, 0.12),
                rng.normal(0.0, 0.02),
                rng.normal(0.0, 0.02)
            ])
            centres = {'right': centre - d / 2, 'left': centre + d / 2}
            anchor = 'wrist'
        else:
            centres = {hand_type: centre}
            anchor = 'centroid'
        params = {
            side: (self.sample_hand(rng, side, centres[side], anchor=anchor)
                   if side in centres else None)
            for side in ('right', 'left')
        }
        return HandFrame(hand_type, params)

    def place(self,
              frame: HandFrame,
              cam: Dict[str, np.ndarray],
              world_in_mm: bool = True) -> Dict[str, np.ndarray]:
        """The frame's fits placed in a camera as the official loader does.

        Args:
            frame (HandFrame): the fits (world frame).
            cam (dict): ``R`` (3, 3), ``campos`` (3,) (mm if
                ``world_in_mm`` else metres), ``focal`` (2,), ``princpt``
                (2,).
            world_in_mm (bool): unit of ``campos``.

        Returns:
            dict: ``joints_cam`` (42, 3) m (zeros for an absent hand),
            ``exist`` (42,) 0/1, ``verts_cam`` per side (778, 3) m or None.
        """
        R = np.asarray(cam['R'], np.float64)
        campos_m = np.asarray(cam['campos'],
                              np.float64) / (1000.0 if world_in_mm else 1.0)
        joints = np.zeros((2 * NUM_SH_JOINTS, 3))
        exist = np.zeros(2 * NUM_SH_JOINTS)
        verts = {}
        for k, side in enumerate(('right', 'left')):
            p = frame.params[side]
            verts[side] = None
            if p is None:
                continue
            fit = dict(p, focal=cam['focal'], princpt=cam['princpt'], R=R,
                       t=-R @ campos_m)
            out = place_mano_fit(fit, self.layers, side, False, 0)
            sl = slice(k * NUM_SH_JOINTS, (k + 1) * NUM_SH_JOINTS)
            joints[sl], exist[sl] = out['joints'], 1
            verts[side] = out['mesh']
        return dict(joints_cam=joints, exist=exist, verts_cam=verts)

    def render(self, rng: np.random.Generator, placed: Dict[str, np.ndarray],
               cam: Dict[str, np.ndarray],
               img_size: Tuple[int, int]) -> Dict[str, np.ndarray]:
        """Render placed hands (:meth:`place`) over a random background.

        Args:
            rng (np.random.Generator): randomness (background, colours).
            placed (dict): output of :meth:`place` for ``cam``.
            cam (dict): ``focal`` (2,), ``princpt`` (2,).
            img_size (tuple): (W, H).

        Returns:
            dict: ``image`` (H, W, 3) uint8 RGB, ``joints_img`` (42, 2) px,
            ``joints_cam`` (42, 3) m, ``joint_valid`` (42,) 0/1 (hand present
            and projected inside the image, in front of the camera),
            ``mesh_id`` (H, W) (0 = right, 1 = left, -1 = background),
            ``verts_cam`` per side (778, 3) m or None.
        """
        w, h = img_size
        joints_cam, verts_cam = placed['joints_cam'], placed['verts_cam']
        z = joints_cam[:, 2]
        safe_z = np.where(z > 1e-6, z, 1.0)
        joints_img = joints_cam[:, :2] / safe_z[:, None] * cam['focal'] + \
            cam['princpt']
        inside = (z > 1e-6) & (joints_img[:, 0] >= 0) & \
            (joints_img[:, 0] <= w - 1) & (joints_img[:, 1] >= 0) & \
            (joints_img[:, 1] <= h - 1)
        valid = (placed['exist'] > 0) & inside

        sides = [s for s in ('right', 'left') if verts_cam[s] is not None]
        tone = rng.uniform([190, 140, 110], [245, 200, 170])
        colors = [
            np.clip(tone * rng.uniform(0.92, 1.08, 3), 0, 255) for _ in sides
        ]
        light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
        background = _random_background(rng, h, w)
        out = render_meshes([verts_cam[s] for s in sides],
                            [self.faces[s] for s in sides],
                            dict(
                                type='perspective',
                                focal=cam['focal'],
                                princpt=cam['princpt']),
                            image=background,
                            colors=colors,
                            alpha=1.0,
                            shading='smooth',
                            light_dir=light,
                            ambient=0.3,
                            diffuse=0.7)
        side_index = np.array([('right', 'left').index(s)
                               for s in sides] + [-1])
        mesh_id = side_index[out.mesh_id]  # -1 stays -1 (last entry)
        return dict(
            image=out.image,
            joints_img=joints_img,
            joints_cam=joints_cam,
            joint_valid=valid.astype(np.int64),
            mesh_id=mesh_id,
            verts_cam=verts_cam)


def _make_capture_cameras(rng: np.random.Generator, capture: int,
                          img_size: Tuple[int, int]) -> Dict:
    """Cameras of one capture plus its centre (world mm)."""
    w, h = img_size
    centre = rng.uniform(-300, 300, 3)
    cams = {}
    for k in range(_CAMERAS_PER_CAPTURE):
        name = str(400000 + 100 * capture + k)
        # In front of the person (world -z side), within about +-27 deg of
        # the frontal direction, small roll: the in-the-wild photo setting.
        direction = np.array([*rng.uniform(-0.5, 0.5, 2), -1.0])
        direction /= np.linalg.norm(direction)
        dist = rng.uniform(450.0, 850.0)
        campos = centre + dist * direction
        R = _look_at(campos, centre, np.deg2rad(rng.uniform(-15.0, 15.0)))
        f = 1.2 * w * rng.uniform(0.9, 1.1)
        focal = np.array([f, f * rng.uniform(0.99, 1.01)])
        princpt = np.array([(w - 1) / 2, (h - 1) / 2]) + rng.uniform(-5, 5, 2)
        # rounded like the json: the placement uses the written camera
        cams[name] = {
            k: np.round(v, JSON_DECIMALS)
            for k, v in dict(R=R, campos=campos, focal=focal,
                             princpt=princpt).items()
        }
    return dict(centre=centre, cameras=cams)


def _camera_json(captures: Dict) -> Dict:
    """The camera json of one split (``{capture: {campos|camrot|...}}``)."""
    keys = dict(campos='campos', camrot='R', focal='focal', princpt='princpt')
    return {
        str(c): {
            out: {k: floats(v[src])
                  for k, v in cap['cameras'].items()}
            for out, src in keys.items()
        }
        for c, cap in captures.items()
    }


def _write_view(gen: SyntheticHandGenerator, rng: np.random.Generator,
                frame: HandFrame, cam: Dict, where: Dict,
                img_size: Tuple[int, int]) -> Optional[Dict]:
    """Render one image (its own frame) and build its json records.

    Args:
        where (dict): ``out_dir``, ``split``, ``capture``, ``camera``,
            ``frame_idx``, ``image_id``.

    Returns:
        dict | None: ``image``, ``annotation``, ``joint_3d`` and ``mano``
        records, or None when no joint is inside the image.
    """
    placed = gen.place(frame, cam)
    res = gen.render(rng, placed, cam, img_size)
    valid = res['joint_valid']
    if valid.sum() == 0:
        return None
    c, cam_name, fidx = where['capture'], where['camera'], where['frame_idx']
    file_name = f'capture{c}/cam{cam_name}/image{fidx:05d}.jpg'
    write_jpg(
        osp.join(where['out_dir'], 'images', where['split'], file_name),
        res['image'])
    write_mask(
        osp.join(where['out_dir'], 'masks', where['split'],
                 file_name[:-len('.jpg')] + '.png'), res['mesh_id'])
    image = dict(
        id=where['image_id'],
        file_name=file_name,
        width=img_size[0],
        height=img_size[1],
        capture=c,
        subject=c,
        seq_name=f'{fidx // _FRAMES_PER_SEQ:04d}_synthetic',
        camera=cam_name,
        frame_idx=fidx)
    annotation = dict(
        id=where['image_id'],
        image_id=where['image_id'],
        bbox=hand_bbox(res['joints_img'], valid, img_size),
        joint_valid=[[int(x)] for x in valid[TH_TO_IH26M]],
        hand_type=frame.hand_type,
        hand_type_valid=1)
    # placed joints back to the world: X_w = R^T (X_cam - t) = R^T X_cam +
    # campos (mm); absent hands stay zero
    exist = placed['exist']
    world_mm = placed['joints_cam'] @ cam['R'] * 1000.0 + cam['campos']
    world_mm[exist == 0] = 0.0
    joint_3d = dict(
        world_coord=floats(world_mm[TH_TO_IH26M]),
        joint_valid=[[bool(x)] for x in exist[TH_TO_IH26M]],
        hand_type=frame.hand_type,
        hand_type_valid=True)
    mano = {
        side: (None if p is None else dict(
            pose=floats(p['pose']),
            shape=floats(p['shape']),
            trans=floats(p['trans'])))
        for side, p in frame.params.items()
    }
    return dict(image=image, annotation=annotation, joint_3d=joint_3d,
                mano=mano)


def write_ih26m_split(gen: SyntheticHandGenerator, out_dir: str, split: str,
                      num_images: int, seed: int,
                      img_size: Tuple[int, int]) -> Dict[str, int]:
    """Render ``num_images`` images and write one InterHand2.6M split.

    Every image is its own frame (see the module docstring).

    Returns:
        dict: counts per hand type and the number of frames.
    """
    rng = np.random.default_rng([seed, _SPLIT_SEED_OFFSET[split]])
    captures = {
        c: _make_capture_cameras(rng, c, img_size)
        for c in _SPLIT_CAPTURES[split]
    }
    images, annotations = [], []
    cam_json = _camera_json(captures)
    joint_json = {str(c): {} for c in captures}
    mano_json = {str(c): {} for c in captures}
    counts = {t: 0 for t in HAND_TYPES}
    frame_idx, attempts = 0, 0
    cap_ids = list(captures)
    while len(images) < num_images:
        attempts += 1
        if attempts > 20 * num_images + 100:
            raise RuntimeError('could not place hands inside the images; '
                               'check --img-size')
        c = cap_ids[int(rng.integers(len(cap_ids)))]
        cap = captures[c]
        frame = gen.sample_frame(rng, cap['centre'] / 1000.0)
        cam_names = list(cap['cameras'])
        n_views = int(rng.integers(1, 3))
        views = rng.choice(len(cam_names), size=n_views, replace=False)
        for v in views:
            if len(images) >= num_images:
                break
            cam_name = cam_names[int(v)]
            frame_idx += 1
            rec = _write_view(
                gen, rng, frame, cap['cameras'][cam_name],
                dict(out_dir=out_dir, split=split, capture=c,
                     camera=cam_name, frame_idx=frame_idx,
                     image_id=len(images)), img_size)
            if rec is None:
                continue
            images.append(rec['image'])
            annotations.append(rec['annotation'])
            joint_json[str(c)][str(frame_idx)] = rec['joint_3d']
            mano_json[str(c)][str(frame_idx)] = rec['mano']
            counts[frame.hand_type] += 1
    num_frames = len(images)
    ann_dir = osp.join(out_dir, 'annotations', split)
    prefix = osp.join(ann_dir, f'InterHand2.6M_{split}')
    dump_json(
        dict(images=images, annotations=annotations), f'{prefix}_data.json')
    dump_json(cam_json, f'{prefix}_camera.json')
    dump_json(joint_json, f'{prefix}_joint_3d.json')
    dump_json(mano_json, f'{prefix}_MANO_NeuralAnnot.json')
    return dict(counts, frames=num_frames)


def write_hic_split(gen: SyntheticHandGenerator, out_dir: str, num_images: int,
                    seed: int) -> Dict[str, int]:
    """Render ``num_images`` HIC-format images (camera frame = world)."""
    rng = np.random.default_rng([seed, _SPLIT_SEED_OFFSET['hic']])
    w, h = HIC_IMG_SIZE
    data_dir = osp.join(out_dir, 'HIC', 'data')
    cam = dict(
        R=np.eye(3),
        campos=np.zeros(3),
        focal=np.array(HIC_FOCAL),
        princpt=np.array(HIC_PRINCPT))
    images, annotations = [], []
    counts = {t: 0 for t in HAND_TYPES}
    attempts = 0
    while len(images) < num_images:
        attempts += 1
        if attempts > 20 * num_images + 100:
            raise RuntimeError('could not place HIC hands inside the image')
        i = len(images)
        depth = rng.uniform(0.45, 0.85)
        centre = np.array([
            rng.uniform(-0.12, 0.12) * depth / 0.6,
            rng.uniform(-0.08, 0.08) * depth / 0.6, depth
        ])
        frame = gen.sample_frame(rng, centre)
        res = gen.render(rng, gen.place(frame, cam, world_in_mm=False), cam,
                         HIC_IMG_SIZE)
        if res['joint_valid'].sum() == 0:
            continue
        seq = 1 + i // 10
        file_name = f'{seq:02d}/rgb/{i:06d}.jpg'
        write_jpg(osp.join(data_dir, file_name), res['image'])
        write_mask(
            osp.join(data_dir, f'{seq:02d}/mask/{i:06d}.png'), res['mesh_id'])
        paths = {}
        for side in ('right', 'left'):
            if frame.params[side] is None:
                paths[side] = None
                continue
            rel = f'{seq:02d}/mano/{i:06d}_{side}.ply'
            save_ply(
                osp.join(data_dir, rel), res['verts_cam'][side],
                gen.faces[side])
            paths[side] = rel
        images.append(dict(id=i, file_name=file_name, width=w, height=h))
        annotations.append(
            dict(
                id=i,
                image_id=i,
                hand_type=frame.hand_type,
                right_mano_path=paths['right'],
                left_mano_path=paths['left']))
        counts[frame.hand_type] += 1
    dump_json(
        dict(images=images, annotations=annotations),
        osp.join(data_dir, 'HIC.json'))
    return counts


def make_synthetic_dataset(out_dir: Union[str, os.PathLike],
                           num: int = 200,
                           num_test: Optional[int] = None,
                           num_hic: int = 10,
                           mano_dir: Optional[str] = None,
                           seed: int = 0,
                           img_size: Sequence[int] = (334, 512),
                           command: str = '') -> Dict[str, Dict[str, int]]:
    """Write the synthetic InterHand2.6M (train/test) and HIC datasets.

    Args:
        out_dir (str | PathLike): output root.
        num (int): number of InterHand2.6M-format images (train + test).
        num_test (int, optional): how many of them go to ``test``; defaults
            to ``max(1, num // 5)``.
        num_hic (int): number of HIC-format test images (640x480).
        mano_dir (str, optional): MANO folder; default
            ``data/mano_synthetic`` (created if missing).
        seed (int): random seed; the output is a function of the arguments.
        img_size (Sequence[int]): InterHand2.6M image size (W, H).
        command (str): command line recorded in README.txt.

    Returns:
        dict: per split the hand-type counts.
    """
    out_dir = str(out_dir)
    w, h = int(img_size[0]), int(img_size[1])
    if w < 64 or h < 64:
        raise ValueError(f'img_size must be at least 64x64, got {w}x{h}')
    if num < 2:
        raise ValueError(f'num must be >= 2 (train and test), got {num}')
    if num_test is None:
        num_test = max(1, num // 5)
    if not 1 <= num_test < num:
        raise ValueError(f'num_test must be in [1, num), got {num_test}')
    if num_hic < 0:
        raise ValueError(f'num_hic must be >= 0, got {num_hic}')
    gen = SyntheticHandGenerator(mano_dir)
    # MANO on one hand is far too small for intra-op threads; they only add
    # overhead (10x slower on a loaded 2-core machine).
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = {
            'train':
            write_ih26m_split(gen, out_dir, 'train', num - num_test, seed,
                              (w, h)),
            'test':
            write_ih26m_split(gen, out_dir, 'test', num_test, seed, (w, h)),
        }
        if num_hic:
            summary['hic'] = write_hic_split(gen, out_dir, num_hic, seed)
    finally:
        torch.set_num_threads(num_threads)
    with open(osp.join(out_dir, 'README.txt'), 'w') as fh:
        fh.write(
            README_TEMPLATE.format(
                command=command or 'interwild_mm.datasets.synthetic.'
                'make_synthetic_dataset',
                seed=seed,
                mano_dir=gen.mano_dir,
                w=w,
                h=h,
                train=num - num_test,
                test=num_test,
                hic=num_hic,
                train_caps=list(_SPLIT_CAPTURES['train']),
                test_caps=list(_SPLIT_CAPTURES['test']),
                counts=json.dumps(summary)))
    return summary
