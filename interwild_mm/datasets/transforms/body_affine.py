# Copyright (c) interwild_mm contributors.
"""Body-patch warp with 2D/3D augmentation.

See docs/official_conventions.md §3.1.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from interwild_mm.geometry.patch import (apply_affine, generate_patch_image,
                                         patch_camera, rotation_z)

#: mirror matrix of the camera frame (x <- -x)
MIRROR_X = np.diag([-1.0, 1.0, 1.0])


@TRANSFORMS.register_module()
class InterWildBodyAffine(BaseTransform):
    """Warp the body box into the network patch and move every annotation.

    Applies the parameters of :class:`InterWildRandomAugment` (identity when
    absent: scale 1, rotation 0, no flip, no colour change):

    * image: mirrored if flipped, warped to ``input_size`` (W, H) =
      (384, 512) with :func:`generate_patch_image`, multiplied by the colour
      factors, clipped to [0, 255], kept ``uint8``; BGR -> RGB if ``to_rgb``;
    * 2D joints: mirrored ``x <- W-1-x``, left/right swapped via
      ``flip_indices``, then through ``img2bb_trans`` (patch pixels);
    * 3D joints / GT meshes: ``X <- Rz(-rot) · M · X`` with ``M`` the mirror
      ``diag(-1, 1, 1)`` when flipped (hands swapped);
    * hand boxes: mirrored and swapped in the original image
      (``hand_bbox``), and their 4 corners through the affine, axis-aligned
      (``hand_bbox_patch``);
    * camera: ``cam_focal``/``cam_princpt`` become the patch camera
      (:func:`patch_camera`), so projecting the augmented ``joint_cam`` with
      them gives the augmented 2D joints;
    * ``hand_type`` left/right swapped when flipped.

    MANO fits are left untouched here (``mano_params`` stay in their own
    frame); :class:`InterWildGenerateTarget` places them in the official step
    order (``docs/official_conventions.md §3.1``): flip and extrinsics in
    3D, projection with the original camera, then ``img2bb_trans``.

    Required Keys:
        - img, img_shape, body_bbox, joint_img, joint_cam, joint_valid,
          hand_bbox, hand_bbox_valid, hand_type, cam_focal, cam_princpt,
          mesh_cam, mesh_valid, flip_indices
        - joint_valid_eval (optional), aug_scale, aug_rot, aug_color, flip
          (optional)

    Modified Keys:
        - img, img_shape, joint_img, joint_cam, joint_valid,
          joint_valid_eval, hand_bbox, hand_bbox_valid, hand_type,
          cam_focal, cam_princpt, mesh_cam, mesh_valid

    Added Keys:
        - input_size, img2bb_trans, bb2img_trans, hand_bbox_patch,
          aug_rot_mat (3, 3), ori_img_w, flip, flip_direction, aug_scale,
          aug_rot

    Args:
        input_size (Sequence[int]): patch size (W, H). Defaults to (384, 512).
        to_rgb (bool): convert the BGR image of ``LoadImage`` to RGB.
            Defaults to True.
    """

    def __init__(self,
                 input_size: Sequence[int] = (384, 512),
                 to_rgb: bool = True) -> None:
        if len(input_size) != 2:
            raise ValueError(f'input_size must be (W, H), got {input_size}.')
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.to_rgb = to_rgb

    def transform(self, results: Dict) -> Optional[Dict]:
        img = results.get('img')
        if img is None:
            raise KeyError(
                f'{self.__class__.__name__} needs results["img"]; put '
                "dict(type='LoadImage') before it in the pipeline.")
        img_h, img_w = img.shape[:2]
        ann_shape = results.get('ann_img_shape')
        if ann_shape is not None and tuple(ann_shape) != (img_h, img_w):
            raise ValueError(
                f'Image {results.get("img_path")} is {img_w}x{img_h} but the '
                f'annotation says {ann_shape[1]}x{ann_shape[0]}; wrong image '
                'file or annotation.')
        scale = float(results.get('aug_scale', 1.0))
        rot = float(results.get('aug_rot', 0.0))
        do_flip = bool(results.get('flip', False))
        color = results.get('aug_color')

        patch, img2bb, bb2img = generate_patch_image(img, results['body_bbox'],
                                                     scale, rot, do_flip,
                                                     self.input_size)
        if self.to_rgb and patch.ndim == 3:
            patch = patch[..., ::-1]
        if color is not None:
            patch = np.clip(patch.astype(np.float32) * color[None, None],
                            0, 255)
            patch = np.round(patch)
        results['img'] = np.ascontiguousarray(patch.astype(np.uint8))
        results['img_shape'] = patch.shape[:2]
        results['input_size'] = self.input_size
        results['img2bb_trans'] = img2bb
        results['bb2img_trans'] = bb2img
        results['ori_img_w'] = img_w
        results['aug_scale'] = scale
        results['aug_rot'] = rot
        results['flip'] = do_flip
        results['flip_direction'] = 'horizontal' if do_flip else None

        if do_flip:
            self.flip_annotations(results, img_w)
        rot_mat = rotation_z(-rot) @ (MIRROR_X if do_flip else np.eye(3))
        results['aug_rot_mat'] = rot_mat.astype(np.float32)
        rz = rotation_z(-rot)

        # 2D joints: original px -> patch px; 3D: rotate about the camera z
        results['joint_img'] = apply_affine(results['joint_img'],
                                            img2bb).astype(np.float32)
        results['joint_cam'] = (np.asarray(results['joint_cam'], np.float64)
                                @ rz.T).astype(np.float32)
        results['mesh_cam'] = (np.asarray(results['mesh_cam'], np.float64)
                               @ rz.T).astype(np.float32)

        # hand boxes: 4 corners through the affine, axis-aligned
        boxes = np.asarray(results['hand_bbox'], np.float64)
        box_valid = np.asarray(results['hand_bbox_valid'], np.float32)
        corners = np.stack([
            boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [0, 3]],
            boxes[:, [2, 3]]
        ], axis=1)  # (2, 4, 2)
        corners = apply_affine(corners, img2bb)
        patch_boxes = np.concatenate(
            [corners.min(axis=1), corners.max(axis=1)], axis=-1)
        patch_boxes[box_valid == 0] = 0.0
        results['hand_bbox_patch'] = patch_boxes.astype(np.float32)

        focal, princpt = patch_camera(results['cam_focal'],
                                      results['cam_princpt'], img_w, do_flip,
                                      img2bb)
        results['cam_focal'] = focal
        results['cam_princpt'] = princpt
        return results

    @staticmethod
    def flip_annotations(results: Dict, img_w: int) -> Dict:
        """Mirror every annotation in the original image frame, in place.

        2D ``x <- W-1-x``; 3D ``X <- -X``; left/right swapped (joints via
        ``flip_indices``, per-hand arrays reversed, ``hand_type``). Applying
        it twice is the identity. ``mano_params`` are not touched (they are
        mirrored with the other hand's model by the target generation).

        Args:
            results (dict): sample with ``joint_img``, ``joint_cam``,
                ``joint_valid`` (and optionally ``joint_valid_eval``),
                ``hand_bbox``, ``hand_bbox_valid``, ``mesh_cam``,
                ``mesh_valid``, ``hand_type``, ``flip_indices``.
            img_w (int): original image width.

        Returns:
            dict: ``results``.
        """
        flip_idx = np.asarray(results['flip_indices'])
        joint_img = np.asarray(results['joint_img'], np.float64).copy()
        joint_img[:, 0] = img_w - 1 - joint_img[:, 0]
        results['joint_img'] = joint_img[flip_idx].astype(np.float32)
        for key in ('joint_valid', 'joint_valid_eval'):
            if key in results:
                results[key] = np.asarray(results[key],
                                          np.float32)[flip_idx].copy()
        joint_cam = np.asarray(results['joint_cam'], np.float64) @ MIRROR_X
        results['joint_cam'] = joint_cam[flip_idx].astype(np.float32)
        mesh = np.asarray(results['mesh_cam'], np.float64) @ MIRROR_X
        results['mesh_cam'] = mesh[::-1].astype(np.float32).copy()
        results['mesh_valid'] = np.asarray(results['mesh_valid'],
                                           np.float32)[::-1].copy()
        boxes = np.asarray(results['hand_bbox'], np.float64).copy()
        valid = np.asarray(results['hand_bbox_valid'], np.float32)
        x1 = img_w - 1 - boxes[:, 2]
        x2 = img_w - 1 - boxes[:, 0]
        boxes[:, 0], boxes[:, 2] = x1, x2
        boxes[valid == 0] = 0.0
        results['hand_bbox'] = boxes[::-1].astype(np.float32).copy()
        results['hand_bbox_valid'] = valid[::-1].copy()
        results['hand_type'] = {
            'right': 'left',
            'left': 'right'
        }.get(results['hand_type'], results['hand_type'])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'to_rgb={self.to_rgb})')
