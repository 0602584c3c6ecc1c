# Copyright (c) interwild_mm contributors.
"""High-level InterWild inference on images, folders, arrays and videos.

Example::

    >>> from interwild_mm.apis import InterWildInferencer
    >>> inferencer = InterWildInferencer(
    ...     'configs/interwild_ih26m_coco.py', 'interwild_converted.pth')
    >>> for result in inferencer('demo/images', out_dir='outputs'):
    ...     print(result['name'], len(result['persons']))
    >>> print(inferencer.summary)  # "N ok, M failed" + reasons

Pipeline per image; each step lives in a module of its own:

1. Persons (:mod:`.detector`): boxes of an optional mmdet detector
   (``det_config`` / ``det_checkpoint``, class ``det_cat_id``, score >
   ``bbox_thr``); without a detector, or when it finds nobody, the whole
   image ``[0, 0, W, H]`` is one person.
2. Body box and patch (:mod:`.preprocess`): by default
   (``body_box_mode='official_int'``) the box is truncated to integers
   exactly like the official demo (``docs/official_conventions.md`` §5; a
   384x512 image gives ``[-48, -63, 479, 638]``); ``'float'`` keeps the
   float box and shrinks huge images first.
3. ``InterWild.predict`` (``pred_instances`` contract), by default with the
   *exact* speed-ups (``speed='exact'``: outputs within 1e-6 m / 1e-4 px of
   the plain model); ``'approximate'`` also folds BatchNorms (changes the
   float rounding), ``'none'`` runs the plain model
   (:mod:`interwild_mm.models.utils.inference_opt`).
4. Post-processing (:mod:`.postprocess`): a hand whose box confidence is
   below ``hand_score_thr`` is reported ``present: false`` without
   MANO/mesh; present hands are placed in the real camera of the original
   image (:mod:`.placement`); a degenerate placement is reported, not
   drawn.
5. Outputs in ``out_dir`` (:mod:`.writers`, :mod:`.overlay`):
   ``<name>.json``, ``<name>_p<k>_{right,left,hands}.obj`` (real-camera
   metres), ``<name>_overlay.png``; videos: ``<name>_overlay.mp4`` and
   ``<name>.jsonl``. Existing files are never overwritten unless
   ``overwrite=True``. The run loops are in :mod:`.loops`; the config and
   checkpoint loading in :mod:`.model_loading`.
"""
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmpose.registry import INFERENCERS

from interwild_mm.models.utils.inference_opt import (SPEED_MODES,
                                                     inference_context,
                                                     optimize_for_inference)
from .detector import PersonDetector, whole_image_person
from .hand_mesh import ManoMeshes
from .inputs import InferenceSummary, collect_inputs
from .loops import RunOptions, run_images, run_video
from .model_loading import (load_inference_config, load_weights,
                            read_checkpoint, resolve_mano_in_config)
from .overlay import draw_overlay
from .postprocess import (PLACEMENTS, TWO_HAND_MODES, person_record,
                          smooth_hands)
from .preprocess import (BODY_BOX_MODES, iter_batches, make_patch,
                         official_int_box)
from .writers import (CONVENTIONS, check_out_dir, existing_outputs,
                      record_to_json, save_person_meshes, to_jsonable)

__all__ = ['InterWildInferencer', 'CONVENTIONS', 'official_int_box']


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got '
                         f'{value!r}.')


