# Copyright (c) interwild_mm contributors.
"""High-level InterWild inference on images, folders, arrays and videos.

Example::

    >>> from interwild_mm.apis import InterWildInferencer
    >>> inferencer = InterWildInferencer(
    ...     'configs/interwild_ih26m_coco.py', 'interwild_converted.pth')
    >>> for result in inferencer('demo/images', out_dir='outputs'):
    ...     print(result['name'], len(result['persons']))
    >>> print(inferencer.summary)  # "N ok, M failed" + reasons

Pipeline per image (spec section 5, with the differences listed below):

1. Persons: boxes from an optional mmdet detector (``det_config`` /
   ``det_checkpoint``, class ``det_cat_id``, score > ``bbox_thr``), else the
   whole image ``[0, 0, W, H]`` is one person.
2. Body box: ``process_bbox`` (aspect 384/512, extension 1.25). By default
   (``body_box_mode='official_int'``) the box is truncated to integers
   exactly like the official demo (``docs/official_conventions.md`` §5: the
   person box to ints, then ``w, h`` truncated, ``x = trunc(cx - w/2)``,
   ``y = trunc(cy - h/2)``; a 384x512 image gives ``[-48, -63, 479, 638]``).
   ``body_box_mode='float'`` keeps the float box (``[-48.03125, -63.875,
   479.0625, 638.75]`` for that image).
3. Patch: ``generate_patch_image`` to 384x512, RGB, /255; ``bb2img_trans``
   (patch -> original px) in the metainfo. In ``'float'`` mode only, images
   whose body box is more than 2x larger than the patch are first shrunk
   with area averaging (less aliasing, bounded time/memory for e.g.
   6000x4000 photos); the shrink is folded into ``bb2img_trans`` so every
   output stays in original pixels. The official mode warps the original
   image directly, as the official demo does.
4. ``InterWild.predict`` (``pred_instances`` contract of the project brief),
   by default with the *exact* inference speed-ups (``speed='exact'``: the
   factorised TransNet first convolution, backbone micro-batches,
   ``torch.inference_mode``; outputs within 1e-6 m / 1e-4 px of the plain
   model); ``speed='approximate'`` adds BatchNorm folding and channels-last
   weights (faster, changes the float rounding), ``speed='none'`` runs the
   plain model. See :mod:`interwild_mm.models.utils.inference_opt`.
5. A hand whose box confidence (DetectNet softmax value at the predicted
   centre, see ``hand_score_thr``) is below ``hand_score_thr`` is reported
   ``present: false`` without MANO/mesh.
6. Placement in the real camera of the original image (given ``focal`` /
   ``princpt``, else ``f = sqrt(W^2 + H^2)``, centre principal point); see
   :mod:`interwild_mm.apis.placement` for the derivation.
7. Outputs in ``out_dir``: ``<name>.json``, ``<name>_p<k>_{right,left,hands}
   .obj`` (real-camera metres), ``<name>_overlay.png`` (meshes, boxes,
   skeleton at the original resolution); videos: ``<name>_overlay.mp4`` and
   ``<name>.jsonl`` (one JSON object per frame). Existing files are never
   overwritten unless ``overwrite=True``.
"""
import copy
import glob
import json
import math
import os
import os.path as osp
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

from interwild_mm.geometry.bbox import process_bbox, sanitize_bbox
from interwild_mm.geometry.patch import generate_patch_image
from interwild_mm.mano.constants import SH_JOINT_NAMES, SH_SKELETON
from interwild_mm.models.utils.inference_opt import (SPEED_MODES,
                                                     inference_context,
                                                     optimize_for_inference)
from .inputs import (InferenceSummary, InputError, InputItem, collect_inputs,
                     iter_video_frames, read_image, to_bgr_uint8, video_info)
from .one_euro import ManoOneEuroSmoother
from .placement import (crop_camera_in_image, crop_to_image_affine,
                        default_intrinsics, fit_translation,
                        hand_crop_box_in_patch, place_root_scale,
                        project_perspective)

try:
    from mmpose.registry import INFERENCERS
except Exception:  # pragma: no cover - mmpose missing
    INFERENCERS = None

__all__ = ['InterWildInferencer', 'CONVENTIONS']

INPUT_SIZE_WH = (384, 512)
#: body-box handling (see :class:`InterWildInferencer`)
BODY_BOX_MODES = ('official_int', 'float')
HANDS = ('right', 'left')
PREFIX = {'right': 'r', 'left': 'l'}
#: overlay colours, BGR: right magenta boxes / red-ish mesh, left green.
BOX_COLORS = {'right': (255, 0, 255), 'left': (102, 255, 102)}
MESH_COLORS = {'right': (90, 90, 230), 'left': (110, 220, 110)}

CONVENTIONS = {
    'frame': ('Real camera of the ORIGINAL image: x right, y down, z '
              'forward, metres. Pixels are original-image pixels with pixel '
              'centres at integer coordinates.'),
    'camera': ('Pinhole u = fx*X/Z + cx, v = fy*Y/Z + cy with "focal" and '
               '"princpt"; without user intrinsics f = sqrt(W^2+H^2) and the '
               'principal point is ((W-1)/2, (H-1)/2).'),
    'mano': ('Axis-angle in radians: global_orient (3) and hand_pose (45 = '
             '15 joints in MANO J_regressor order 1..15), use_pca=False, '
             'flat_hand_mean=False, i.e. hand_pose is RELATIVE TO the MANO '
             'mean pose (hands_mean); betas (10). Left hands use MANO_LEFT '
             'with the shapedirs x-fix. MANO transl is not used: meshes are '
             'placed by their regressed wrist.'),
    'joints': ('21 joints per hand, order: ' + ', '.join(SH_JOINT_NAMES) +
               ' (fingertips = MANO vertices 745, 317, 445, 556, 673).'),
    'joints_2d': ('PositionNet joints (x, y) in original-image pixels.'),
    'joints_cam_rel/vertices_rel': ('Wrist-relative (wrist = joint 0 = '
                                    'origin), metres, camera axes.'),
    'root_cam_virtual': ('Wrist in the hand crop\'s virtual camera (focal '
                         '5000, principal point (128, 128) on the 256x256 '
                         'crop); virtual_camera = that camera in original '
                         'pixels.'),
    'wrist_cam': ('Wrist in the real camera from this hand alone '
                  '(translation fitted so the joints project onto their '
                  'virtual-camera projections).'),
    'wrist_cam_scene': ('Wrist in the real camera in the person\'s scene: '
                        'in two-hand mode both hands are one rigid body '
                        '(left wrist = right wrist + rel_trans) fitted over '
                        'all 42 joints; otherwise equal to wrist_cam. The '
                        '*.obj files and the overlay use these positions.'),
    'rel_trans': 'Left wrist minus right wrist (TransNet), metres.',
    'bbox_score': ('DetectNet confidence: the softmax probability of the '
                   'centre heatmap (64x48 cells) sampled at the predicted '
                   'centre; 1/3072 ~ 3e-4 for a flat map, up to 1 for a peak '
                   'in one cell. present = bbox_score >= hand_score_thr.'),
    'two_hand_mode': ('Both hands present and their boxes overlap (IoU > '
                      '0), as in the official demo.'),
}


