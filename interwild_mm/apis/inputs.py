# Copyright (c) interwild_mm contributors.
"""Input discovery, image loading and output-file bookkeeping for inference.

Accepted inputs (:func:`collect_inputs`):

* an image path (extensions :data:`IMAGE_EXTENSIONS`, case-insensitive);
* a folder: its image files (not recursive, sorted by name; other files are
  ignored; an empty folder is an error);
* a video path (:data:`VIDEO_EXTENSIONS`), streamed frame by frame;
* a numpy array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``,
  BGR channel order like OpenCV (pass ``rgb=True`` for RGB arrays), ``uint8``
  (``uint16`` is scaled by 1/257, floats are read as 0-255 and clipped);
* a list / tuple of any of the above.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'IMAGE_EXTENSIONS', 'VIDEO_EXTENSIONS', 'InputItem', 'InputError',
    'collect_inputs', 'read_image', 'to_bgr_uint8', 'iter_video_frames',
    'video_info',
    'InferenceSummary'
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg')


class InputError(ValueError):
    """An input that cannot be processed (unreadable, empty, wrong type)."""


@dataclass
class InputItem:
    """One unit of work: an image file, an in-memory array or a video.

    Attributes:
        kind (str): ``'image'``, ``'array'`` or ``'video'``.
        source (str | np.ndarray): path or array.
        name (str): output file stem (unique among the collected items).
    """
    kind: str
    source: Any
    name: str


def _kind_of_path(path: str) -> Optional[str]:
    ext = osp.splitext(path)[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return 'image'
    if ext in VIDEO_EXTENSIONS:
        return 'video'
    return None


def collect_inputs(inputs: Union[str, np.ndarray, Sequence[Any]]
                   ) -> List[InputItem]:
    """Expand the user's inputs into a list of :class:`InputItem`.

    Output names are the file stems; when two inputs share a stem (``a.jpg``
    and ``a.png``) the extension is appended (``a_jpg``, ``a_png``); arrays
    are named ``array_<index>``.

    Raises:
        InputError: for a missing path, an empty folder, a file with an
            unsupported extension or an object of an unsupported type.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise InputError('inputs must be a path, a numpy image or a list of '
                         f'them, got {type(inputs).__name__}.')
    items: List[Tuple[str, Any, str]] = []  # kind, source, base name
    for idx, inp in enumerate(inputs):
        if isinstance(inp, np.ndarray):
            items.append(('array', inp, f'array_{idx:03d}'))
            continue
        if not isinstance(inp, (str, os.PathLike)):
            raise InputError(f'input #{idx} has unsupported type '
                             f'{type(inp).__name__}; give a path or a numpy '
                             'array.')
        path = os.fspath(inp)
        if osp.isdir(path):
            names = sorted(n for n in os.listdir(path)
                           if _kind_of_path(n) == 'image'
                           and osp.isfile(osp.join(path, n)))
            if not names:
                raise InputError(
                    f'folder {path!r} contains no image files (looked for '
                    f'{", ".join(IMAGE_EXTENSIONS)}).')
            items += [('image', osp.join(path, n), n) for n in names]
        elif osp.isfile(path):
            kind = _kind_of_path(path)
            if kind is None:
                raise InputError(
                    f'{path!r} is neither an image '
                    f'({", ".join(IMAGE_EXTENSIONS)}) nor a video '
                    f'({", ".join(VIDEO_EXTENSIONS)}).')
            items.append((kind, path, osp.basename(path)))
        else:
            raise InputError(f'input path {path!r} does not exist.')
    stems = [osp.splitext(n)[0] if k != 'array' else n for k, _, n in items]
    out = []
    for (kind, src, base), stem in zip(items, stems):
        name = stem
        if kind != 'array' and stems.count(stem) > 1:
            name = stem + '_' + osp.splitext(base)[1].lstrip('.').lower()
        out.append(InputItem(kind, src, name))
    names = [it.name for it in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f'several inputs would write outputs named {dup}; '
                         'run them separately or rename the files.')
    return out


