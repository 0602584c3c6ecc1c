# Copyright (c) interwild_mm contributors.
"""Synthetic InterHand2.6M-format splits (``docs/official_conventions.md
§3.2``).

Geometry conventions (identical to InterHand2.6M):

* World coordinates in millimetres for cameras and joints, metres for MANO.
* Camera ``c`` of a capture: ``X_cam = R (X_world - campos)`` (mm), i.e. the
  extrinsic translation is ``t = -R campos``; pinhole intrinsics ``focal``,
  ``princpt`` in pixels; x right, y down, z forward.
* MANO parameters are world-frame NeuralAnnot-style fits ``{pose 48,
  shape 10, trans 3}`` (``hand_pose`` an offset from the MANO mean pose,
  ``flat_hand_mean=False``). They mean what the official loader makes of
  them: the hand of an image is the fit placed in that image's camera by
  the official ``get_mano_data`` steps (``docs/official_conventions.md
  §3.1``; :func:`interwild_mm.datasets.transforms.mano_data.place_mano_fit`,
  i.e. root orientation pre-multiplied by ``R``, MANO with
  ``transl = trans``, then ``P - root + R root + t`` with the regressed
  wrist as ``root``). That placement depends on the camera (it differs from
  ``R X_world + t`` of the plain world-frame MANO mesh by
  ``R (R - I)(w0 - J0)``, ``w0`` the regressed wrist of the posed mesh,
  ``J0`` MANO's kinematic root), so **every image is its own frame** (its
  own ``frame_idx``, joint_3d entry and MANO entry; a sampled hand pose
  seen by two cameras gives two frames with the same fit): the rendered
  meshes are the placed meshes, and the ``world_coord`` joints are the
  placed joints mapped back to the world (``R^T (P - t)``), so the loaders'
  MANO targets land exactly on the annotated joints.
* ``world_coord`` joints (42) are the ManoLayer joints (21 per hand, right
  then left) in millimetres, written in the InterHand2.6M order (tips first,
  wrist last, see ``interwild_mm.mano.constants.IH26M_JOINT_NAMES``).
* Cameras and fits are rounded to the 7 decimals written in the json files
  before anything is derived from them.

Every capture has a few fixed cameras in front of a capture centre (within
about 27 degrees of the frontal direction, 0.45-0.85 m away, roll within 15
degrees), every sampled hand pose places one or two hands around that centre
(:meth:`SyntheticHandGenerator.sample_frame`) and is rendered from one or two
of the capture's cameras. Per-image ``joint_valid`` = the hand exists and the
projected joint lies inside the image and in front of the camera
(self-occlusion does not invalidate, as in InterHand2.6M). Views in which no
joint is inside the image are skipped. Besides the official files, a
per-image visibility mask (PNG, 0 background, 1 right, 2 left; from the
renderer's mesh-id map) is written for tests.
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from interwild_mm.mano.constants import TH_TO_IH26M
from .files import (JSON_DECIMALS, dump_json, floats, hand_bbox, write_jpg,
                    write_mask)
from .hand_generator import HAND_TYPES, HandFrame, SyntheticHandGenerator

__all__ = ['SPLIT_CAPTURES', 'write_ih26m_split']

_CAMERAS_PER_CAPTURE = 4
_FRAMES_PER_SEQ = 20
#: Capture ids of each split (disjoint, like InterHand2.6M).
SPLIT_CAPTURES = {'train': (0, 1, 2), 'test': (8, 9)}
#: Second seed entry of each split's random generator.
_SPLIT_SEED_OFFSET = {'train': 0, 'test': 1000}


def _look_at(campos: np.ndarray, target: np.ndarray,
             roll: float) -> np.ndarray:
    """World->camera rotation (rows = camera axes in world), z to target.

    The camera's y axis is the projection of world +y (down) onto the image
    plane before ``roll``, so a camera looking along world +z has its x, y
    axes along world x, y (the person frame of
    :meth:`SyntheticHandGenerator.sample_frame`).
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


