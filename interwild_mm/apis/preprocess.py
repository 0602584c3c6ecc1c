# Copyright (c) interwild_mm contributors.
"""Body box, network input patch and batches of the inferencer.

Per person (``docs/official_conventions.md`` §5): the person box goes
through ``process_bbox`` (aspect of the network input, extension 1.25), the
patch is cut with ``generate_patch_image``, converted to RGB in [0, 1], and
``bb2img_trans`` (patch -> original px) is kept for the outputs.

``body_box_mode='official_int'`` (default) truncates the box to integers
exactly like the official demo (:func:`official_int_box`);
``'float'`` keeps the float box and, for images whose box is more than 2x
larger than the patch, first shrinks the image with area averaging (less
aliasing, bounded time and memory for e.g. 6000x4000 photos); the shrink is
folded into ``bb2img_trans`` so every output stays in original pixels.
"""
import math
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from interwild_mm.geometry.bbox import process_bbox, sanitize_bbox
from interwild_mm.geometry.patch import generate_patch_image

__all__ = [
    'BODY_BOX_MODES', 'official_int_box', 'body_box', 'make_patch',
    'iter_batches'
]

#: body-box handling of :func:`make_patch`.
BODY_BOX_MODES = ('official_int', 'float')
#: body boxes are enlarged by this factor (official demo).
BODY_BOX_EXTENSION = 1.25
#: float mode shrinks the image first when the box is this many times larger
#: than the patch.
MAX_DOWNSCALE = 2.0


def official_int_box(box_xyxy: Sequence[float], img_w: int, img_h: int,
                     extend: float = BODY_BOX_EXTENSION,
                     aspect: float = 384 / 512) -> Optional[np.ndarray]:
    """The official demo's body box, integer truncation included.

    The official demo hands Python ints to ``sanitize_bbox``, which then
    returns an int64 array, and ``process_bbox`` writes its float results
    into that array (C truncation toward zero) in this order
    (``docs/official_conventions.md`` §5): ``w, h`` first, then
    ``x = trunc(cx - w_int / 2)``, ``y = trunc(cy - h_int / 2)`` with the
    centre ``cx = x0 + w0 / 2`` of the sanitised box. Reproduced here in
    float64 from the integer box (a float box rebuilt from the processed
    float32 box can land on the other side of an integer).

    Args:
        box_xyxy: person box; each coordinate is truncated toward zero
            first (the official demo passes integers).
        img_w (int): image width.
        img_h (int): image height.
        extend (float): size multiplier (1.25 in the demo).
        aspect (float): target ``w/h`` of the network input (384/512).

    Returns:
        np.ndarray | None: ``(4,)`` float32 xywh box holding integers, or
        None if sanitising rejects the box.
    """
    x1, y1, x2, y2 = (int(v) for v in box_xyxy)
    box = sanitize_bbox([x1, y1, x2 - x1, y2 - y1], img_w, img_h)
    if box is None:
        return None
    x, y, w, h = (int(v) for v in box)
    cx, cy = x + w / 2., y + h / 2.
    wf, hf = float(w), float(h)
    if wf > aspect * hf:
        hf = wf / aspect
    elif wf < aspect * hf:
        wf = hf * aspect
    wi, hi = math.trunc(wf * extend), math.trunc(hf * extend)
    return np.array([math.trunc(cx - wi / 2.), math.trunc(cy - hi / 2.), wi,
                     hi], dtype=np.float32)


def body_box(box_xyxy: Sequence[float], img_w: int, img_h: int, mode: str,
             input_size_wh: Tuple[int, int]) -> Optional[np.ndarray]:
    """The processed ``(4,)`` float64 xywh body box, or None if rejected.

    Args:
        box_xyxy: person box in original px.
        img_w, img_h (int): image size.
        mode (str): one of :data:`BODY_BOX_MODES`.
        input_size_wh (tuple): network input ``(W, H)``.
    """
    x1, y1, x2, y2 = [float(v) for v in box_xyxy]
    aspect = input_size_wh[0] / input_size_wh[1]
    if mode == 'official_int':
        box = official_int_box([x1, y1, x2, y2], img_w, img_h,
                               aspect=aspect)
    else:
        box = process_bbox([x1, y1, x2 - x1, y2 - y1], img_w, img_h,
                           extend=BODY_BOX_EXTENSION, aspect=aspect)
    return None if box is None else np.asarray(box, dtype=np.float64)


