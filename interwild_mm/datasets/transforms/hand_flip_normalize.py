# Copyright (c) interwild_mm contributors.
"""Flip-normalisation of single-hand crops for SHNet.

``docs/official_conventions.md §1.5, §1.8``.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from interwild_mm.geometry.rotation import mirror_axis_angle


def _is_left(hand_type) -> bool:
    """Interpret ``'left'``/``'right'`` or a one-hot ``[right, left]``."""
    if isinstance(hand_type, bytes):
        hand_type = hand_type.decode()
    if isinstance(hand_type, str):
        if hand_type in ('left', 'right'):
            return hand_type == 'left'
    else:
        arr = np.asarray(hand_type, dtype=np.float64).reshape(-1)
        if arr.size == 2 and sorted(arr.tolist()) == [0.0, 1.0]:
            return bool(arr[1] > 0.5)
    raise ValueError(
        f'HandFlipNormalize needs a single-hand sample: hand_type must be '
        f"'left'/'right' or a one-hot [right, left], got {hand_type!r}. "
        'Split interacting samples into one crop per hand first.')


@TRANSFORMS.register_module()
class HandFlipNormalize(BaseTransform):
    """Mirror left-hand crops so every crop looks like a right hand.

    SHNet is trained on right-hand-looking crops (InterWild mirrors the left
    crop horizontally). Apply this transform **after** the crop transform
    (e.g. ``TopdownAffine``) on single-hand samples. For a left hand:

    * ``img`` (H, W, C) is flipped horizontally;
    * 2D keypoints (crop pixels, pixel centres at integers) get
      ``x ← W - 1 - x``;
    * MANO axis-angles (root and hand pose, any ``(..., 3k)`` layout) get
      ``(a_x, a_y, a_z) ← (a_x, -a_y, -a_z)``;
    * 3D points (root translation, camera joints, mesh) get ``x ← -x``.

    Right hands are left unchanged. ``flip_normalized`` (bool) is recorded;
    add it to ``PackPoseInputs(meta_keys=...)`` so ``SHNetHead.predict`` can
    un-mirror the prediction.

    Required Keys:
        - img
        - hand_type (or ``hand_type_key``)

    Modified Keys:
        - img
        - keys in ``keypoint_keys``, ``pose_keys``, ``point3d_keys``
          (those present)

    Added Keys:
        - flip_normalized

    Args:
        keypoint_keys (Sequence[str]): 2D crop-pixel keypoints ``(..., K,
            >=2)``. Defaults to ``('transformed_keypoints',)``.
        pose_keys (Sequence[str]): MANO axis-angle arrays. Defaults to
            ``('mano_pose',)``.
        point3d_keys (Sequence[str]): 3D points/translations ``(..., 3)``,
            metres. Defaults to ``('root_cam', 'joint_cam',
            'mano_mesh_cam')``.
        hand_type_key (str): key holding the handedness. Defaults to
            ``'hand_type'``.
        default_hand_type (str, optional): handedness assumed when a sample
            has none (``'right'``: the crop is used as it is). mmpose's
            inference APIs give only an image and a box. Defaults to None
            (a sample without handedness is an error).
    """

    def __init__(self,
                 keypoint_keys: Sequence[str] = ('transformed_keypoints', ),
                 pose_keys: Sequence[str] = ('mano_pose', ),
                 point3d_keys: Sequence[str] = ('root_cam', 'joint_cam',
                                                'mano_mesh_cam'),
                 hand_type_key: str = 'hand_type',
                 default_hand_type: Optional[str] = None) -> None:
        super().__init__()
        if default_hand_type is not None:
            _is_left(default_hand_type)  # validates
        self.default_hand_type = default_hand_type
        self.keypoint_keys = tuple(keypoint_keys)
        self.pose_keys = tuple(pose_keys)
        self.point3d_keys = tuple(point3d_keys)
        self.hand_type_key = hand_type_key

    def transform(self, results: Dict) -> Optional[Dict]:
        """Flip-normalise one sample (see the class docstring)."""
        hand_type = results.get(self.hand_type_key, self.default_hand_type)
        if hand_type is None:
            raise KeyError(f'HandFlipNormalize: "{self.hand_type_key}" is '
                           'missing; the dataset must give the handedness.')
        left = _is_left(hand_type)
        results['flip_normalized'] = left
        if not left:
            return results

        if 'img' in results:
            img = results['img']
            width = img.shape[1]
            results['img'] = np.ascontiguousarray(img[:, ::-1])
        elif 'input_size' in results:
            width = int(results['input_size'][0])
        else:
            raise KeyError('HandFlipNormalize: neither "img" nor '
                           '"input_size" is present to get the crop width.')

        for key in self.keypoint_keys:
            if results.get(key) is not None and np.ndim(results[key]) > 0:
                kpt = np.array(results[key], copy=True)
                kpt[..., 0] = width - 1 - kpt[..., 0]
                results[key] = kpt
        for key in self.pose_keys:
            if results.get(key) is not None:
                pose = np.asarray(results[key])
                if pose.shape[-1] % 3 != 0:
                    raise ValueError(
                        f'HandFlipNormalize: "{key}" must hold axis-angle '
                        f'triples (last dim divisible by 3), got {pose.shape}.'
                    )
                results[key] = mirror_axis_angle(pose.reshape(
                    -1, 3)).reshape(pose.shape)
        for key in self.point3d_keys:
            if results.get(key) is not None:
                pts = np.array(results[key], copy=True)
                if pts.shape[-1] != 3:
                    raise ValueError(f'HandFlipNormalize: "{key}" must be '
                                     f'(..., 3), got {pts.shape}.')
                pts[..., 0] = -pts[..., 0]
                results[key] = pts
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keypoint_keys='
                f'{self.keypoint_keys}, pose_keys={self.pose_keys}, '
                f'point3d_keys={self.point3d_keys}, '
                f'hand_type_key={self.hand_type_key!r}, '
                f'default_hand_type={self.default_hand_type!r})')