def _iou_xyxy(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) *
             (b[3] - b[1]) - inter)
    return float(inter / union) if union > 0 else 0.0


def _to_jsonable(obj: Any, ndigits: int = 6) -> Any:
    if isinstance(obj, dict):
        return {k: _to_jsonable(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v, ndigits) for v in obj]
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if np.issubdtype(obj.dtype, np.floating):
            return np.round(obj.astype(np.float64), ndigits).tolist()
        return obj.tolist()
    if isinstance(obj, (np.floating, float)):
        return round(float(obj), ndigits)
    if isinstance(obj, (np.integer, )):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def official_int_box(box_xyxy: Sequence[float], img_w: int, img_h: int,
                     extend: float = 1.25,
                     aspect: float = INPUT_SIZE_WH[0] / INPUT_SIZE_WH[1]
                     ) -> Optional[np.ndarray]:
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
        aspect (float): target ``w/h`` (384/512).

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


def _find_mano_dirs(node: Any, path: str = '') -> List[Tuple[str, Any]]:
    """Find the MANO folder entries of a model config.

    Matches ``mano_dir`` / ``mano_model_dir`` keys anywhere and ``model_dir``
    inside a dict whose ``type`` or key name mentions MANO (e.g.
    ``model.mano.model_dir``).
    """
    found = []
    if isinstance(node, dict):
        last = path.rsplit('.', 1)[-1].lower()
        is_mano = 'mano' in str(node.get('type', '')).lower() or 'mano' in last
        for key, value in node.items():
            sub = f'{path}.{key}' if path else key
            if (key in ('mano_dir', 'mano_model_dir') or
                (is_mano and key == 'model_dir')) and not isinstance(
                    value, dict):
                found.append((sub, value))
            else:
                found += _find_mano_dirs(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _find_mano_dirs(value, f'{path}[{i}]')
    return found


def _set_by_path(cfg: Any, path: str, value: Any) -> None:
    """Set ``cfg`` entry addressed like ``model.head.mano_dir`` / ``[0]``."""
    tokens = []
    for part in path.split('.'):
        while '[' in part:
            head, rest = part.split('[', 1)
            if head:
                tokens.append(head)
            idx, part = rest.split(']', 1)
            tokens.append(int(idx))
        if part:
            tokens.append(part)
    node = cfg
    for tok in tokens[:-1]:
        node = node[tok]
    node[tokens[-1]] = value


class _Registrable:
    """Decorator stand-in when mmpose is not importable."""

    @staticmethod
    def register_module(*args, **kwargs):
        return lambda cls: cls


_REGISTRY = INFERENCERS if INFERENCERS is not None else _Registrable()


@_REGISTRY.register_module(name='InterWildInferencer')
class InterWildInferencer(BaseInferencer):
    """Inference wrapper of :class:`InterWild` in the MMPoseInferencer style.

    Calling the inferencer returns a generator that yields one result dict
    per image (or per video frame) as soon as it is done; outputs are written
    while iterating. After the generator is exhausted, :attr:`summary` holds
    the counts of processed and failed inputs (failed inputs are skipped with
    their reason, the run goes on).

    Args:
        model (str | Config | dict): config file or config object of an
            ``InterWild`` model.
        weights (str, optional): mmengine checkpoint (a converted official
            snapshot, or one saved by ``tools/train.py``). ``None`` keeps the
            random initialisation (with a warning; for tests).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...
            Defaults to ``'cuda'`` if available, else ``'cpu'``.
        cfg_options (dict, optional): overrides merged into the config
            (``Config.merge_from_dict``).
        det_config, det_checkpoint (str, optional): mmdet person detector;
            without it the whole image is one person.
        det_cat_id (int): detector class id of persons. Defaults to 0.
        bbox_thr (float): minimum person score. Defaults to 0.5.
        hand_score_thr (float): minimum DetectNet hand-box confidence (the
            centre-heatmap softmax probability at the predicted centre;
            range (0, 1], ~3e-4 for a flat heatmap) for a hand to be
            reported present. 0 reproduces the official demo (never absent).
            Defaults to 0.05.
        body_box_mode (str): ``'official_int'`` (default) truncates the
            person box to integers exactly like the official demo
            (``docs/official_conventions.md`` §5); ``'float'`` keeps float
            boxes and shrinks huge images before cutting the patch (see the
            module docstring).
        speed (str): inference speed-ups, ``'exact'`` (default: outputs
            within 1e-6 m / 1e-4 px of the plain model), ``'approximate'``
            (also BatchNorm folding and channels-last; changes the float
            rounding) or ``'none'`` (the plain model); see
            :mod:`interwild_mm.models.utils.inference_opt`.
        mano_dir (str, optional): MANO folder; overrides the config. Else the
            config's value, env ``INTERWILD_MANO_DIR``, then ``data/mano``.
        placement (str): ``'fit'`` (least-squares translation over all joints,
            default) or ``'scale'`` (closed form, wrist only); see
            :mod:`interwild_mm.apis.placement`.
        two_hand_mode (str): ``'auto'`` (both hands present and boxes overlap,
            as the official demo), ``'always'`` (both present) or
            ``'never'``. Defaults to ``'auto'``.
        show_progress (bool): progress bar for folders and videos.
            Defaults to True.
    """

    preprocess_kwargs: set = {'rgb'}
    forward_kwargs: set = set()
    visualize_kwargs: set = {'draw'}
    postprocess_kwargs: set = {'focal', 'princpt'}

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 det_config: Optional[Union[str, Config]] = None,
                 det_checkpoint: Optional[str] = None,
                 det_cat_id: int = 0,
                 bbox_thr: float = 0.5,
                 hand_score_thr: float = 0.05,
                 body_box_mode: str = 'official_int',
                 speed: str = 'exact',
                 mano_dir: Optional[str] = None,
                 placement: str = 'fit',
                 two_hand_mode: str = 'auto',
                 show_progress: bool = True) -> None:
        if placement not in ('fit', 'scale'):
            raise ValueError(
                f"placement must be 'fit' or 'scale', got {placement!r}.")
        if body_box_mode not in BODY_BOX_MODES:
            raise ValueError(f'body_box_mode must be one of {BODY_BOX_MODES}'
                             f', got {body_box_mode!r}.')
        if speed not in SPEED_MODES:
            raise ValueError(f'speed must be one of {SPEED_MODES}, got '
                             f'{speed!r}.')
        if two_hand_mode not in ('auto', 'always', 'never'):
            raise ValueError("two_hand_mode must be 'auto', 'always' or "
                             f"'never', got {two_hand_mode!r}.")
        if isinstance(model, (str, os.PathLike)):
            if not osp.isfile(model):
                raise FileNotFoundError(f'config file {model!r} not found.')
            cfg = Config.fromfile(os.fspath(model))
        elif isinstance(model, (Config, ConfigDict, dict)):
            cfg = Config(copy.deepcopy(dict(model))) if isinstance(
                model, dict) and not isinstance(model, Config) else \
                copy.deepcopy(model)
        else:
            raise TypeError('model must be a config path, Config or dict, '
                            f'got {type(model).__name__}.')
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if 'model' not in cfg:
            raise ValueError('the config has no `model` entry.')
        if cfg.get('custom_imports'):
            import_modules_from_strings(**cfg['custom_imports'])
        import interwild_mm  # noqa: F401  (registers the modules)
        import interwild_mm.models  # noqa: F401
        init_default_scope(cfg.get('default_scope', 'mmpose'))
        self.mano_dir = self._resolve_mano(cfg, mano_dir)
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.hand_score_thr = float(hand_score_thr)
        self.body_box_mode = body_box_mode
        self.speed = speed
        self.placement = placement
        self.two_hand_mode = two_hand_mode
        self.bbox_thr = float(bbox_thr)
        self.det_cat_id = int(det_cat_id)
        self.summary = InferenceSummary()
        super().__init__(
            model=cfg,
            weights=weights,
            device=device,
            scope=cfg.get('default_scope', 'mmpose'),
            show_progress=show_progress)
        self.device = torch.device(device)
        self._mano_layers: Dict[str, Any] = {}
        self.faces = self._load_faces()
        self.detector = None
        if det_config is not None:
            self.detector = self._init_detector(det_config, det_checkpoint,
                                                device)

    # ------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------
    @staticmethod
    def _resolve_mano(cfg: Config, mano_dir: Optional[str]) -> str:
        """Resolve MANO (argument > config > env > data/mano) and write the
        resolved folder into every MANO entry of the config."""
        from interwild_mm.mano.io import resolve_mano_dir
        entries = _find_mano_dirs(cfg['model'].to_dict() if hasattr(
            cfg['model'], 'to_dict') else dict(cfg['model']), 'model')
        cfg_dir = next((v for _, v in entries if v), None)
        folder = resolve_mano_dir(mano_dir if mano_dir else cfg_dir)
        for path, _ in entries:
            _set_by_path(cfg, path, str(folder))
        return str(folder)

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        from mmpose.registry import MODELS
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        if weights is None:
            warnings.warn('InterWildInferencer: no checkpoint given, the '
                          'model keeps its RANDOM initialisation.')
        else:
            self._load_checkpoint(model, weights)
        model.to(device)
        model.eval()
        # speed-ups after loading: BN folding / micro-batch wrappers change
        # the module tree the checkpoint keys refer to
        return optimize_for_inference(model, speed=self.speed)

    @staticmethod
    def _mano_prefixes(model: torch.nn.Module) -> List[str]:
        from interwild_mm.mano import layer as mano_layer
        return [
            name + '.' for name, m in model.named_modules()
            if isinstance(m, mano_layer.ManoLayer)
        ]

    def _load_checkpoint(self, model: torch.nn.Module, weights: str) -> None:
        """Load an mmengine checkpoint with clear errors on mismatch.

        MANO buffers are never taken from the checkpoint (the MANO files the
        user points to are authoritative).
        """
        from mmengine.runner.checkpoint import _load_checkpoint
        convert_hint = (
            'Official InterWild snapshots (snapshot_<epoch>.pth with keys '
            "'epoch', 'network', 'optimizer') must first be converted: "
            'python tools/convert_official_checkpoint.py snapshot_6.pth '
            'interwild_converted.pth')
        if not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint {weights!r} not found.')
        try:
            ckpt = _load_checkpoint(weights, map_location='cpu')
        except Exception as err:
            raise RuntimeError(f'cannot load checkpoint {weights!r}: {err}. '
                               f'{convert_hint}') from err
        if not isinstance(ckpt, dict):
            raise RuntimeError(f'checkpoint {weights!r} holds a '
                               f'{type(ckpt).__name__}, not a state dict. '
                               f'{convert_hint}')
        if 'network' in ckpt and 'state_dict' not in ckpt:
            raise RuntimeError(f'{weights!r} is an official InterWild '
                               f'snapshot. {convert_hint}')
        state = ckpt.get('state_dict', ckpt)
        if not isinstance(state, dict):
            raise RuntimeError(f'checkpoint {weights!r} has no state dict. '
                               f'{convert_hint}')
        state = {(k[7:] if k.startswith('module.') else k): v
                 for k, v in state.items()}
        prefixes = tuple(self._mano_prefixes(model))
        state = {k: v for k, v in state.items()
                 if not (prefixes and k.startswith(prefixes))}
        own = {k: v for k, v in model.state_dict().items()
               if not (prefixes and k.startswith(prefixes))}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong_shape = sorted(
            k for k in set(own) & set(state)
            if tuple(own[k].shape) != tuple(getattr(state[k], 'shape', ())))
        if missing or unexpected or wrong_shape:
            parts = []
            for label, keys in (('missing', missing),
                                ('unexpected', unexpected),
                                ('wrong shape', wrong_shape)):
                if keys:
                    parts.append(f'{len(keys)} {label} (e.g. '
                                 f'{", ".join(keys[:3])})')
            raise RuntimeError(
                f'checkpoint {weights!r} does not match the model of this '
                f'config: {"; ".join(parts)}. Check that the config matches '
                f'the checkpoint. {convert_hint}')
        model.load_state_dict(state, strict=False)

    def _init_pipeline(self, cfg: Config):
        """Preprocessing is done by :meth:`preprocess` (no mmcv pipeline)."""
        return None

    def _init_collate(self, cfg: Config):
        return None

    def _init_visualizer(self, cfg: Config):
        """Overlays are drawn with :func:`render_hands`, not a Visualizer."""
        return None

    def _mano_layer(self, side: str):
        """The model's MANO layer of ``side`` (or a new one on CPU)."""
        if side not in self._mano_layers:
            from interwild_mm.mano.layer import ManoLayer
            layer = getattr(self.model, f'mano_layer_{side}', None)
            if not isinstance(layer, ManoLayer):
                layer = ManoLayer(model_dir=self.mano_dir, side=side)
            self._mano_layers[side] = layer.eval()
        return self._mano_layers[side]

    def _load_faces(self) -> Dict[str, np.ndarray]:
        return {
            side: self._mano_layer(side).faces.detach().cpu().numpy().astype(
                np.int64)
            for side in HANDS
        }

    @staticmethod
    def _init_detector(det_config, det_checkpoint, device):
        try:
            from mmdet.apis import init_detector
        except Exception as err:  # pragma: no cover - mmdet missing
            raise ImportError('a person detector needs mmdet (pip install '
                              f'mmdet): {err}') from err
        if det_checkpoint is None:
            raise ValueError('det_config given without det_checkpoint.')
        detector = init_detector(det_config, det_checkpoint, device=device)
        init_default_scope('mmpose')
        return detector

    # ------------------------------------------------------------------
    # preprocessing
    # ------------------------------------------------------------------
    def detect_persons(self, img: np.ndarray
                       ) -> List[Tuple[np.ndarray, Optional[float]]]:
        """Person boxes ``(xyxy float64, score)`` of a BGR image.

        Without a detector: the whole image ``[0, 0, W, H]`` with score None.
        Detections are sorted left to right (stable order for videos).
        """
        h, w = img.shape[:2]
        if self.detector is None:
            return [(np.array([0.0, 0.0, w, h]), None)]
        from mmdet.apis import inference_detector
        det = inference_detector(self.detector, img)
        init_default_scope('mmpose')
        inst = det.pred_instances.cpu().numpy()
        keep = (inst.labels == self.det_cat_id) & (inst.scores > self.bbox_thr)
        boxes = inst.bboxes[keep].astype(np.float64)
        scores = inst.scores[keep].astype(np.float64)
        order = np.argsort((boxes[:, 0] + boxes[:, 2]) / 2, kind='stable')
        return [(boxes[i], float(scores[i])) for i in order]

    def make_patch(self, img: np.ndarray, box_xyxy: np.ndarray
                   ) -> Optional[Dict[str, np.ndarray]]:
        """Cut the 384x512 network input of one person (spec 5).

        Args:
            img (np.ndarray): ``(H, W, 3)`` BGR uint8 original image.
            box_xyxy (np.ndarray): person box in original px.

        Returns:
            dict | None: ``patch`` (3, 512, 384) float32 RGB in [0, 1],
            ``bb2img_trans`` / ``img2bb_trans`` (2, 3) float64 (patch <->
            ORIGINAL px), ``body_bbox_xywh`` (4,) the processed box; None if
            the box is degenerate.
        """
        h, w = img.shape[:2]
        x1, y1, x2, y2 = [float(v) for v in box_xyxy]
        official = self.body_box_mode == 'official_int'
        if official:
            box = official_int_box([x1, y1, x2, y2], w, h, extend=1.25)
        else:
            box = process_bbox([x1, y1, x2 - x1, y2 - y1], w, h, extend=1.25)
        if box is None:
            return None
        box = np.asarray(box, dtype=np.float64)
        src, src_box = img, box
        shrink = min(box[2] / INPUT_SIZE_WH[0], box[3] / INPUT_SIZE_WH[1])
        sx = sy = 1.0
        if shrink > 2.0 and not official:
            new_w = max(2, int(round(w / shrink)))
            new_h = max(2, int(round(h / shrink)))
            src = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
            sx, sy = w / new_w, h / new_h
            # pixel centres: x_small = (x + 0.5) / sx - 0.5
            src_box = np.array([(box[0] + 0.5) / sx - 0.5,
                                (box[1] + 0.5) / sy - 0.5, box[2] / sx,
                                box[3] / sy])
        patch, img2bb, bb2img = generate_patch_image(src, src_box, 1.0, 0.0,
                                                     False, INPUT_SIZE_WH)
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

    def preprocess(self, inputs: Sequence[np.ndarray], batch_size: int = 1,
                   **kwargs) -> Iterator[Tuple[torch.Tensor, list, list]]:
        """Yield batches ``(inputs (B,3,512,384), data_samples, owners)``.

        ``owners[i] = (image index, person dict)`` for every patch; persons of
        all given images are batched together, ``batch_size`` at a time.
        """
        from mmpose.structures import PoseDataSample
        entries = []
        for img_idx, img in enumerate(inputs):
            for box, score in self.detect_persons(img):
                prep = self.make_patch(img, box)
                if prep is None:
                    continue
                entries.append((img_idx, dict(
                    body_bbox_xyxy=box, body_bbox_score=score, **prep)))
        for start in range(0, len(entries), max(1, batch_size)):
            chunk = entries[start:start + max(1, batch_size)]
            batch = torch.from_numpy(np.stack([e[1]['patch'] for e in chunk]))
            samples = []
            for img_idx, e in chunk:
                img = inputs[img_idx]
                ds = PoseDataSample(
                    metainfo=dict(
                        bb2img_trans=e['bb2img_trans'].astype(np.float32),
                        img2bb_trans=e['img2bb_trans'].astype(np.float32),
                        ori_shape=img.shape[:2],
                        img_shape=(INPUT_SIZE_WH[1], INPUT_SIZE_WH[0]),
                        input_size=INPUT_SIZE_WH))
                samples.append(ds)
            yield batch, samples, chunk

    def forward(self, inputs: torch.Tensor, data_samples: list,
                **kwargs) -> list:
        """Run ``InterWild.predict`` on a batch (inputs RGB in [0, 1]),
        under ``torch.inference_mode`` (``torch.no_grad`` if
        ``speed='none'``)."""
        param = next(self.model.parameters())
        inputs = inputs.to(device=param.device, dtype=param.dtype)
        with inference_context(self.speed):
            return self.model(inputs, data_samples, mode='predict')

    # ------------------------------------------------------------------
    # post-processing
    # ------------------------------------------------------------------
    @staticmethod
    def _pred_numpy(data_sample) -> Dict[str, np.ndarray]:
        pred = data_sample.pred_instances
        out = {}
        for key in pred.keys():
            value = pred.get(key)
            if isinstance(value, torch.Tensor):
                value = value.detach().float().cpu().numpy()
            value = np.asarray(value)
            out[key] = value[0] if value.ndim and value.shape[0] == 1 else \
                value
        return out

    def _mano_forward(self, side: str, mano: Dict[str, np.ndarray]
                      ) -> Tuple[np.ndarray, np.ndarray]:
        """Wrist-relative (vertices, joints) of MANO parameters."""
        layer = self._mano_layer(side)
        buf = next(iter(layer.buffers()), None)
        dev = buf.device if buf is not None else torch.device('cpu')
        t = {k: torch.as_tensor(np.asarray(v, np.float32),
                                device=dev).reshape(1, -1)
             for k, v in mano.items()}
        with torch.no_grad():
            out = layer(t['global_orient'], t['hand_pose'], t['betas'])
        verts = out['vertices'][0].double().cpu().numpy()
        joints = out['joints'][0].double().cpu().numpy()
        return verts - joints[0], joints - joints[0]

    def _hand_from_pred(self, pred: Dict[str, np.ndarray], side: str
                        ) -> Dict[str, Any]:
        p = PREFIX[side]
        box = np.asarray(pred[f'{p}hand_bbox'], np.float64).reshape(4)
        score = float(np.asarray(pred[f'{p}hand_bbox_score']).reshape(-1)[0])
        hand = dict(present=bool(score >= self.hand_score_thr),
                    bbox_xyxy=box, bbox_score=score)
        hand['joints_2d'] = np.asarray(pred[f'{p}joint_img'],
                                       np.float64)[:, :2]
        hand['mano'] = dict(
            global_orient=np.asarray(pred[f'{p}mano_root_pose'],
                                     np.float64).reshape(3),
            hand_pose=np.asarray(pred[f'{p}mano_hand_pose'],
                                 np.float64).reshape(45),
            betas=np.asarray(pred[f'{p}mano_shape'], np.float64).reshape(10))
        hand['root_cam_virtual'] = np.asarray(pred[f'{p}root_cam'],
                                              np.float64).reshape(3)
        verts = np.asarray(pred[f'{p}mano_mesh_cam'], np.float64)
        joints = np.asarray(pred[f'{p}mano_joint_cam'], np.float64)
        hand['vertices_rel'] = verts - joints[:1]
        hand['joints_cam_rel'] = joints - joints[:1]
        return hand

    def _place_hand(self, hand: Dict[str, Any], bb2img: np.ndarray,
                    focal: np.ndarray, princpt: np.ndarray) -> None:
        """Add ``virtual_camera``, ``targets_2d`` and ``wrist_cam``."""
        crop = hand_crop_box_in_patch(hand['bbox_xyxy'], bb2img)
        fv, cv = crop_camera_in_image(crop_to_image_affine(crop, bb2img))
        hand['virtual_camera'] = dict(focal=fv, princpt=cv)
        joints_v = hand['joints_cam_rel'] + hand['root_cam_virtual']
        hand['targets_2d'] = project_perspective(joints_v, fv, cv)
        init = place_root_scale(hand['root_cam_virtual'], fv, cv, focal,
                                princpt)
        if self.placement == 'fit':
            hand['wrist_cam'] = fit_translation(hand['joints_cam_rel'],
                                                hand['targets_2d'], focal,
                                                princpt, init=init)
        else:
            hand['wrist_cam'] = init

    def postprocess_person(self,
                           pred: Dict[str, np.ndarray],
                           person: Dict[str, Any],
                           focal: np.ndarray,
                           princpt: np.ndarray,
                           smoother: Optional[Dict[str, Any]] = None
                           ) -> Dict[str, Any]:
        """Turn one person's ``pred_instances`` into the output record."""
        bb2img = person['bb2img_trans']
        hands = {s: self._hand_from_pred(pred, s) for s in HANDS}
        rel_trans = np.asarray(pred['rel_trans'], np.float64).reshape(3)
        if smoother is not None:
            rel_trans = self._smooth(smoother, hands, rel_trans)
        for side in HANDS:
            if hands[side]['present']:
                self._place_hand(hands[side], bb2img, focal, princpt)
        both = hands['right']['present'] and hands['left']['present']
        overlap = both and _iou_xyxy(hands['right']['bbox_xyxy'],
                                     hands['left']['bbox_xyxy']) > 0
        two_hand = both and (self.two_hand_mode == 'always' or
                             (self.two_hand_mode == 'auto' and overlap))
        if two_hand:
            r, l = hands['right'], hands['left']
            pts = np.concatenate(
                [r['joints_cam_rel'], l['joints_cam_rel'] + rel_trans])
            tgt = np.concatenate([r['targets_2d'], l['targets_2d']])
            if self.placement == 'fit':
                t = fit_translation(pts, tgt, focal, princpt,
                                    init=r['wrist_cam'])
            else:
                t = r['wrist_cam']
            r['wrist_cam_scene'] = t
            l['wrist_cam_scene'] = t + rel_trans
        for side in HANDS:
            hand = hands[side]
            if not hand['present']:
                for key in ('joints_2d', 'mano', 'root_cam_virtual',
                            'vertices_rel', 'joints_cam_rel'):
                    hand.pop(key, None)
                continue
            hand.setdefault('wrist_cam_scene', hand['wrist_cam'])
            placed = hand['joints_cam_rel'] + hand['wrist_cam_scene']
            err = np.linalg.norm(
                project_perspective(placed, focal, princpt) -
                hand['targets_2d'], axis=-1)
            hand['reprojection_error_px'] = float(err.mean())
        return dict(
            body_bbox_xyxy=np.asarray(person['body_bbox_xyxy'], np.float64),
            body_bbox_score=person['body_bbox_score'],
            patch_bbox_xywh=person['body_bbox_xywh'],
            bb2img_trans=bb2img,
            rel_trans=rel_trans,
            two_hand_mode=bool(two_hand),
            hands=hands)

    def _smooth(self, smoother: Dict[str, Any], hands: Dict[str, Any],
                rel_trans: np.ndarray) -> np.ndarray:
        """Smooth a person's outputs in place (video mode)."""
        values: Dict[str, Optional[np.ndarray]] = {}
        for side in HANDS:
            h = hands[side]
            ok = h['present']
            values[f'{side}.root_pose'] = h['mano']['global_orient'] if ok \
                else None
            values[f'{side}.hand_pose'] = h['mano']['hand_pose'] if ok \
                else None
            for key in ('betas', ):
                values[f'{side}.{key}'] = h['mano'][key] if ok else None
            for key in ('root_cam_virtual', 'bbox_xyxy', 'joints_2d'):
                values[f'{side}.{key}'] = h[key] if ok else None
        both = hands['right']['present'] and hands['left']['present']
        values['rel_trans'] = rel_trans if both else None
        out = smoother['filter'](values, smoother.get('t'))
        for side in HANDS:
            h = hands[side]
            if not h['present']:
                continue
            h['mano'] = dict(
                global_orient=out[f'{side}.root_pose'],
                hand_pose=out[f'{side}.hand_pose'],
                betas=out[f'{side}.betas'])
            for key in ('root_cam_virtual', 'bbox_xyxy', 'joints_2d'):
                h[key] = out[f'{side}.{key}']
            h['vertices_rel'], h['joints_cam_rel'] = self._mano_forward(
                side, h['mano'])
        return out['rel_trans'] if both else rel_trans

    # ------------------------------------------------------------------
    # visualisation and file output
    # ------------------------------------------------------------------
    def visualize(self, image: np.ndarray, persons: List[Dict[str, Any]],
                  focal: np.ndarray, princpt: np.ndarray,
                  draw: bool = True) -> np.ndarray:
        """Overlay meshes (real camera), hand boxes and skeletons.

        Meshes are rasterised only inside the image region they cover, so a
        huge image costs memory proportional to the hands, not the image.

        Returns:
            np.ndarray: ``(H, W, 3)`` BGR uint8 image, original resolution.
        """
        from interwild_mm.visualization.renderer import render_hands
        canvas = image.copy()
        if not draw:
            return canvas
        h, w = image.shape[:2]
        meshes, faces, colors = [], [], []
        for person in persons:
            for side in HANDS:
                hand = person['hands'][side]
                if hand['present']:
                    meshes.append(hand['vertices_rel'] +
                                  hand['wrist_cam_scene'])
                    faces.append(self.faces[side])
                    colors.append(MESH_COLORS[side])
        if meshes:
            uv = np.concatenate([
                project_perspective(m, focal, princpt) for m in meshes
                if np.all(m[:, 2] > 1e-3)
            ] or [np.zeros((0, 2))])
            if len(uv):
                x0 = int(np.clip(np.floor(uv[:, 0].min()) - 1, 0, w))
                y0 = int(np.clip(np.floor(uv[:, 1].min()) - 1, 0, h))
                x1 = int(np.clip(np.ceil(uv[:, 0].max()) + 2, 0, w))
                y1 = int(np.clip(np.ceil(uv[:, 1].max()) + 2, 0, h))
                if x1 - x0 >= 1 and y1 - y0 >= 1:
                    cam = dict(
                        type='perspective',
                        focal=focal,
                        princpt=np.asarray(princpt) - [x0, y0])
                    sub = np.ascontiguousarray(canvas[y0:y1, x0:x1])
                    out = render_hands(sub, meshes, faces, cam, colors=colors)
                    canvas[y0:y1, x0:x1] = out.image
        thick = max(1, int(round(max(h, w) / 500)))
        for person in persons:
            for side in HANDS:
                hand = person['hands'][side]
                if not hand['present']:
                    continue
                b = np.round(hand['bbox_xyxy']).astype(int)
                cv2.rectangle(canvas, (b[0], b[1]), (b[2], b[3]),
                              BOX_COLORS[side], thick + 1)
                pts = np.round(hand['joints_2d']).astype(int)
                for a, c in SH_SKELETON:
                    cv2.line(canvas, tuple(pts[a]), tuple(pts[c]),
                             BOX_COLORS[side], thick, cv2.LINE_AA)
                for p in pts:
                    cv2.circle(canvas, tuple(p), thick + 1, (255, 255, 255),
                               -1, cv2.LINE_AA)
        return canvas

    def postprocess(self,
                    preds: List[Dict[str, Any]],
                    visualization: Optional[List[np.ndarray]] = None,
                    return_datasample: bool = False,
                    **kwargs) -> Dict[str, Any]:
        """Package result records the mmengine way.

        Args:
            preds (list[dict]): result records yielded by :meth:`__call__`.
            visualization (list[np.ndarray], optional): overlays.
            return_datasample (bool): keep the raw data samples.

        Returns:
            dict: ``predictions`` (JSON-able records) and ``visualization``.
        """
        out = []
        for rec in preds:
            item = self.to_json(rec, with_conventions=False) if \
                'persons' in rec else _to_jsonable(rec)
            if return_datasample and 'data_samples' in rec:
                item['data_samples'] = rec['data_samples']
            out.append(item)
        return dict(predictions=out, visualization=visualization)

    def _record(self, name: str, source: str, image_shape: Tuple[int, int],
                focal: np.ndarray, princpt: np.ndarray, cam_source: str,
                persons: List[Dict[str, Any]]) -> Dict[str, Any]:
        return dict(
            name=name,
            input=source,
            image_size=dict(height=int(image_shape[0]),
                            width=int(image_shape[1])),
            camera=dict(focal=focal, princpt=princpt, source=cam_source),
            hand_score_thr=self.hand_score_thr,
            persons=persons)

    @staticmethod
    def to_json(record: Dict[str, Any], with_conventions: bool = True
                ) -> Dict[str, Any]:
        """JSON-able copy of a result record (internal keys dropped)."""
        rec = copy.copy(record)
        rec.pop('overlay', None)
        rec.pop('data_samples', None)
        persons = []
        for k, person in enumerate(record['persons']):
            person = dict(person, person_id=k)
            person['hands'] = {
                side: {key: val for key, val in hand.items()
                       if key != 'targets_2d'}
                for side, hand in person['hands'].items()
            }
            persons.append(person)
        rec['persons'] = persons
        if with_conventions:
            rec = dict(conventions=CONVENTIONS, **rec)
        return _to_jsonable(rec)

    def save_meshes(self, out_dir: str, name: str,
                    persons: List[Dict[str, Any]]) -> List[str]:
        """Write ``<name>_p<k>_{right,left,hands}.obj`` (real-camera metres)."""
        from interwild_mm.visualization.mesh_io import save_obj
        files = []
        for k, person in enumerate(persons):
            verts, faces, offset = [], [], 0
            for side in HANDS:
                hand = person['hands'][side]
                if not hand['present']:
                    continue
                v = hand['vertices_rel'] + hand['wrist_cam_scene']
                path = osp.join(out_dir, f'{name}_p{k}_{side}.obj')
                save_obj(path, v, self.faces[side])
                hand['mesh_file'] = osp.basename(path)
                files.append(path)
                verts.append(v)
                faces.append(self.faces[side] + offset)
                offset += len(v)
            if verts:
                path = osp.join(out_dir, f'{name}_p{k}_hands.obj')
                save_obj(path, np.concatenate(verts), np.concatenate(faces))
                person['scene_mesh_file'] = osp.basename(path)
                files.append(path)
        return files

    @staticmethod
    def existing_outputs(out_dir: str, items: Sequence[InputItem]
                         ) -> List[str]:
        """Files in ``out_dir`` that a run on ``items`` would write."""
        if not osp.isdir(out_dir):
            return []
        found = []
        for item in items:
            stem = glob.escape(osp.join(out_dir, item.name))
            patterns = ([stem + '.jsonl', stem + '_overlay.mp4']
                        if item.kind == 'video' else
                        [stem + '.json', stem + '_overlay.png',
                         stem + '_p*_right.obj', stem + '_p*_left.obj',
                         stem + '_p*_hands.obj'])
            for pat in patterns:
                found += glob.glob(pat)
        return sorted(set(found))

    # ------------------------------------------------------------------
    # main entry
    # ------------------------------------------------------------------
    def _intrinsics(self, shape: Tuple[int, int], focal, princpt
                    ) -> Tuple[np.ndarray, np.ndarray, str]:
        h, w = shape[:2]
        f_def, c_def = default_intrinsics(h, w)
        src = []
        if focal is None:
            f = f_def
            src.append('default focal sqrt(W^2+H^2)')
        else:
            f = np.broadcast_to(np.asarray(focal, np.float64).reshape(-1),
                                (2, )).copy()
            if not np.all(f > 0):
                raise ValueError(f'focal must be > 0, got {focal}.')
            src.append('given focal')
        if princpt is None:
            c = c_def
            src.append('default principal point ((W-1)/2, (H-1)/2)')
        else:
            c = np.asarray(princpt, np.float64).reshape(2)
            src.append('given principal point')
        return f, c, ', '.join(src)

    def __call__(self,
                 inputs: Union[str, np.ndarray, Sequence[Any]],
                 batch_size: int = 1,
                 out_dir: Optional[str] = None,
                 overwrite: bool = False,
                 focal: Optional[Sequence[float]] = None,
                 princpt: Optional[Sequence[float]] = None,
                 rgb: bool = False,
                 draw: bool = True,
                 save_meshes: bool = True,
                 smooth: bool = False,
                 smooth_cfg: Optional[dict] = None,
                 return_datasamples: bool = False,
                 return_overlay: bool = False) -> Iterator[Dict[str, Any]]:
        """Run inference; yields one result dict per image / video frame.

        Args:
            inputs: image path, folder, video path, numpy image (BGR unless
                ``rgb``) or a list of those.
            batch_size (int): persons per forward pass. Defaults to 1.
            out_dir (str, optional): where to write the outputs (see the
                module docstring). None = write nothing.
            overwrite (bool): allow replacing existing output files;
                otherwise a run that would overwrite raises
                ``FileExistsError`` before doing anything. Defaults to False.
            focal (Sequence[float], optional): ``fx[, fy]`` in original px.
            princpt (Sequence[float], optional): ``cx, cy`` in original px.
            rgb (bool): numpy inputs are RGB(A). Defaults to False (BGR).
            draw (bool): render the overlay. Defaults to True.
            save_meshes (bool): write OBJ files (images only). Defaults to
                True.
            smooth (bool): One-Euro smoothing over video frames (ignored for
                images). Defaults to False.
            smooth_cfg (dict, optional): ``min_cutoff``, ``beta``,
                ``d_cutoff`` of :class:`ManoOneEuroSmoother`; the frequency is
                the video's frame rate. Defaults to
                ``dict(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)``.
            return_datasamples (bool): add the raw ``PoseDataSample`` list
                under ``'data_samples'``. Defaults to False.
            return_overlay (bool): add the overlay image under
                ``'overlay'``. Defaults to False.

        Yields:
            dict: ``name``, ``input``, ``image_size``, ``camera``,
            ``persons`` (see :data:`CONVENTIONS`), ``files`` written; for a
            failed input ``error`` instead of ``persons``; video frames also
            carry ``frame_index``.

        Raises:
            InputError: for missing paths, empty folders, unsupported files.
            FileExistsError: if outputs exist and ``overwrite`` is False.
        """
        items = collect_inputs(inputs)
        if out_dir is not None:
            clash = self.existing_outputs(out_dir, items)
            if clash and not overwrite:
                shown = ', '.join(osp.basename(p) for p in clash[:5])
                more = f' and {len(clash) - 5} more' if len(clash) > 5 else ''
                raise FileExistsError(
                    f'{len(clash)} output file(s) already exist in '
                    f'{out_dir!r} ({shown}{more}); refusing to overwrite. '
                    'Use another --out-dir, or pass --overwrite '
                    '(overwrite=True).')
            os.makedirs(out_dir, exist_ok=True)
        self.summary = InferenceSummary()
        opts = dict(batch_size=batch_size, out_dir=out_dir, focal=focal,
                    princpt=princpt, rgb=rgb, draw=draw,
                    save_meshes=save_meshes,
                    return_datasamples=return_datasamples,
                    return_overlay=return_overlay)
        images = [it for it in items if it.kind != 'video']
        videos = [it for it in items if it.kind == 'video']
        yield from self._run_images(images, **opts)
        for item in videos:
            yield from self._run_video(item, smooth=smooth,
                                       smooth_cfg=smooth_cfg, **opts)
        if len(items) > 1 or self.summary.failed:
            print_log(f'InterWildInferencer: {self.summary}', logger='current')

    def _progress(self, total: int, desc: str):
        if not self.show_progress or total <= 1:
            return None
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            return None
        return tqdm(total=total, desc=desc, unit='img')

    def _run_images(self, items: List[InputItem], batch_size: int,
                    **opts) -> Iterator[Dict[str, Any]]:
        bar = self._progress(len(items), 'InterWild')
        step = max(1, batch_size)
        try:
            for start in range(0, len(items), step):
                loaded = []
                for item in items[start:start + step]:
                    try:
                        img = (read_image(item.source) if item.kind == 'image'
                               else to_bgr_uint8(item.source, opts['rgb']))
                    except InputError as err:
                        self.summary.failed.append((self._src(item), str(err)))
                        print_log(f'skipping {self._src(item)}: {err}',
                                  logger='current', level=30)
                        if bar is not None:
                            bar.update(1)
                        yield dict(name=item.name, input=self._src(item),
                                   error=str(err))
                        continue
                    loaded.append((item, img))
                if not loaded:
                    continue
                for item, img, record in self._process(
                        loaded, batch_size=batch_size, **opts):
                    self.summary.ok.append(self._src(item))
                    if bar is not None:
                        bar.update(1)
                    yield record
        finally:
            if bar is not None:
                bar.close()

    @staticmethod
    def _src(item: InputItem) -> str:
        return item.source if isinstance(item.source, str) else item.name

    def _process(self, loaded: List[Tuple[InputItem, np.ndarray]],
                 batch_size: int, out_dir: Optional[str], focal, princpt,
                 draw: bool, save_meshes: bool, return_datasamples: bool,
                 return_overlay: bool, smoother: Optional[dict] = None,
                 write_image_files: bool = True, **_
                 ) -> Iterator[Tuple[InputItem, np.ndarray, Dict]]:
        """Detect, batch, predict and post-process a list of images."""
        imgs = [img for _, img in loaded]
        per_image: List[List[Tuple[Dict, Any]]] = [[] for _ in imgs]
        for batch, samples, owners in self.preprocess(imgs, batch_size):
            preds = self.forward(batch, samples)
            for (img_idx, person), ds in zip(owners, preds):
                per_image[img_idx].append((person, ds))
        for (item, img), entries in zip(loaded, per_image):
            f, c, cam_src = self._intrinsics(img.shape, focal, princpt)
            persons = []
            for k, (person, ds) in enumerate(entries):
                sm = None
                if smoother is not None:
                    sm = dict(filter=smoother['filters'].setdefault(
                        k, ManoOneEuroSmoother(**smoother['cfg'])),
                              t=smoother.get('t'))
                persons.append(
                    self.postprocess_person(self._pred_numpy(ds), person, f,
                                            c, smoother=sm))
            record = self._record(item.name, self._src(item), img.shape[:2],
                                  f, c, cam_src, persons)
            files = []
            overlay = None
            if draw and (out_dir is not None or return_overlay):
                overlay = self.visualize(img, persons, f, c)
            if out_dir is not None and write_image_files:
                if save_meshes:
                    files += self.save_meshes(out_dir, item.name, persons)
                if overlay is not None:
                    path = osp.join(out_dir, f'{item.name}_overlay.png')
                    if not cv2.imwrite(path, overlay):
                        raise OSError(f'could not write {path!r}.')
                    files.append(path)
                path = osp.join(out_dir, f'{item.name}.json')
                files.append(path)
                record['files'] = [osp.basename(p) for p in files]
                with open(path, 'w') as fh:
                    json.dump(self.to_json(record), fh, indent=1)
            else:
                record['files'] = []
            if return_datasamples:
                record['data_samples'] = [ds for _, ds in entries]
            if overlay is not None:
                record['overlay'] = overlay
            yield item, img, record

    def _run_video(self, item: InputItem, batch_size: int,
                   out_dir: Optional[str], smooth: bool,
                   smooth_cfg: Optional[dict], draw: bool, **opts
                   ) -> Iterator[Dict[str, Any]]:
        try:
            fps, count, vw, vh = video_info(item.source)
        except InputError as err:
            self.summary.failed.append((item.source, str(err)))
            yield dict(name=item.name, input=item.source, error=str(err))
            return
        smoother = None
        if smooth:
            cfg = dict(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)
            cfg.update(smooth_cfg or {})
            cfg['freq'] = fps
            smoother = dict(cfg=cfg, filters={})
        writer = jsonl = None
        if out_dir is not None:
            jsonl = open(osp.join(out_dir, f'{item.name}.jsonl'), 'w')
            if draw:
                path = osp.join(out_dir, f'{item.name}_overlay.mp4')
                writer = cv2.VideoWriter(path,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (vw, vh))
                if not writer.isOpened():
                    raise OSError(f'cannot open video writer for {path!r}.')
        bar = self._progress(count, osp.basename(item.source))
        n_frames = 0
        try:
            frames = iter_video_frames(item.source)
            while True:
                chunk = []
                # with smoothing, frames must be filtered in order one by one
                for idx, frame in frames:
                    chunk.append((idx, frame))
                    if len(chunk) >= (1 if smooth else max(1, batch_size)):
                        break
                if not chunk:
                    break
                loaded = [(InputItem('array', frame,
                                     f'{item.name}_{idx:06d}'), frame)
                          for idx, frame in chunk]
                if smoother is not None:
                    smoother['t'] = chunk[0][0] / fps
                results = self._process(loaded, batch_size=batch_size,
                                        out_dir=out_dir, draw=draw,
                                        smoother=smoother,
                                        write_image_files=False,
                                        return_overlay=writer is not None,
                                        **{k: v for k, v in opts.items()
                                           if k != 'return_overlay'})
                for (idx, _), (_, frame, record) in zip(chunk, results):
                    record['frame_index'] = idx
                    record['input'] = item.source
                    record['name'] = item.name
                    if writer is not None:
                        overlay = record['overlay'] if opts.get(
                            'return_overlay') else record.pop('overlay')
                        if overlay.shape[:2] != (vh, vw):
                            overlay = cv2.resize(overlay, (vw, vh))
                        writer.write(overlay)
                    if jsonl is not None:
                        jsonl.write(json.dumps(self.to_json(
                            record, with_conventions=idx == 0)) + '\n')
                    n_frames += 1
                    if bar is not None:
                        bar.update(1)
                    yield record
            self.summary.ok.append(item.source)
        except InputError as err:
            self.summary.failed.append((item.source, str(err)))
            yield dict(name=item.name, input=item.source, error=str(err))
        finally:
            if bar is not None:
                bar.close()
            if writer is not None:
                writer.release()
            if jsonl is not None:
                jsonl.close()
        if out_dir is not None:
            print_log(f'{item.source}: {n_frames} frames -> {out_dir}',
                      logger='current')
