# Copyright (c) interwild_mm contributors.
"""A synthetic HIC-format test split (``docs/official_conventions.md §3.4``).

HIC has one fixed camera whose frame is the world frame (metres), fixed
intrinsics (:data:`HIC_FOCAL`, :data:`HIC_PRINCPT`) and 640x480 images;
its ground truth is one MANO mesh per hand as a PLY file. The hands of each
image are sampled 0.45-0.85 m in front of the camera
(:meth:`SyntheticHandGenerator.sample_frame`) and written as
``HIC/data/<seq>/rgb/<i>.jpg``, ``<seq>/mask/<i>.png`` (visible hand per
pixel, for tests), ``<seq>/mano/<i>_<side>.ply`` and ``HIC/data/HIC.json``.
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from interwild_mm.visualization.mesh_io import save_ply
from .files import dump_json, write_jpg, write_mask
from .hand_generator import HAND_TYPES, HandFrame, SyntheticHandGenerator

__all__ = ['HIC_FOCAL', 'HIC_PRINCPT', 'HIC_IMG_SIZE', 'write_hic_split']

#: Fixed HIC intrinsics (pixels) and image size (W, H)
#: (docs/official_conventions.md §3.4).
HIC_FOCAL = (525.0, 525.0)
HIC_PRINCPT = (319.5, 239.5)
HIC_IMG_SIZE = (640, 480)
#: Second seed entry of the HIC split's random generator.
_HIC_SEED_OFFSET = 2000
#: Images per HIC sequence folder.
_IMAGES_PER_SEQ = 10


def _hic_camera() -> Dict[str, np.ndarray]:
    """The HIC camera: identity extrinsics, fixed intrinsics."""
    return dict(
        R=np.eye(3),
        campos=np.zeros(3),
        focal=np.array(HIC_FOCAL),
        princpt=np.array(HIC_PRINCPT))


def _draw_frame(gen: SyntheticHandGenerator,
                rng: np.random.Generator) -> HandFrame:
    """Hands around a random centre 0.45-0.85 m in front of the camera,
    within the field of view at that depth (camera frame, metres)."""
    depth = rng.uniform(0.45, 0.85)
    centre = np.array([
        rng.uniform(-0.12, 0.12) * depth / 0.6,
        rng.uniform(-0.08, 0.08) * depth / 0.6, depth
    ])
    return gen.sample_frame(rng, centre)


def _write_image(gen: SyntheticHandGenerator, data_dir: str, i: int,
                 frame: HandFrame, res: Dict) -> Dict:
    """Write image ``i`` (jpg, mask, one PLY per hand) and its records.

    Args:
        res (dict): :meth:`SyntheticHandGenerator.render` output.

    Returns:
        dict: the ``HIC.json`` records ``image`` and ``annotation``
        (``right_mano_path`` / ``left_mano_path`` relative to ``data_dir``,
        None for no hand).
    """
    w, h = HIC_IMG_SIZE
    seq = 1 + i // _IMAGES_PER_SEQ
    file_name = f'{seq:02d}/rgb/{i:06d}.jpg'
    write_jpg(osp.join(data_dir, file_name), res['image'])
    write_mask(
        osp.join(data_dir, f'{seq:02d}/mask/{i:06d}.png'), res['mesh_id'])
    paths: Dict[str, Optional[str]] = {}
    for side in ('right', 'left'):
        if frame.params[side] is None:
            paths[side] = None
            continue
        rel = f'{seq:02d}/mano/{i:06d}_{side}.ply'
        save_ply(
            osp.join(data_dir, rel), res['verts_cam'][side], gen.faces[side])
        paths[side] = rel
    image = dict(id=i, file_name=file_name, width=w, height=h)
    annotation = dict(
        id=i,
        image_id=i,
        hand_type=frame.hand_type,
        right_mano_path=paths['right'],
        left_mano_path=paths['left'])
    return dict(image=image, annotation=annotation)


def write_hic_split(gen: SyntheticHandGenerator, out_dir: str, num_images: int,
                    seed: int) -> Dict[str, int]:
    """Render ``num_images`` HIC-format images (camera frame = world).

    Frames with no joint inside the image are drawn again.

    Args:
        gen (SyntheticHandGenerator): the hand sampler and renderer.
        out_dir (str): dataset root (files go to ``out_dir/HIC/data``).
        num_images (int): images to write.
        seed (int): the dataset seed (combined with the split).

    Returns:
        dict: counts per hand type.

    Raises:
        RuntimeError: too many frames without a joint inside the image.
    """
    rng = np.random.default_rng([seed, _HIC_SEED_OFFSET])
    data_dir = osp.join(out_dir, 'HIC', 'data')
    cam = _hic_camera()
    images: List[Dict] = []
    annotations: List[Dict] = []
    counts = {t: 0 for t in HAND_TYPES}
    attempts = 0
    while len(images) < num_images:
        attempts += 1
        if attempts > 20 * num_images + 100:
            raise RuntimeError('could not place HIC hands inside the image')
        frame = _draw_frame(gen, rng)
        res = gen.render(rng, gen.place(frame, cam, world_in_mm=False), cam,
                         HIC_IMG_SIZE)
        if res['joint_valid'].sum() == 0:
            continue
        rec = _write_image(gen, data_dir, len(images), frame, res)
        images.append(rec['image'])
        annotations.append(rec['annotation'])
        counts[frame.hand_type] += 1
    dump_json(
        dict(images=images, annotations=annotations),
        osp.join(data_dir, 'HIC.json'))
    return counts