def _shrunk_source(img: np.ndarray, box: np.ndarray,
                   input_size_wh: Tuple[int, int]
                   ) -> Tuple[np.ndarray, np.ndarray, float, float]:
    """Area-averaged copy of a huge image and the box in its pixels.

    Returns:
        tuple: image, box, and the x / y scale back to the original.
    """
    h, w = img.shape[:2]
    shrink = min(box[2] / input_size_wh[0], box[3] / input_size_wh[1])
    new_w = max(2, int(round(w / shrink)))
    new_h = max(2, int(round(h / shrink)))
    small = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
    sx, sy = w / new_w, h / new_h
    # pixel centres: x_small = (x + 0.5) / sx - 0.5
    small_box = np.array([(box[0] + 0.5) / sx - 0.5,
                          (box[1] + 0.5) / sy - 0.5, box[2] / sx,
                          box[3] / sy])
    return small, small_box, sx, sy


def make_patch(img: np.ndarray, box_xyxy: np.ndarray, mode: str,
               input_size_wh: Tuple[int, int]
               ) -> Optional[Dict[str, np.ndarray]]:
    """Cut the network input of one person (``docs/official_conventions.md``
    §5).

    Args:
        img (np.ndarray): ``(H, W, 3)`` BGR uint8 original image.
        box_xyxy (np.ndarray): person box in original px.
        mode (str): one of :data:`BODY_BOX_MODES`.
        input_size_wh (tuple): network input ``(W, H)``, (384, 512).

    Returns:
        dict | None: ``patch`` (3, H, W) float32 RGB in [0, 1],
        ``bb2img_trans`` / ``img2bb_trans`` (2, 3) float64 (patch <->
        ORIGINAL px), ``body_bbox_xywh`` (4,) the processed box; None if
        the box is degenerate.
    """
    if mode not in BODY_BOX_MODES:
        raise ValueError(f'body_box_mode must be one of {BODY_BOX_MODES}, '
                         f'got {mode!r}.')
    h, w = img.shape[:2]
    box = body_box(box_xyxy, w, h, mode, input_size_wh)
    if box is None:
        return None
    src, src_box, sx, sy = img, box, 1.0, 1.0
    shrink = min(box[2] / input_size_wh[0], box[3] / input_size_wh[1])
    if shrink > MAX_DOWNSCALE and mode == 'float':
        src, src_box, sx, sy = _shrunk_source(img, box, input_size_wh)
    patch, _, bb2img = generate_patch_image(src, src_box, 1.0, 0.0, False,
                                            tuple(input_size_wh))
    up = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5],
                   [0.0, 0.0, 1.0]])
    bb2img = (up @ np.vstack([bb2img, [0, 0, 1]]))[:2]
    img2bb = np.linalg.inv(np.vstack([bb2img, [0, 0, 1]]))[:2]
    patch = np.ascontiguousarray(
        patch[..., ::-1].transpose(2, 0, 1)).astype(np.float32) / 255.0
    return dict(
        patch=patch,
        bb2img_trans=bb2img.astype(np.float64),
        img2bb_trans=img2bb.astype(np.float64),
        body_bbox_xywh=box)


def _data_sample(entry: Dict[str, Any], img_shape: Tuple[int, int],
                 input_size_wh: Tuple[int, int]):
    """The ``PoseDataSample`` (metainfo only) of one person's patch."""
    from mmpose.structures import PoseDataSample
    return PoseDataSample(metainfo=dict(
        bb2img_trans=entry['bb2img_trans'].astype(np.float32),
        img2bb_trans=entry['img2bb_trans'].astype(np.float32),
        ori_shape=img_shape,
        img_shape=(input_size_wh[1], input_size_wh[0]),
        input_size=tuple(input_size_wh)))


def iter_batches(images: Sequence[np.ndarray],
                 persons: Sequence[List[Dict[str, Any]]], batch_size: int,
                 input_size_wh: Tuple[int, int]
                 ) -> Iterator[Tuple[torch.Tensor, list, list]]:
    """Batch the patches of all persons of all images.

    Args:
        images (Sequence[np.ndarray]): the original images.
        persons (Sequence[list[dict]]): per image, the person dicts holding
            their patch (:func:`make_patch` keys plus the person box).
        batch_size (int): patches per batch.
        input_size_wh (tuple): network input ``(W, H)``.

    Yields:
        tuple: ``inputs (B, 3, H, W)`` float32, the ``PoseDataSample`` list
        and ``owners``: per patch ``(image index, person dict)``.
    """
    entries = [(i, p) for i, plist in enumerate(persons) for p in plist]
    step = max(1, batch_size)
    for start in range(0, len(entries), step):
        chunk = entries[start:start + step]
        batch = torch.from_numpy(np.stack([p['patch'] for _, p in chunk]))
        samples = [
            _data_sample(p, images[i].shape[:2], input_size_wh)
            for i, p in chunk
        ]
        yield batch, samples, chunk