class _SplitRecords:
    """The json content of one split, filled view by view.

    Args:
        captures (dict): the split's captures (:func:`_make_capture_cameras`
            per capture id).
    """

    def __init__(self, captures: Dict) -> None:
        self.images: List[Dict] = []
        self.annotations: List[Dict] = []
        self.joint_json: Dict = {str(c): {} for c in captures}
        self.mano_json: Dict = {str(c): {} for c in captures}
        self.counts = {t: 0 for t in HAND_TYPES}

    def add(self, capture: int, frame_idx: int, rec: Dict,
            hand_type: str) -> None:
        """Add the records of one written view (:func:`_write_view`)."""
        self.images.append(rec['image'])
        self.annotations.append(rec['annotation'])
        self.joint_json[str(capture)][str(frame_idx)] = rec['joint_3d']
        self.mano_json[str(capture)][str(frame_idx)] = rec['mano']
        self.counts[hand_type] += 1


def _draw_frame_and_views(
        gen: SyntheticHandGenerator, rng: np.random.Generator,
        captures: Dict) -> Tuple[int, HandFrame, List[str]]:
    """A capture, a frame of hands around its centre and 1-2 of its cameras.

    Returns:
        tuple: capture id, the frame, the names of the viewing cameras.
    """
    cap_ids = list(captures)
    c = cap_ids[int(rng.integers(len(cap_ids)))]
    cap = captures[c]
    frame = gen.sample_frame(rng, cap['centre'] / 1000.0)
    cam_names = list(cap['cameras'])
    n_views = int(rng.integers(1, 3))
    views = rng.choice(len(cam_names), size=n_views, replace=False)
    return c, frame, [cam_names[int(v)] for v in views]


def _render_split(gen: SyntheticHandGenerator, rng: np.random.Generator,
                  captures: Dict, out_dir: str, split: str, num_images: int,
                  img_size: Tuple[int, int]) -> _SplitRecords:
    """Draw frames and write their views until ``num_images`` are written.

    Every written view gets its own ``frame_idx`` (1, 2, ...; skipped views
    use up theirs too) and the next ``image_id`` (0, 1, ...).

    Raises:
        RuntimeError: too many frames without a joint inside the images.
    """
    records = _SplitRecords(captures)
    frame_idx, attempts = 0, 0
    while len(records.images) < num_images:
        attempts += 1
        if attempts > 20 * num_images + 100:
            raise RuntimeError('could not place hands inside the images; '
                               'check --img-size')
        c, frame, cam_names = _draw_frame_and_views(gen, rng, captures)
        for cam_name in cam_names:
            if len(records.images) >= num_images:
                break
            frame_idx += 1
            rec = _write_view(
                gen, rng, frame, captures[c]['cameras'][cam_name],
                dict(out_dir=out_dir, split=split, capture=c,
                     camera=cam_name, frame_idx=frame_idx,
                     image_id=len(records.images)), img_size)
            if rec is not None:
                records.add(c, frame_idx, rec, frame.hand_type)
    return records


def _dump_split(out_dir: str, split: str, captures: Dict,
                records: _SplitRecords) -> None:
    """Write the four annotation files of a split."""
    prefix = osp.join(out_dir, 'annotations', split,
                      f'InterHand2.6M_{split}')
    dump_json(
        dict(images=records.images, annotations=records.annotations),
        f'{prefix}_data.json')
    dump_json(_camera_json(captures), f'{prefix}_camera.json')
    dump_json(records.joint_json, f'{prefix}_joint_3d.json')
    dump_json(records.mano_json, f'{prefix}_MANO_NeuralAnnot.json')


def write_ih26m_split(gen: SyntheticHandGenerator, out_dir: str, split: str,
                      num_images: int, seed: int,
                      img_size: Tuple[int, int]) -> Dict[str, int]:
    """Render ``num_images`` images and write one InterHand2.6M split.

    Every image is its own frame (see the module docstring).

    Args:
        gen (SyntheticHandGenerator): the hand sampler and renderer.
        out_dir (str): dataset root.
        split (str): ``'train'`` or ``'test'`` (captures
            :data:`SPLIT_CAPTURES`).
        num_images (int): images to write.
        seed (int): the dataset seed (combined with the split).
        img_size (tuple): (W, H) in pixels.

    Returns:
        dict: counts per hand type and the number of frames.
    """
    rng = np.random.default_rng([seed, _SPLIT_SEED_OFFSET[split]])
    captures = {
        c: _make_capture_cameras(rng, c, img_size)
        for c in SPLIT_CAPTURES[split]
    }
    records = _render_split(gen, rng, captures, out_dir, split, num_images,
                            img_size)
    _dump_split(out_dir, split, captures, records)
    return dict(records.counts, frames=len(records.images))
