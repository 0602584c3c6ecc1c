# Copyright (c) interwild_mm contributors.
"""From ``pred_instances`` to the inferencer's person records.

Per person: each hand's prediction is read (:func:`hand_from_pred`), hands
below the score threshold are reported absent, video frames are smoothed
(:func:`smooth_hands`), present hands are placed in the real camera
(:func:`interwild_mm.apis.placement.place_hand`) and, in two-hand mode, the
rigid pair is fitted over all 42 joints (:func:`person_record`).

A hand whose placement is degenerate (zero-size box, joints behind a
camera, NaN / inf values) stays in the record with ``placement:
'degenerate'`` and the reason in ``placement_error``; it has no real-camera
position, so no mesh file and no mesh in the overlay.
"""
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch

from interwild_mm.evaluation.functional import box_iou_xyxy
from .placement import (PlacementError, check_in_front, fit_translation,
                        place_hand, project_perspective)

__all__ = [
    'HANDS', 'PREFIX', 'TWO_HAND_MODES', 'PLACEMENTS', 'pred_to_numpy',
    'hand_from_pred', 'person_record', 'smooth_hands', 'is_placed'
]

HANDS = ('right', 'left')
PREFIX = {'right': 'r', 'left': 'l'}
TWO_HAND_MODES = ('auto', 'always', 'never')
PLACEMENTS = ('fit', 'scale')
#: fields of a present hand that an absent hand does not report.
_PREDICTED_FIELDS = ('joints_2d', 'mano', 'root_cam_virtual', 'vertices_rel',
                     'joints_cam_rel')
#: per-hand values the video smoother filters directly.
_SMOOTHED_FIELDS = ('root_cam_virtual', 'bbox_xyxy', 'joints_2d')

ManoForward = Callable[[str, Dict[str, np.ndarray]],
                       Tuple[np.ndarray, np.ndarray]]


def pred_to_numpy(data_sample: Any) -> Dict[str, np.ndarray]:
    """``pred_instances`` of one person as numpy arrays (instance dim
    dropped)."""
    pred = data_sample.pred_instances
    out = {}
    for key in pred.keys():
        value = pred.get(key)
        if isinstance(value, torch.Tensor):
            value = value.detach().float().cpu().numpy()
        value = np.asarray(value)
        out[key] = value[0] if value.ndim and value.shape[0] == 1 else value
    return out


def hand_from_pred(pred: Dict[str, np.ndarray], side: str,
                   score_thr: float) -> Dict[str, Any]:
    """One hand's fields from the prediction (float64, original px,
    metres)."""
    p = PREFIX[side]
    score = float(np.asarray(pred[f'{p}hand_bbox_score']).reshape(-1)[0])
    verts = np.asarray(pred[f'{p}mano_mesh_cam'], np.float64)
    joints = np.asarray(pred[f'{p}mano_joint_cam'], np.float64)
    return dict(
        present=bool(score >= score_thr),
        bbox_xyxy=np.asarray(pred[f'{p}hand_bbox'], np.float64).reshape(4),
        bbox_score=score,
        joints_2d=np.asarray(pred[f'{p}joint_img'], np.float64)[:, :2],
        mano=dict(
            global_orient=np.asarray(pred[f'{p}mano_root_pose'],
                                     np.float64).reshape(3),
            hand_pose=np.asarray(pred[f'{p}mano_hand_pose'],
                                 np.float64).reshape(45),
            betas=np.asarray(pred[f'{p}mano_shape'],
                             np.float64).reshape(10)),
        root_cam_virtual=np.asarray(pred[f'{p}root_cam'],
                                    np.float64).reshape(3),
        vertices_rel=verts - joints[:1],
        joints_cam_rel=joints - joints[:1])


def is_placed(hand: Dict[str, Any]) -> bool:
    """The hand is present and has a real-camera position."""
    return bool(hand['present']) and 'wrist_cam_scene' in hand


def _place(hand: Dict[str, Any], bb2img: np.ndarray, focal: np.ndarray,
           princpt: np.ndarray, method: str) -> None:
    """Add ``virtual_camera``, ``targets_2d`` and ``wrist_cam``, or mark
    the hand degenerate."""
    try:
        hand.update(place_hand(hand['bbox_xyxy'], hand['root_cam_virtual'],
                               hand['joints_cam_rel'], bb2img, focal,
                               princpt, method))
    except PlacementError as err:
        hand['placement'] = 'degenerate'
        hand['placement_error'] = str(err)


def _two_hand_translation(hands: Dict[str, Dict[str, Any]],
                          rel_trans: np.ndarray, focal: np.ndarray,
                          princpt: np.ndarray,
                          method: str) -> Optional[np.ndarray]:
    """Right-wrist translation of the rigid pair, or None if degenerate."""
    r, l = hands['right'], hands['left']
    pts = np.concatenate(
        [r['joints_cam_rel'], l['joints_cam_rel'] + rel_trans])
    if method == 'fit':
        t = fit_translation(pts, np.concatenate(
            [r['targets_2d'], l['targets_2d']]), focal, princpt,
                            init=r['wrist_cam'])
    else:
        t = r['wrist_cam']
    try:
        check_in_front(pts + t, 'a joint of the two-hand pair')
    except PlacementError:
        return None
    return t


def _wants_two_hand(hands: Dict[str, Dict[str, Any]],
                    mode: str) -> bool:
    both = all(h['present'] and 'wrist_cam' in h for h in hands.values())
    if not both or mode == 'never':
        return False
    overlap = box_iou_xyxy(hands['right']['bbox_xyxy'],
                           hands['left']['bbox_xyxy']) > 0
    return mode == 'always' or bool(overlap)


