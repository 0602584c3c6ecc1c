# Copyright (c) interwild_mm contributors.
"""The inferencer's overlay: meshes in the real camera, boxes, skeletons.

Meshes are rasterised only inside the image region they cover, so a huge
image costs memory proportional to the hands, not the image. Hands without
a real-camera position (absent or degenerate) get no mesh; boxes and
skeletons are drawn where their values are finite.
"""
from typing import Any, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from interwild_mm.mano.constants import SH_SKELETON
from interwild_mm.visualization.renderer import render_hands
from .placement import MIN_DEPTH, project_perspective
from .postprocess import HANDS, is_placed

__all__ = ['BOX_COLORS', 'MESH_COLORS', 'draw_overlay']

#: overlay colours, BGR: right magenta boxes / red-ish mesh, left green.
BOX_COLORS = {'right': (255, 0, 255), 'left': (102, 255, 102)}
MESH_COLORS = {'right': (90, 90, 230), 'left': (110, 220, 110)}


def _scene_meshes(persons: Sequence[Dict[str, Any]],
                  faces: Dict[str, np.ndarray]
                  ) -> Tuple[List[np.ndarray], List[np.ndarray], List[Any]]:
    """Vertices (real camera), faces and colours of every placed hand."""
    meshes, mesh_faces, colors = [], [], []
    for person in persons:
        for side in HANDS:
            hand = person['hands'][side]
            if is_placed(hand):
                meshes.append(hand['vertices_rel'] + hand['wrist_cam_scene'])
                mesh_faces.append(faces[side])
                colors.append(MESH_COLORS[side])
    return meshes, mesh_faces, colors


def _covered_region(meshes: Sequence[np.ndarray], focal: np.ndarray,
                    princpt: np.ndarray, height: int,
                    width: int) -> Tuple[int, int, int, int]:
    """Pixel region ``(x0, y0, x1, y1)`` the meshes in front of the camera
    project into, clipped to the image (empty if none)."""
    uv = [
        project_perspective(m, focal, princpt) for m in meshes
        if np.all(m[:, 2] > MIN_DEPTH)
    ]
    uv = np.concatenate(uv) if uv else np.zeros((0, 2))
    uv = uv[np.all(np.isfinite(uv), axis=1)]
    if not len(uv):
        return 0, 0, 0, 0
    x0 = int(np.clip(np.floor(uv[:, 0].min()) - 1, 0, width))
    y0 = int(np.clip(np.floor(uv[:, 1].min()) - 1, 0, height))
    x1 = int(np.clip(np.ceil(uv[:, 0].max()) + 2, 0, width))
    y1 = int(np.clip(np.ceil(uv[:, 1].max()) + 2, 0, height))
    return x0, y0, x1, y1


def _draw_meshes(canvas: np.ndarray, persons: Sequence[Dict[str, Any]],
                 faces: Dict[str, np.ndarray], focal: np.ndarray,
                 princpt: np.ndarray) -> None:
    """Render the placed hands over ``canvas`` in place."""
    meshes, mesh_faces, colors = _scene_meshes(persons, faces)
    if not meshes:
        return
    h, w = canvas.shape[:2]
    x0, y0, x1, y1 = _covered_region(meshes, focal, princpt, h, w)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return
    cam = dict(type='perspective', focal=focal,
               princpt=np.asarray(princpt) - [x0, y0])
    sub = np.ascontiguousarray(canvas[y0:y1, x0:x1])
    out = render_hands(sub, meshes, mesh_faces, cam, colors=colors)
    canvas[y0:y1, x0:x1] = out.image


def _draw_hand_2d(canvas: np.ndarray, hand: Dict[str, Any], color: tuple,
                  thick: int) -> None:
    """Box and 21-joint skeleton of one present hand (if finite)."""
    box = np.asarray(hand['bbox_xyxy'], np.float64)
    if np.all(np.isfinite(box)):
        b = np.round(box).astype(int)
        cv2.rectangle(canvas, (b[0], b[1]), (b[2], b[3]), color, thick + 1)
    joints = np.asarray(hand.get('joints_2d', np.zeros((0, 2))), np.float64)
    if not len(joints) or not np.all(np.isfinite(joints)):
        return
    pts = np.round(joints).astype(int)
    for a, c in SH_SKELETON:
        cv2.line(canvas, tuple(pts[a]), tuple(pts[c]), color, thick,
                 cv2.LINE_AA)
    for p in pts:
        cv2.circle(canvas, tuple(p), thick + 1, (255, 255, 255), -1,
                   cv2.LINE_AA)


def draw_overlay(image: np.ndarray, persons: Sequence[Dict[str, Any]],
                 faces: Dict[str, np.ndarray], focal: np.ndarray,
                 princpt: np.ndarray) -> np.ndarray:
    """Overlay meshes (real camera), hand boxes and skeletons.

    Args:
        image (np.ndarray): ``(H, W, 3)`` BGR uint8 original image.
        persons (Sequence[dict]): person records of the image.
        faces (dict): ``right`` / ``left`` ``(F, 3)`` MANO faces.
        focal, princpt (np.ndarray): ``(2,)`` real intrinsics, original px.

    Returns:
        np.ndarray: ``(H, W, 3)`` BGR uint8 image, original resolution.
    """
    canvas = image.copy()
    _draw_meshes(canvas, persons, faces, focal, princpt)
    h, w = image.shape[:2]
    thick = max(1, int(round(max(h, w) / 500)))
    for person in persons:
        for side in HANDS:
            hand = person['hands'][side]
            if hand['present']:
                _draw_hand_2d(canvas, hand, BOX_COLORS[side], thick)
    return canvas
