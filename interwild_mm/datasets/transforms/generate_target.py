# Copyright (c) interwild_mm contributors.
"""InterWild training targets (``docs/official_conventions.md §2, §3``)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from interwild_mm.geometry.sizes import InterWildSizes, SizesLike
from interwild_mm.mano.constants import NUM_SH_JOINTS, NUM_TH_JOINTS, NUM_VERTS
from .mano_data import get_mano_data

_SIDES = ('right', 'left')


@TRANSFORMS.register_module()
class InterWildGenerateTarget(BaseTransform):
    """Encode the augmented annotations into the InterWild targets.

    Grid: the body grid of the model's sizes (``body_grid_dhw``, 8×64×48
    as D×H×W). ``x / W_in · 48``, ``y / H_in · 64``; depth bin
    ``(z_rel / (bbox_3d_size/2) + 1) / 2 · D`` with ``z_rel`` the depth
    minus the same hand's wrist depth (metres). Truncation = validity ×
    inside ``[0,48)×[0,64)×[0,8)``.

    Targets (numpy, float32; names of the data-sample contract):

    * ``joint_img`` (42, 3), ``joint_trunc`` (42, 1), ``joint_valid``
      (42, 1), ``joint_cam`` (42, 3) metres, wrist-relative per hand; the
      validity is the raw sample's ``joint_valid`` (for InterHand2.6M the
      joint_3d flags, ``docs/official_conventions.md §3.2``),
    * ``rel_trans`` (3,) = left wrist − right wrist (metres, augmented
      camera frame), ``rel_trans_valid`` (1,) = both wrists valid × is_3D,
    * ``{r,l}hand_bbox_center``/``_size`` (2,) and ``_valid`` (1,): the
      patch hand boxes in 48×64 units; missing → box [0, 0, 1, 1], valid 0,
    * MANO (from the pseudo-GT fits, :func:`get_mano_data`, official step
      order): ``mano_joint_img`` (42, 3), ``mano_joint_trunc`` (42, 1),
      ``mano_joint_cam`` (42, 3), ``mano_mesh_cam`` (1556, 3)
      wrist-relative, ``mano_mesh_valid`` (1556, 1), ``mano_pose`` (96,)
      [r root, r hand, l root, l hand], ``mano_pose_valid`` (32,),
      ``mano_shape`` (20,), ``mano_shape_valid`` (20,),
    * ``is_3D`` (1,).

    Evaluation GT (absolute, augmented camera frame):

    * ``gt_joint_cam`` (42, 3): camera coordinates of every joint that
      either flag set marks valid (zeros elsewhere and for 2D datasets),
    * ``gt_joint_valid`` (42,): the raw ``joint_valid_eval`` flags × is_3D
      (InterHand2.6M: the data.json flags, what the official evaluation
      scores),
    * ``gt_joint_valid_3d`` (42,): the raw ``joint_valid`` flags × is_3D
      (InterHand2.6M: the joint_3d flags),
    * ``gt_mesh_cam`` (1556, 3) (dataset meshes if any, else the placed
      MANO fits), ``gt_mesh_valid`` (2,),
    * ``gt_rhand_bbox``/``gt_lhand_bbox`` (4,) xyxy original pixels,
      ``gt_hand_bbox_valid`` (2,).

    Required Keys:
        - joint_img, joint_cam, joint_valid, hand_bbox, hand_bbox_valid,
          hand_bbox_patch, is_3D, mano_params, mesh_cam, mesh_valid,
          aug_rot, flip, ori_img_w, img2bb_trans
        - joint_valid_eval (optional; defaults to joint_valid)

    Added Keys:
        - the targets and evaluation GT listed above, ``target_keys`` and
          ``gt_keys`` (the names PackInterWildInputs packs)

    Args:
        mano_model_dir (str, optional): MANO folder for the pseudo-GT meshes
            (resolved by :func:`interwild_mm.mano.io.resolve_mano_dir`); only
            needed when a sample has a MANO fit.
        sizes (InterWildSizes | dict, optional): the model's sizes; the
            patch is ``input_hw`` ``(H, W)``, the grid ``body_grid_dhw``
            ``(D, H, W)`` (the model's axis order). Defaults to the official
            sizes.
        bbox_3d_size (float): depth range in metres mapped onto the D bins.
            Defaults to 0.3.
        input_size, heatmap_size: no longer accepted (they were ``(W, H)``
            and ``(W, H, D)``); a clear error points to ``sizes``.
    """

    TARGET_KEYS = ('joint_img', 'joint_trunc', 'joint_valid', 'joint_cam',
                   'mano_joint_img', 'mano_joint_trunc', 'mano_joint_cam',
                   'mano_mesh_cam', 'mano_mesh_valid', 'mano_pose',
                   'mano_pose_valid', 'mano_shape', 'mano_shape_valid',
                   'rel_trans', 'rel_trans_valid', 'rhand_bbox_center',
                   'lhand_bbox_center', 'rhand_bbox_size', 'lhand_bbox_size',
                   'rhand_bbox_valid', 'lhand_bbox_valid', 'is_3D')
    GT_KEYS = ('gt_joint_cam', 'gt_joint_valid', 'gt_joint_valid_3d',
               'gt_mesh_cam', 'gt_mesh_valid', 'gt_rhand_bbox',
               'gt_lhand_bbox', 'gt_hand_bbox_valid')

    def __init__(self,
                 mano_model_dir: Optional[str] = None,
                 sizes: SizesLike = None,
                 bbox_3d_size: float = 0.3,
                 input_size: Optional[Sequence[int]] = None,
                 heatmap_size: Optional[Sequence[int]] = None) -> None:
        if input_size is not None or heatmap_size is not None:
            raise ValueError(
                'InterWildGenerateTarget: input_size (W, H) and heatmap_size '
                '(W, H, D) were replaced by sizes=dict(input_hw=(H, W), '
                'body_grid_dhw=(D, H, W)), the axis order of the model.')
        self.mano_model_dir = mano_model_dir
        self.sizes = InterWildSizes.build(sizes)
        self.bbox_3d_size = float(bbox_3d_size)
        self._layers = None

    # ------------------------------------------------------------------
    def _mano_layers(self) -> Dict:
        if self._layers is None:
            from interwild_mm.mano.layer import ManoLayer
            self._layers = {
                s: ManoLayer(self.mano_model_dir, side=s).eval()
                for s in _SIDES
            }
        return self._layers

    def _to_grid(self, xy: np.ndarray, z_rel: np.ndarray) -> np.ndarray:
        xy = self.sizes.input_to_body_grid(xy[:, :2])
        z = (z_rel / (self.bbox_3d_size / 2) + 1) / 2 * \
            self.sizes.body_grid_dhw[0]
        return np.concatenate([xy, z[:, None]], axis=-1)

    def _inside(self, grid: np.ndarray) -> np.ndarray:
        return self.sizes.inside_body_grid(grid).astype(np.float32)

    @staticmethod
    def _wrist_relative(x: np.ndarray) -> np.ndarray:
        out = x.copy()
        for h in range(2):
            sl = slice(h * NUM_SH_JOINTS, (h + 1) * NUM_SH_JOINTS)
            out[sl] = x[sl] - x[h * NUM_SH_JOINTS]
        return out

    # ------------------------------------------------------------------
    def _joint_targets(self, results: Dict) -> Dict[str, np.ndarray]:
        """2.5D / 3D joint targets and ``rel_trans`` (training flags)."""
        is_3d = float(results['is_3D'])
        valid = np.asarray(results['joint_valid'], np.float32).reshape(-1)
        joint_cam = np.asarray(results['joint_cam'], np.float64)
        joint_rel = self._wrist_relative(joint_cam)
        joint_rel[valid == 0] = 0.0
        grid = self._to_grid(
            np.asarray(results['joint_img'], np.float64), joint_rel[:, 2])
        grid[valid == 0] = 0.0
        rw, lw = 0, NUM_SH_JOINTS
        rel_valid = valid[rw] * valid[lw] * is_3d
        return dict(
            joint_img=grid,
            joint_trunc=(valid * self._inside(grid))[:, None],
            joint_valid=valid[:, None],
            joint_cam=joint_rel * is_3d,
            is_3D=np.array([is_3d]),
            rel_trans=(joint_cam[lw] - joint_cam[rw]) * rel_valid,
            rel_trans_valid=np.array([rel_valid]))

    def _bbox_targets(self, results: Dict) -> Dict[str, np.ndarray]:
        """Patch hand boxes on the body grid (dummy box when missing)."""
        boxes = np.asarray(results['hand_bbox_patch'], np.float64)
        boxes = self.sizes.input_to_body_grid(boxes.reshape(-1, 2,
                                                            2)).reshape(-1, 4)
        box_valid = np.asarray(results['hand_bbox_valid'], np.float32)
        t = {}
        for h, p in enumerate(('rhand', 'lhand')):
            box = boxes[h] if box_valid[h] else np.array([0., 0., 1., 1.])
            t[f'{p}_bbox_center'] = (box[:2] + box[2:]) / 2
            t[f'{p}_bbox_size'] = box[2:] - box[:2]
            t[f'{p}_bbox_valid'] = np.array([box_valid[h]])
        return t

    def _mano_targets(self, results: Dict) -> Dict[str, np.ndarray]:
        """MANO pseudo-GT of both hands; ``mesh_abs`` for the eval GT."""
        t = dict(
            mano_joint_img=np.zeros((NUM_TH_JOINTS, 3)),
            mano_joint_trunc=np.zeros((NUM_TH_JOINTS, 1)),
            mano_joint_cam=np.zeros((NUM_TH_JOINTS, 3)),
            mano_mesh_cam=np.zeros((2 * NUM_VERTS, 3)),
            mano_mesh_valid=np.zeros((2 * NUM_VERTS, 1)),
            mano_pose=np.zeros(96),
            mano_pose_valid=np.zeros(32),
            mano_shape=np.zeros(20),
            mano_shape_valid=np.zeros(20),
            mesh_abs=np.zeros((2 * NUM_VERTS, 3)),
            hand_valid=np.zeros(2))
        do_flip = bool(results.get('flip', False))
        fits = results.get('mano_params') or [None, None]
        for src_h, fit in enumerate(fits):
            if fit is None:
                continue
            h = 1 - src_h if do_flip else src_h
            out = get_mano_data(fit, self._mano_layers(), _SIDES[src_h],
                                do_flip, float(results.get('aug_rot', 0.0)),
                                int(results['ori_img_w']),
                                results['img2bb_trans'])
            js = slice(h * NUM_SH_JOINTS, (h + 1) * NUM_SH_JOINTS)
            vs = slice(h * NUM_VERTS, (h + 1) * NUM_VERTS)
            wrist = out['joints'][0]
            jrel = out['joints'] - wrist
            grid = self._to_grid(out['joints_2d'], jrel[:, 2])
            t['mano_joint_img'][js] = grid
            t['mano_joint_trunc'][js, 0] = self._inside(grid)
            t['mano_joint_cam'][js] = jrel
            t['mano_mesh_cam'][vs] = out['mesh'] - wrist
            t['mano_mesh_valid'][vs] = 1
            t['mano_pose'][h * 48:(h + 1) * 48] = out['pose']
            t['mano_pose_valid'][h * 16:(h + 1) * 16] = 1
            t['mano_shape'][h * 10:(h + 1) * 10] = out['shape']
            t['mano_shape_valid'][h * 10:(h + 1) * 10] = 1
            t['mesh_abs'][vs] = out['mesh']
            t['hand_valid'][h] = 1
        return t

    @staticmethod
    def _eval_gt(results: Dict, mesh_abs: np.ndarray,
                 mano_hand_valid: np.ndarray) -> Dict[str, np.ndarray]:
        """Evaluation ground truth (absolute, augmented camera frame)."""
        is_3d = float(results['is_3D'])
        valid_3d = np.asarray(results['joint_valid'], np.float32).reshape(-1)
        valid_eval = np.asarray(
            results.get('joint_valid_eval', valid_3d),
            np.float32).reshape(-1)
        either = np.maximum(valid_3d, valid_eval)
        joint_cam = np.asarray(results['joint_cam'], np.float32)
        mesh_valid = np.asarray(results['mesh_valid'], np.float32)
        if mesh_valid.any():
            gt_mesh = np.asarray(results['mesh_cam'],
                                 np.float32).reshape(2 * NUM_VERTS, 3)
            gt_mesh_valid = mesh_valid
        else:
            gt_mesh = mesh_abs.astype(np.float32)
            gt_mesh_valid = mano_hand_valid.astype(np.float32)
        hand_bbox = np.asarray(results['hand_bbox'], np.float32)
        return dict(
            gt_joint_cam=joint_cam * (either[:, None] * is_3d),
            gt_joint_valid=valid_eval * is_3d,
            gt_joint_valid_3d=valid_3d * is_3d,
            gt_mesh_cam=gt_mesh,
            gt_mesh_valid=gt_mesh_valid,
            gt_rhand_bbox=hand_bbox[0].copy(),
            gt_lhand_bbox=hand_bbox[1].copy(),
            gt_hand_bbox_valid=np.asarray(results['hand_bbox_valid'],
                                          np.float32).copy())

    def transform(self, results: Dict) -> Optional[Dict]:
        """Add the targets and the evaluation GT (see the class doc)."""
        t = self._joint_targets(results)
        t.update(self._bbox_targets(results))
        mano = self._mano_targets(results)
        mesh_abs, hand_valid = mano.pop('mesh_abs'), mano.pop('hand_valid')
        t.update(mano)
        # the GT reads the raw (absolute) joints: before they are replaced
        t.update(self._eval_gt(results, mesh_abs, hand_valid))
        for k, v in t.items():
            results[k] = np.asarray(v, dtype=np.float32)
        results['target_keys'] = self.TARGET_KEYS
        results['gt_keys'] = self.GT_KEYS
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'mano_model_dir={self.mano_model_dir!r}, '
                f'sizes={self.sizes}, '
                f'bbox_3d_size={self.bbox_3d_size})')
