# Copyright (c) interwild_mm contributors.
"""``InterWildVisualizer``: hand boxes, skeletons and meshes of InterWild.

Draws what ``InterWild.predict()`` stores in ``data_sample.pred_instances``
(names of the project's data-sample contract) over the ORIGINAL image:

* hand boxes ``rhand_bbox`` / ``lhand_bbox`` (xyxy, original px) - right
  magenta (255, 0, 255), left (102, 255, 102), thickness 3
  (docs/official_conventions.md §5);
* 21-joint skeletons ``rjoint_img`` / ``ljoint_img`` (original px) with the
  edges of ``interwild_mm.mano.constants.SH_SKELETON``;
* the MANO meshes, rasterised with :mod:`.renderer`, placed as in the
  official demo (docs/official_conventions.md §1.11 and §5, see
  :func:`demo_render_inputs`), unless
  explicit cameras/meshes are given.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from interwild_mm.evaluation.functional import box_iou_xyxy
from interwild_mm.geometry.camera import fit_ortho_camera
from interwild_mm.mano.constants import SH_SKELETON
from .renderer import render_hands

__all__ = [
    'InterWildVisualizer', 'demo_render_inputs', 'HAND_BOX_COLORS',
    'HAND_MESH_COLORS'
]

#: Box / skeleton colours (RGB; symmetric in R and B, so BGR is the same).
HAND_BOX_COLORS: Dict[str, Tuple[int, int, int]] = {
    'right': (255, 0, 255),
    'left': (102, 255, 102),
}
#: Mesh colours (RGB): right red-tinted, left green-tinted
#: (docs/official_conventions.md §5).
HAND_MESH_COLORS: Dict[str, Tuple[float, float, float]] = {
    'right': (230.0, 115.0, 115.0),
    'left': (115.0, 220.0, 115.0),
}
_SIDES = ('right', 'left')


def _get(pred: Any, key: str, index: int) -> np.ndarray:
    value = pred[key] if isinstance(pred, dict) else getattr(pred, key)
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    return value[index]


def _has(pred: Any, key: str) -> bool:
    return key in pred if isinstance(pred, dict) else hasattr(pred, key)


def demo_render_inputs(
    pred: Any,
    index: int = 0
) -> Tuple[List[str], List[np.ndarray], List[Dict[str, Any]]]:
    """Meshes and orthographic cameras of the official demo.

    See docs/official_conventions.md §1.11 and §5.

    Two-hand mode iff the predicted boxes overlap (IoU > 0; the test is
    invariant to the axis-aligned body-space -> image mapping): right mesh
    at ``rroot_cam``, left mesh at ``rroot_cam + rel_trans``, one camera fitted
    over the 42 joints. Otherwise each hand at its own ``<h>root_cam`` with
    its own camera. A camera is the per-axis orthographic fit
    ``u = s X + o`` of :func:`interwild_mm.geometry.camera.fit_ortho_camera`
    between the 3D joints and ``<h>joint_img``; fitting directly in
    original-image pixels equals mapping the official input-space fit with
    ``bb2img_trans`` (the fit commutes with axis-aligned affine maps).

    Args:
        pred (InstanceData | dict): ``rhand_bbox``, ``lhand_bbox`` (N, 4),
            ``rjoint_img``, ``ljoint_img`` (N, 21, 2+), ``rmano_mesh_cam``,
            ``lmano_mesh_cam`` (N, 778, 3), ``rmano_joint_cam``,
            ``lmano_joint_cam`` (N, 21, 3), ``rroot_cam``, ``lroot_cam``
            (N, 3), ``rel_trans`` (N, 3).
        index (int): instance index.

    Returns:
        tuple: sides (``'right'``/``'left'``), meshes ((778, 3) each,
        metres) and camera dicts (``type='orthographic'``), one per hand
        whose fit is finite.
    """
    two_hand = float(
        box_iou_xyxy(
            _get(pred, 'rhand_bbox', index), _get(pred, 'lhand_bbox',
                                                  index))) > 0
    rroot = _get(pred, 'rroot_cam', index)
    offsets = {
        'right':
        rroot,
        'left': (rroot + _get(pred, 'rel_trans', index)) if two_hand else _get(
            pred, 'lroot_cam', index)
    }
    joints3d, joints2d, meshes = {}, {}, {}
    for side in _SIDES:
        h = side[0]
        joints3d[side] = _get(pred, f'{h}mano_joint_cam', index) + \
            offsets[side]
        joints2d[side] = _get(pred, f'{h}joint_img', index)[:, :2]
        meshes[side] = _get(pred, f'{h}mano_mesh_cam', index) + offsets[side]

    def fit(x3d, x2d):
        focal, princpt = fit_ortho_camera(
            torch.from_numpy(x3d)[None],
            torch.from_numpy(x2d)[None])
        focal, princpt = focal[0].numpy(), princpt[0].numpy()
        if not (np.isfinite(focal).all() and np.isfinite(princpt).all()):
            return None
        return dict(type='orthographic', scale=focal, offset=princpt)

    if two_hand:
        cam = fit(
            np.concatenate([joints3d['right'], joints3d['left']]),
            np.concatenate([joints2d['right'], joints2d['left']]))
        cams = {s: cam for s in _SIDES}
    else:
        cams = {s: fit(joints3d[s], joints2d[s]) for s in _SIDES}
    sides = [s for s in _SIDES if cams[s] is not None]
    return sides, [meshes[s] for s in sides], [cams[s] for s in sides]


@VISUALIZERS.register_module()
class InterWildVisualizer(PoseLocalVisualizer):
    """Visualiser of InterWild predictions on the original image.

    Args:
        name (str): instance name (mmengine ``ManagerMixin``).
        mano_dir (str, optional): MANO folder used to get the right/left
            faces for mesh drawing (resolved like ``ManoLayer``); or call
            :meth:`set_mano_faces`. Only needed when meshes are drawn.
        mesh_alpha (float): opacity of the meshes. Defaults to 0.8.
        box_thickness (int): hand-box line thickness. Defaults to 3.
        **kwargs: :class:`mmpose.visualization.PoseLocalVisualizer`
            arguments (``name``, ``vis_backends``, ``save_dir``, ``radius``,
            ``line_width``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 mano_dir: Optional[str] = None,
                 mesh_alpha: float = 0.8,
                 box_thickness: int = 3,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.mano_dir = mano_dir
        self.mesh_alpha = mesh_alpha
        self.box_thickness = box_thickness
        self._faces: Optional[Dict[str, np.ndarray]] = None

    def set_mano_faces(self, right: Any, left: Any) -> None:
        """Set the (1538, 3) faces of the right and left MANO meshes."""
        self._faces = {
            'right': np.asarray(right, dtype=np.int64),
            'left': np.asarray(left, dtype=np.int64)
        }

    @property
    def mano_faces(self) -> Dict[str, np.ndarray]:
        """Right/left faces; loaded from ``mano_dir`` on first use."""
        if self._faces is None:
            from interwild_mm.mano import ManoLayer
            self._faces = {
                side: ManoLayer(self.mano_dir, side=side).faces.cpu().numpy()
                for side in _SIDES
            }
        return self._faces

    def draw_hand_boxes(self, image: np.ndarray,
                        boxes: Dict[str, np.ndarray]) -> np.ndarray:
        """Draw xyxy hand boxes (original px) on a copy of ``image``."""
        out = image.copy()
        for side, box in boxes.items():
            b = np.round(np.asarray(box, np.float64)).astype(int)
            cv2.rectangle(out, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])),
                          HAND_BOX_COLORS[side], self.box_thickness)
        return out

    def draw_hand_skeletons(self, image: np.ndarray,
                            joints: Dict[str, np.ndarray]) -> np.ndarray:
        """Draw 21-joint skeletons (original px) on a copy of ``image``."""
        out = image.copy()
        width = max(1, int(self.line_width))
        radius = max(1, int(self.radius))
        for side, pts in joints.items():
            p = np.round(np.asarray(pts, np.float64)[:, :2]).astype(int)
            for a, b in SH_SKELETON:
                cv2.line(out, (int(p[a, 0]), int(p[a, 1])),
                         (int(p[b, 0]), int(p[b, 1])), HAND_BOX_COLORS[side],
                         width, cv2.LINE_AA)
            for x, y in p:
                cv2.circle(out, (int(x), int(y)), radius, (255, 255, 255), -1,
                           cv2.LINE_AA)
        return out

    def draw_hand_meshes(self, image: np.ndarray, meshes: Sequence[np.ndarray],
                         cameras: Sequence[Dict[str, Any]],
                         sides: Sequence[str]) -> np.ndarray:
        """Render hand meshes (camera metres) over ``image`` (RGB)."""
        if not len(meshes):
            return image.copy()
        faces = [self.mano_faces[s] for s in sides]
        colors = [HAND_MESH_COLORS[s] for s in sides]
        return render_hands(
            image,
            list(meshes),
            faces,
            list(cameras),
            colors=colors,
            alpha=self.mesh_alpha).image

    def _draw_prediction(self, drawn: np.ndarray, pred: Any,
                         draw_mesh: bool, draw_bbox: bool,
                         draw_skeleton: bool,
                         cameras: Optional[Sequence[Dict[str, Any]]],
                         meshes: Optional[Sequence[np.ndarray]]
                         ) -> np.ndarray:
        """Meshes, hand boxes and skeletons of ``pred_instances``."""
        if draw_mesh:
            if cameras is None:
                sides, ms, cams = demo_render_inputs(pred)
            else:
                if meshes is None or len(meshes) != len(cameras):
                    raise ValueError(
                        'with cameras= give meshes= (camera-space, right '
                        'then left) with one camera per mesh')
                ms, cams = list(meshes), list(cameras)
                sides = list(_SIDES[:len(ms)])
            drawn = self.draw_hand_meshes(drawn, ms, cams, sides)
        if draw_bbox:
            drawn = self.draw_hand_boxes(
                drawn, {s: _get(pred, f'{s[0]}hand_bbox', 0) for s in _SIDES})
        if draw_skeleton:
            drawn = self.draw_hand_skeletons(
                drawn, {s: _get(pred, f'{s[0]}joint_img', 0) for s in _SIDES})
        return drawn

    @staticmethod
    def _draw_gt_boxes(drawn: np.ndarray, gt: Any) -> None:
        """Valid GT hand boxes (thickness 1) on ``drawn``, in place."""
        valid = _get(gt, 'gt_hand_bbox_valid', 0) if _has(
            gt, 'gt_hand_bbox_valid') else np.ones(2)
        for k, side in enumerate(_SIDES):
            key = f'gt_{side[0]}hand_bbox'
            if _has(gt, key) and valid[k] > 0:
                b = np.round(_get(gt, key, 0)).astype(int)
                cv2.rectangle(drawn, (int(b[0]), int(b[1])),
                              (int(b[2]), int(b[3])), HAND_BOX_COLORS[side],
                              1)

    def add_datasample(
            self,
            name: str,
            image: np.ndarray,
            data_sample: PoseDataSample,
            draw_gt: bool = False,
            draw_pred: bool = True,
            draw_heatmap: bool = False,
            draw_bbox: bool = True,
            show_kpt_idx: bool = False,
            skeleton_style: str = 'mmpose',
            show: bool = False,
            wait_time: float = 0,
            out_file: Optional[str] = None,
            kpt_thr: float = 0.3,
            step: int = 0,
            draw_skeleton: bool = True,
            draw_mesh: bool = True,
            cameras: Optional[Sequence[Dict[str, Any]]] = None,
            meshes: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """Draw one sample's prediction and show / save / log it.

        Args:
            name (str): image identifier (for the vis backends).
            image (np.ndarray): (H, W, 3) RGB uint8 original image.
            data_sample (PoseDataSample): sample with ``pred_instances``
                (and ``gt_instances`` for ``draw_gt``).
            draw_gt (bool): also draw GT hand boxes ``gt_rhand_bbox`` /
                ``gt_lhand_bbox`` (thickness 1) where valid.
            draw_pred (bool): draw the prediction.
            draw_bbox (bool): draw the hand boxes.
            draw_skeleton (bool): draw the 21-joint skeletons.
            draw_mesh (bool): render the meshes.
            cameras (Sequence[dict], optional): one camera per mesh in
                ``meshes`` (or per hand, right then left), original px; if
                None, the demo's orthographic fits
                (:func:`demo_render_inputs`).
            meshes (Sequence[np.ndarray], optional): camera-space meshes
                (metres, right then left), one per camera; required with
                ``cameras`` (the caller decides the placement).
            show, wait_time, out_file, step: as in mmpose.
            draw_heatmap, show_kpt_idx, skeleton_style, kpt_thr: accepted for
                interface compatibility, unused.

        Returns:
            np.ndarray: the drawn (H, W, 3) RGB image.
        """
        image = np.ascontiguousarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'image must be (H, W, 3) RGB, got {image.shape}')
        drawn = image.copy()
        if draw_pred and 'pred_instances' in data_sample:
            drawn = self._draw_prediction(drawn, data_sample.pred_instances,
                                          draw_mesh, draw_bbox,
                                          draw_skeleton, cameras, meshes)
        if draw_gt and 'gt_instances' in data_sample:
            self._draw_gt_boxes(drawn, data_sample.gt_instances)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