def _finish_hand(hand: Dict[str, Any], focal: np.ndarray,
                 princpt: np.ndarray) -> None:
    """Drop the fields of absent hands; add the scene position and the
    reprojection error of placed ones."""
    if not hand['present']:
        for key in _PREDICTED_FIELDS:
            hand.pop(key, None)
        return
    if 'wrist_cam' not in hand:  # degenerate
        return
    hand.setdefault('wrist_cam_scene', hand['wrist_cam'])
    placed = hand['joints_cam_rel'] + hand['wrist_cam_scene']
    err = np.linalg.norm(
        project_perspective(placed, focal, princpt) - hand['targets_2d'],
        axis=-1)
    hand['reprojection_error_px'] = float(err.mean())


def person_record(pred: Dict[str, np.ndarray],
                  person: Dict[str, Any],
                  focal: np.ndarray,
                  princpt: np.ndarray,
                  score_thr: float,
                  method: str = 'fit',
                  two_hand_mode: str = 'auto',
                  smooth: Optional[Callable] = None) -> Dict[str, Any]:
    """Turn one person's prediction into its output record.

    Args:
        pred (dict): :func:`pred_to_numpy` of the person's data sample.
        person (dict): ``body_bbox_xyxy``, ``body_bbox_score``,
            ``body_bbox_xywh`` and ``bb2img_trans`` of the person.
        focal, princpt (np.ndarray): ``(2,)`` real intrinsics, original px.
        score_thr (float): hand-box confidence threshold.
        method (str): one of :data:`PLACEMENTS`.
        two_hand_mode (str): one of :data:`TWO_HAND_MODES`.
        smooth (callable, optional): ``smooth(hands, rel_trans) ->
            rel_trans`` applied before the placement (videos).

    Returns:
        dict: the person record (see ``CONVENTIONS``).
    """
    bb2img = person['bb2img_trans']
    hands = {s: hand_from_pred(pred, s, score_thr) for s in HANDS}
    rel_trans = np.asarray(pred['rel_trans'], np.float64).reshape(3)
    if smooth is not None:
        rel_trans = smooth(hands, rel_trans)
    for side in HANDS:
        if hands[side]['present']:
            _place(hands[side], bb2img, focal, princpt, method)
    two_hand = False
    if _wants_two_hand(hands, two_hand_mode):
        t = _two_hand_translation(hands, rel_trans, focal, princpt, method)
        if t is not None:
            two_hand = True
            hands['right']['wrist_cam_scene'] = t
            hands['left']['wrist_cam_scene'] = t + rel_trans
    for side in HANDS:
        _finish_hand(hands[side], focal, princpt)
    return dict(
        body_bbox_xyxy=np.asarray(person['body_bbox_xyxy'], np.float64),
        body_bbox_score=person['body_bbox_score'],
        patch_bbox_xywh=person['body_bbox_xywh'],
        bb2img_trans=bb2img,
        rel_trans=rel_trans,
        two_hand_mode=bool(two_hand),
        hands=hands)


def _smoothable(hand: Dict[str, Any]) -> bool:
    """Present with finite values (NaN would stay in a filter's state)."""
    if not hand['present']:
        return False
    arrays = [hand[k] for k in _SMOOTHED_FIELDS] + list(hand['mano'].values())
    return all(np.all(np.isfinite(a)) for a in arrays)


def smooth_hands(smoother: Callable, t: Optional[float],
                 hands: Dict[str, Dict[str, Any]], rel_trans: np.ndarray,
                 mano_forward: ManoForward) -> np.ndarray:
    """Smooth a person's hands in place (video mode).

    Args:
        smoother (callable): a :class:`ManoOneEuroSmoother` of this person.
        t (float, optional): timestamp in seconds.
        hands (dict): right / left hands of :func:`hand_from_pred`.
        rel_trans (np.ndarray): ``(3,)`` TransNet output.
        mano_forward (callable): ``(side, mano) -> (vertices_rel,
            joints_rel)`` used to rebuild the smoothed meshes.

    Returns:
        np.ndarray: the smoothed ``rel_trans`` (as given if not both hands
        can be smoothed).
    """
    ok = {side: _smoothable(hands[side]) for side in HANDS}
    values: Dict[str, Optional[np.ndarray]] = {}
    for side in HANDS:
        h = hands[side]
        mano = h['mano']
        values[f'{side}.root_pose'] = mano['global_orient'] if ok[side] \
            else None
        values[f'{side}.hand_pose'] = mano['hand_pose'] if ok[side] else None
        values[f'{side}.betas'] = mano['betas'] if ok[side] else None
        for key in _SMOOTHED_FIELDS:
            values[f'{side}.{key}'] = h[key] if ok[side] else None
    both = all(ok.values()) and bool(np.all(np.isfinite(rel_trans)))
    values['rel_trans'] = rel_trans if both else None
    out = smoother(values, t)
    for side in HANDS:
        if not ok[side]:
            continue
        h = hands[side]
        h['mano'] = dict(global_orient=out[f'{side}.root_pose'],
                         hand_pose=out[f'{side}.hand_pose'],
                         betas=out[f'{side}.betas'])
        for key in _SMOOTHED_FIELDS:
            h[key] = out[f'{side}.{key}']
        h['vertices_rel'], h['joints_cam_rel'] = mano_forward(side, h['mano'])
    return out['rel_trans'] if both else rel_trans