def to_bgr_uint8(img: np.ndarray, rgb: bool = False) -> np.ndarray:
    """Normalise an image array to contiguous ``(H, W, 3)`` BGR ``uint8``.

    Grayscale is replicated to 3 channels; an alpha channel is dropped (the
    colour channels are used as they are).

    Args:
        img (np.ndarray): ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or
            ``(H, W, 4)`` array.
        rgb (bool): the array is RGB(A) instead of BGR(A). Defaults to False.

    Raises:
        InputError: for other shapes, empty images or non-numeric dtypes.
    """
    if not isinstance(img, np.ndarray):
        raise InputError(f'expected a numpy image, got {type(img).__name__}.')
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3,
                                                                       4)):
        raise InputError('image array must be (H, W), (H, W, 1), (H, W, 3) '
                         f'or (H, W, 4), got shape {img.shape}.')
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise InputError(f'image is too small: {img.shape[:2]} (H, W).')
    if img.dtype == np.uint8:
        pass
    elif img.dtype == np.uint16:
        img = (img.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif np.issubdtype(img.dtype, np.floating) or np.issubdtype(
            img.dtype, np.integer):
        img = np.clip(np.nan_to_num(img.astype(np.float32)), 0,
                      255).round().astype(np.uint8)
    else:
        raise InputError(f'unsupported image dtype {img.dtype}.')
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    img = img[..., :3]
    if rgb:
        img = img[..., ::-1]
    return np.ascontiguousarray(img)


def read_image(path: str) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` BGR ``uint8``.

    EXIF orientation is ignored (like the official InterWild loader), 16-bit
    images are scaled to 8 bits, grayscale is replicated, alpha dropped.

    Raises:
        InputError: if the file is missing, empty, corrupt or not an image.
    """
    if not osp.isfile(path):
        raise InputError(f'image file {path!r} does not exist.')
    if osp.getsize(path) == 0:
        raise InputError(f'image file {path!r} is empty (0 bytes).')
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InputError(f'cannot decode {path!r}: the file is corrupt or not '
                         'an image format OpenCV can read.')
    return to_bgr_uint8(img)


def iter_video_frames(path: str) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(frame_index, BGR uint8 frame)`` one at a time.

    Raises:
        InputError: if OpenCV cannot open the video or it has no frame.
    """
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise InputError(f'cannot open video {path!r} (corrupt file or codec '
                         'not supported by this OpenCV build).')
    idx = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield idx, to_bgr_uint8(frame)
            idx += 1
    finally:
        cap.release()
    if idx == 0:
        raise InputError(f'video {path!r} has no readable frame.')


def video_info(path: str) -> Tuple[float, int, int, int]:
    """``(fps, frame_count, width, height)`` of a video (fps 30 if unknown)."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise InputError(f'cannot open video {path!r} (corrupt file or codec '
                         'not supported by this OpenCV build).')
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    return (fps if fps and fps > 0 and np.isfinite(fps) else 30.0), count, w, h


@dataclass
class InferenceSummary:
    """Processed and failed inputs of one inferencer call.

    Attributes:
        ok (list[str]): inputs processed.
        failed (list[tuple]): ``(input, reason)`` of the inputs (or video
            frames) that were skipped.
        degenerate (list[tuple]): ``(input, which hand: reason)`` of the
            hands that could not be placed in the real camera.
    """
    ok: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    degenerate: List[Tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        head = f'{len(self.ok)} ok, {len(self.failed)} failed'
        if self.degenerate:
            head += (f', {len(self.degenerate)} hand(s) with a degenerate '
                     'placement')
        lines = [head]
        lines += [f'  failed: {src}: {why}' for src, why in self.failed]
        lines += [f'  degenerate placement: {src}: {why}'
                  for src, why in self.degenerate]
        return '\n'.join(lines)
