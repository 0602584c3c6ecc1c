# Copyright (c) interwild_mm contributors.
"""HIC (Tzionas et al., IJCV 2016) test set for InterWild.

See docs/official_conventions.md §3.4.
"""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import exists
from mmpose.registry import DATASETS

from interwild_mm.geometry.bbox import (bbox_from_points, process_bbox,
                                        sanitize_bbox)
from interwild_mm.mano.constants import NUM_VERTS
from .base import (HAND_SIDES, InterWildDatasetMixin, empty_raw_sample,
                   load_annotation_file)

#: Fixed HIC intrinsics (docs/official_conventions.md §3.4).
HIC_FOCAL = (525.0, 525.0)
HIC_PRINCPT = (319.5, 239.5)


def load_ply_vertices(path: str) -> np.ndarray:
    """Vertices of a PLY mesh (read with trimesh, no processing).

    Args:
        path (str): PLY file.

    Returns:
        np.ndarray: (778, 3) float32 vertices (metres, camera frame).
    """
    import trimesh
    if not exists(path):
        raise FileNotFoundError(f'HIC mesh not found: "{path}" (paths in '
                                'HIC.json are relative to `data_root`).')
    mesh = trimesh.load(path, process=False, force='mesh')
    verts = np.asarray(mesh.vertices, dtype=np.float32)
    if verts.shape != (NUM_VERTS, 3):
        raise ValueError(f'HIC mesh {path} has {verts.shape[0]} vertices; a '
                         f'MANO mesh has {NUM_VERTS}.')
    return verts


@DATASETS.register_module()
class HICDataset(InterWildDatasetMixin, BaseDataset):
    """HIC read from ``HIC.json`` and the per-hand PLY meshes (test only).

    ``HIC.json`` (COCO style): ``images[]`` (``id``, ``file_name``,
    ``width``, ``height``) and ``annotations[]`` (``image_id``,
    ``hand_type``, ``right_mano_path``, ``left_mano_path``: PLY files
    relative to ``data_root`` = ``data/HIC/data``, or null).

    Raw sample (see :mod:`interwild_mm.datasets.datasets.base`): body box =
    whole image (extension 1.0); ``mesh_cam`` = the GT meshes (metres,
    camera frame), ``mesh_valid`` per hand; hand boxes = projected GT mesh
    (focal (525, 525), principal point (319.5, 239.5)) ×1.2, sanitised; no
    joint annotation (``joint_valid`` = 0); ``is_3D`` = 1.

    Args:
        ann_file (str): ``HIC.json``.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """

    DATASET_NAME = 'hic'

    def get_data_info(self, idx: int) -> dict:
        return self._add_metainfo_to(super().get_data_info(idx))

    def load_data_list(self) -> List[dict]:
        db = load_annotation_file(self.ann_file, 'HIC.json')
        images = {img['id']: img for img in db['images']}
        root = self.data_root or osp.dirname(self.ann_file)
        data_list = []
        for ann in db['annotations']:
            info = self._parse(ann, images[ann['image_id']], root)
            if info is not None:
                data_list.append(info)
        return data_list

    def _parse(self, ann: dict, img: dict, root: str) -> Optional[dict]:
        img_w, img_h = int(img['width']), int(img['height'])
        sample = empty_raw_sample()
        focal = np.array(HIC_FOCAL, np.float32)
        princpt = np.array(HIC_PRINCPT, np.float32)
        for h, side in enumerate(HAND_SIDES):
            rel = ann.get(f'{side}_mano_path')
            if rel is None:
                continue
            verts = load_ply_vertices(osp.join(root, rel))
            if not self._check_finite({f'{side} mesh': verts},
                                      f'HIC annotation {ann.get("id")}'):
                return None
            sample['mesh_cam'][h] = verts
            sample['mesh_valid'][h] = 1
            uv = verts[:, :2] / verts[:, 2:] * focal + princpt
            box = sanitize_bbox(
                bbox_from_points(uv, extension=1.2), img_w, img_h)
            if box is not None:
                sample['hand_bbox'][h] = [
                    box[0], box[1], box[0] + box[2], box[1] + box[3]
                ]
                sample['hand_bbox_valid'][h] = 1
        if sample['mesh_valid'].sum() == 0:
            return None
        body_bbox = process_bbox([0, 0, img_w, img_h], img_w, img_h, 1.0)
        sample.update(
            img_path=osp.join(self.data_prefix.get('img', ''),
                              img['file_name']),
            img_id=int(img['id']),
            id=int(ann.get('id', img['id'])),
            ann_img_shape=(img_h, img_w),
            body_bbox=body_bbox,
            hand_type=str(ann['hand_type']),
            is_3D=1.0,
            cam_focal=focal,
            cam_princpt=princpt)
        return sample