@INFERENCERS.register_module(name='InterWildInferencer')
class InterWildInferencer(BaseInferencer):
    """Inference wrapper of :class:`InterWild` in the MMPoseInferencer style.

    Calling the inferencer returns a generator that yields one result dict
    per image (or per video frame) as soon as it is done; outputs are written
    while iterating. After the generator is exhausted, :attr:`summary` holds
    the processed and failed inputs and the degenerate hand placements
    (failed inputs are skipped with their reason, the run goes on).

    Args:
        model (str | Config | dict): config file or config object of an
            ``InterWild`` model.
        weights (str, optional): mmengine checkpoint (a converted official
            snapshot, or one saved by ``tools/train.py``). ``None`` keeps the
            random initialisation (with a warning; for tests).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...
            Defaults to ``'cuda'`` if available, else ``'cpu'``.
        cfg_options (dict, optional): ``--cfg-options`` overrides, applied
            like every tool applies them
            (:func:`interwild_mm.utils.config.merge_cfg_options`).
        det_config, det_checkpoint (str, optional): mmdet person detector;
            without it the whole image is one person.
        det_cat_id (int): detector class id of persons. Defaults to 0.
        bbox_thr (float): minimum person score. Defaults to 0.5.
        hand_score_thr (float): minimum DetectNet hand-box confidence (the
            centre-heatmap softmax probability at the predicted centre;
            range (0, 1], ~3e-4 for a flat heatmap) for a hand to be
            reported present. 0 reproduces the official demo (never absent).
            Defaults to 0.05.
        body_box_mode (str): ``'official_int'`` (default) or ``'float'``;
            see :mod:`interwild_mm.apis.preprocess`.
        speed (str): ``'exact'`` (default), ``'approximate'`` or ``'none'``;
            see :mod:`interwild_mm.models.utils.inference_opt`.
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
        _check_choice('placement', placement, PLACEMENTS)
        _check_choice('body_box_mode', body_box_mode, BODY_BOX_MODES)
        _check_choice('speed', speed, SPEED_MODES)
        _check_choice('two_hand_mode', two_hand_mode, TWO_HAND_MODES)
        cfg = load_inference_config(model, cfg_options)
        import interwild_mm.models  # noqa: F401  (registers the modules)
        self.mano_dir = resolve_mano_in_config(cfg, mano_dir)
        device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.hand_score_thr = float(hand_score_thr)
        self.body_box_mode = body_box_mode
        self.speed = speed
        self.placement = placement
        self.two_hand_mode = two_hand_mode
        self.det_cat_id = int(det_cat_id)
        self.bbox_thr = float(bbox_thr)
        self.summary = InferenceSummary()
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmpose')):
            super().__init__(model=cfg, weights=weights, device=device,
                             scope=cfg.get('default_scope', 'mmpose'),
                             show_progress=show_progress)
        self.device = torch.device(device)
        size = getattr(self.model, 'input_size', None) or \
            cfg.model.get('input_size')
        self.input_size_wh = (int(size[1]), int(size[0]))  # from (H, W)
        self.mano = ManoMeshes(self.model, self.mano_dir)
        self.faces = self.mano.faces
        self.detector = None if det_config is None else PersonDetector(
            det_config, det_checkpoint, device, det_cat_id, bbox_thr)

    # ------------------------------------------------------------------
    # mmengine BaseInferencer hooks
    # ------------------------------------------------------------------
    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        """Build, load (:mod:`.model_loading`), then speed up."""
        from mmpose.registry import MODELS
        checkpoint = None if weights is None else read_checkpoint(weights)
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        if checkpoint is None:
            warnings.warn('InterWildInferencer: no checkpoint given, the '
                          'model keeps its RANDOM initialisation.')
        else:
            load_weights(model, checkpoint, source=weights)
        model.to(device)
        model.eval()
        # speed-ups after loading: BN folding / micro-batch wrappers change
        # the module tree the checkpoint keys refer to
        return optimize_for_inference(model, speed=self.speed)

    def _init_pipeline(self, cfg: Config):
        """Preprocessing is done by :meth:`preprocess` (no mmcv pipeline)."""
        return None

    def _init_collate(self, cfg: Config):
        return None

    def _init_visualizer(self, cfg: Config):
        """Overlays are drawn by :func:`.overlay.draw_overlay`."""
        return None

    def _mano_layer(self, side: str):
        """The MANO layer of ``side`` (:class:`.hand_mesh.ManoMeshes`)."""
        return self.mano.layer(side)

    # ------------------------------------------------------------------
    # steps
    # ------------------------------------------------------------------
    def detect_persons(self, img: np.ndarray
                       ) -> List[Tuple[np.ndarray, Optional[float]]]:
        """Person boxes ``(xyxy float64, score)`` of a BGR image, left to
        right; the whole image (score None) without a detector or when it
        finds no person."""
        if self.detector is None:
            return whole_image_person(*img.shape[:2])
        return self.detector(img, self.det_cat_id, self.bbox_thr)

    def make_patch(self, img: np.ndarray, box_xyxy: np.ndarray
                   ) -> Optional[Dict[str, np.ndarray]]:
        """Network input of one person, see
        :func:`interwild_mm.apis.preprocess.make_patch`."""
        return make_patch(img, box_xyxy, self.body_box_mode,
                          self.input_size_wh)

    def preprocess(self, inputs: Sequence[np.ndarray], batch_size: int = 1,
                   **kwargs) -> Iterator[Tuple[torch.Tensor, list, list]]:
        """Yield batches ``(inputs (B,3,H,W), data_samples, owners)``.

        ``owners[i] = (image index, person dict)`` for every patch; persons of
        all given images are batched together, ``batch_size`` at a time.
        """
        persons = []
        for img in inputs:
            plist = []
            for box, score in self.detect_persons(img):
                prep = self.make_patch(img, box)
                if prep is not None:
                    plist.append(dict(body_bbox_xyxy=box,
                                      body_bbox_score=score, **prep))
            persons.append(plist)
        yield from iter_batches(inputs, persons, batch_size,
                                self.input_size_wh)

    def forward(self, inputs: torch.Tensor, data_samples: list,
                **kwargs) -> list:
        """Run ``InterWild.predict`` on a batch (inputs RGB in [0, 1]),
        under ``torch.inference_mode`` (``torch.no_grad`` if
        ``speed='none'``)."""
        param = next(self.model.parameters())
        inputs = inputs.to(device=param.device, dtype=param.dtype)
        with inference_context(self.speed):
            return self.model(inputs, data_samples, mode='predict')

    def predict_images(self, images: Sequence[np.ndarray], batch_size: int
                       ) -> List[List[Tuple[Dict[str, Any], Any]]]:
        """Per image, ``(person dict, PoseDataSample)`` of every person."""
        per_image: List[List[Tuple[Dict, Any]]] = [[] for _ in images]
        for batch, samples, owners in self.preprocess(images, batch_size):
            preds = self.forward(batch, samples)
            for (img_idx, person), ds in zip(owners, preds):
                per_image[img_idx].append((person, ds))
        return per_image

    def postprocess_person(self,
                           pred: Dict[str, np.ndarray],
                           person: Dict[str, Any],
                           focal: np.ndarray,
                           princpt: np.ndarray,
                           smoother: Optional[Dict[str, Any]] = None
                           ) -> Dict[str, Any]:
        """Turn one person's ``pred_instances`` into the output record
        (:func:`interwild_mm.apis.postprocess.person_record`); ``smoother``
        is ``dict(filter, t)`` in video mode."""
        smooth = None
        if smoother is not None:
            def smooth(hands, rel_trans):
                return smooth_hands(smoother['filter'], smoother.get('t'),
                                    hands, rel_trans, self.mano.forward)
        return person_record(pred, person, focal, princpt,
                             self.hand_score_thr, self.placement,
                             self.two_hand_mode, smooth)

    def visualize(self, image: np.ndarray, persons: List[Dict[str, Any]],
                  focal: np.ndarray, princpt: np.ndarray,
                  draw: bool = True) -> np.ndarray:
        """Overlay (:func:`interwild_mm.apis.overlay.draw_overlay`); a copy
        of ``image`` if not ``draw``."""
        if not draw:
            return image.copy()
        return draw_overlay(image, persons, self.faces, focal, princpt)

    def postprocess(self,
                    preds: List[Dict[str, Any]],
                    visualization: Optional[List[np.ndarray]] = None,
                    return_datasample: bool = False,
                    **kwargs) -> Dict[str, Any]:
        """Package result records the mmengine way: ``predictions``
        (JSON-able records) and ``visualization``."""
        out = []
        for rec in preds:
            item = self.to_json(rec, with_conventions=False) if \
                'persons' in rec else to_jsonable(rec)
            if return_datasample and 'data_samples' in rec:
                item['data_samples'] = rec['data_samples']
            out.append(item)
        return dict(predictions=out, visualization=visualization)

    @staticmethod
    def to_json(record: Dict[str, Any], with_conventions: bool = True
                ) -> Dict[str, Any]:
        """JSON-able copy of a result record (internal keys dropped)."""
        return record_to_json(record, with_conventions)

    def save_meshes(self, out_dir: str, name: str,
                    persons: List[Dict[str, Any]]) -> List[str]:
        """Write ``<name>_p<k>_{right,left,hands}.obj`` (real-camera
        metres)."""
        return save_person_meshes(out_dir, name, persons, self.faces)

    existing_outputs = staticmethod(existing_outputs)

    # ------------------------------------------------------------------
    # main entry
    # ------------------------------------------------------------------
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
                ``FileExistsError`` before doing anything.
            focal (Sequence[float], optional): ``fx[, fy]`` in original px.
            princpt (Sequence[float], optional): ``cx, cy`` in original px.
            rgb (bool): numpy inputs are RGB(A). Defaults to False (BGR).
            draw (bool): render the overlay. Defaults to True.
            save_meshes (bool): write OBJ files (images only).
            smooth (bool): One-Euro smoothing over video frames.
            smooth_cfg (dict, optional): ``min_cutoff``, ``beta``,
                ``d_cutoff`` of :class:`ManoOneEuroSmoother` (defaults 1.0,
                0.5, 1.0); the frequency is the video's frame rate.
            return_datasamples (bool): add the raw ``PoseDataSample`` list
                under ``'data_samples'``.
            return_overlay (bool): add the overlay under ``'overlay'``.

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
        check_out_dir(out_dir, items, overwrite)
        self.summary = InferenceSummary()
        opts = RunOptions(
            batch_size=batch_size, out_dir=out_dir, focal=focal,
            princpt=princpt, rgb=rgb, draw=draw, save_meshes=save_meshes,
            smooth=smooth, smooth_cfg=smooth_cfg,
            return_datasamples=return_datasamples,
            return_overlay=return_overlay)
        yield from run_images(self,
                              [it for it in items if it.kind != 'video'],
                              opts)
        for item in items:
            if item.kind == 'video':
                yield from run_video(self, item, opts)
        if len(items) > 1 or self.summary.failed or self.summary.degenerate:
            print_log(f'InterWildInferencer: {self.summary}', logger='current')
