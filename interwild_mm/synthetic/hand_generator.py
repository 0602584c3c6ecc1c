# Copyright (c) interwild_mm contributors.
"""Random MANO hands, their placement in a camera and their rendering.

:class:`SyntheticHandGenerator` samples world-frame NeuralAnnot-style MANO
fits ``{pose 48, shape 10, trans 3}`` (``hand_pose`` an offset from the MANO
mean pose, ``flat_hand_mean=False``; metres), places them in a camera
exactly as the official loader does
(:func:`interwild_mm.datasets.transforms.mano_data.place_mano_fit`,
``docs/official_conventions.md §3.1``) and renders them with the project's
z-buffer rasteriser over random backgrounds. The file writers
(:mod:`.ih26m_writer`, :mod:`.hic_writer`) turn that into datasets.

A sampled frame holds one or two hands around a centre: right-only,
left-only, or interacting (both wrists side by side, the person's left
wrist 6-12 cm to the left of the right one, as in photos).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from interwild_mm.datasets.transforms.mano_data import place_mano_fit
from interwild_mm.mano import ManoLayer
from interwild_mm.mano.constants import NUM_SH_JOINTS
from interwild_mm.visualization.renderer import render_meshes
from .files import JSON_DECIMALS
from .mano_model import write_synthetic_mano

__all__ = [
    'DEFAULT_SYNTHETIC_MANO_DIR', 'HAND_TYPES', 'HandFrame',
    'SyntheticHandGenerator'
]

#: Where the generator looks for (and creates) the synthetic MANO model.
DEFAULT_SYNTHETIC_MANO_DIR = 'data/mano_synthetic'
#: Hand types of a frame and how often each is drawn.
HAND_TYPES = ('right', 'left', 'interacting')
_HAND_TYPE_PROBS = (0.25, 0.25, 0.5)
#: How often a frame is placed far enough off-centre to be cut by the image
#: border in some views.
_OFF_CENTRE_PROB = 0.15


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
        if mano_dir is None:
            mano_dir = DEFAULT_SYNTHETIC_MANO_DIR
            if not (osp.isfile(osp.join(mano_dir, 'MANO_RIGHT.pkl'))
                    and osp.isfile(osp.join(mano_dir, 'MANO_LEFT.pkl'))):
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
