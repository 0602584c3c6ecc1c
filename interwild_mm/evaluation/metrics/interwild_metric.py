# Copyright (c) interwild_mm contributors.
"""InterWild evaluation protocol (spec section 4) as an mmengine metric."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement
from mmpose.registry import METRICS

from ..functional import (box_iou_xyxy, intaghand_align,
                          mean_of_per_joint_means, mesh_bbox_xyxy,
                          per_joint_means, point_errors, procrustes_align,
                          regress_joints, root_align_joints, root_align_mesh)

_NUM_SH = 21
_HANDS = ('right', 'left')
_HAND_TYPES = ('right', 'left', 'interacting')


def _to_numpy(x: Any) -> np.ndarray:
    """Tensor / array / scalar / list -> float64 numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


@METRICS.register_module()
class InterWildMetric(BaseMetric):
    """InterWild's two-hand 3D metric (official protocol of spec section 4).

    Units: millimetres for every distance, IoU x100. Predictions are read
    from ``data_sample.pred_instances`` and GT from
    ``data_sample.gt_instances`` / metainfo (see the project brief's data
    sample contract; every instance field has a leading dimension 1).

    Root alignment: each hand's mesh is made relative to its wrist
    ``joint_regressor[0] @ mesh`` (GT and prediction alike); joint sets are
    made relative to their own wrist joint (TH indices 0 and 21).

    Protocols (``protocol=``):

    * ``'interhand26m'``: ``MPJPE_single`` / ``MPJPE_interacting`` = mean of
      the 42 per-joint means over single-hand (GT ``hand_type`` right or
      left) / interacting samples; a joint counts where ``gt_joint_valid``
      and its hand's wrist are valid. ``MPJPE_all`` = mean of those 84
      per-joint means. ``MPVPE_*`` per hand: single-hand samples score only
      the annotated hand, interacting samples each hand with a MANO fit
      (``gt_mesh_valid``); ``MPVPE_all`` = mean of the concatenated per-hand
      values. ``MRRPE`` = ``|(L_wrist - R_wrist)_gt - rel_trans|`` on every
      sample with both GT wrists valid (hand type not checked). ``RRVE`` on
      interacting samples with both fits and both GT wrists valid (see
      below). ``IoU_*`` against
      ``gt_*hand_bbox`` where ``gt_hand_bbox_valid``.
    * ``'hic'``: ``MPVPE_*`` as above; ``MRRPE`` only on interacting
      samples, GT relative wrist = regressed wrist(left) - wrist(right) of
      the GT meshes (samples missing a GT mesh are left out); ``RRVE``;
      ``IoU_*`` against the box of the GT mesh projected with
      ``hic_focal`` / ``hic_princpt`` and scaled x1.2, for each hand with a
      mesh.
    * ``'reinterhand'``: ``MPJPE_all`` over the 42 joints regressed from the
      GT meshes (hands with a fit), ``MPVPE_all`` over both hands of every
      sample (hands with a fit), ``RRVE`` and ``MRRPE`` with the GT relative
      wrist from ``gt_joint_cam`` (both wrists valid), ``IoU_*`` for valid
      boxes.
    * ``'coco'``: ``IoU_*`` only.

    ``RRVE``: the left meshes (root-aligned) are shifted by the GT resp.
    predicted relative translation and the vertex error is averaged over
    all 2x778 vertices. Its GT relative translation is the loader's
    ``rel_trans`` target, i.e. the GT joint wrists' difference
    ``gt_joint_cam[21] - gt_joint_cam[0]`` for InterHand2.6M and
    ReInterHand (as in the official ReInterHand code; the spec does not
    spell it out for InterHand2.6M), and the GT meshes' regressed wrists'
    difference for HIC (no joints).

    ``IoU`` (pooled over both hands) is InterWild's printed "bbox IoU";
    ``IoU_right`` / ``IoU_left`` split it per hand.

    Optional extras, reported next to the official numbers:

    * ``pa_metrics=True``: ``PA_MPJPE_*`` / ``PA_MPVPE_*`` with the same
      sample/joint selection, after a per-hand similarity (Procrustes)
      alignment (mmpose ``compute_similarity_transform``) computed on the
      valid joints (needs >= 3) resp. on all vertices.
    * ``intaghand_metrics=True``: ``IntagHand_MPJPE`` / ``IntagHand_MPVPE``
      (IntagHand, Li et al. CVPR 2022): interacting samples with both GT
      meshes (every such sample for ReInterHand); joints regressed from the
      meshes; root = middle MCP (SH joint 9); prediction scaled by the GT /
      predicted wrist-to-middle-MCP length; errors averaged per hand over
      samples and joints (vertices), then over the two hands.

    Samples are de-duplicated by their id (metainfo ``id``, else ``img_id``)
    so a sample padded by the distributed sampler is counted once.

    Args:
        protocol (str): ``'interhand26m'``, ``'hic'``, ``'reinterhand'`` or
            ``'coco'``.
        mano_dir (str, optional): MANO model folder for
            ``interwild_mm.mano.layer.ManoLayer`` (``None`` = env variable /
            default). Used to get the 21x778 SH joint regressor when
            ``joint_regressor`` is not given.
        joint_regressor (array, optional): explicit ``(21, V)`` SH joint
            regressor (row 0 = wrist); overrides ``mano_dir``.
        pa_metrics (bool): also report PA-MPJPE / PA-MPVPE.
        intaghand_metrics (bool): also report the IntagHand-style numbers.
        hic_focal (tuple[float, float]): HIC focal length (px).
        hic_princpt (tuple[float, float]): HIC principal point (px).
        hic_bbox_extension (float): HIC GT box scale about its centre.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): prefix of the metric names.
    """

    default_prefix: Optional[str] = None
    PROTOCOLS = ('interhand26m', 'hic', 'reinterhand', 'coco')

    def __init__(self,
                 protocol: str = 'interhand26m',
                 mano_dir: Optional[str] = None,
                 joint_regressor: Optional[Union[np.ndarray,
                                                 torch.Tensor]] = None,
                 pa_metrics: bool = False,
                 intaghand_metrics: bool = False,
                 hic_focal: Tuple[float, float] = (525.0, 525.0),
                 hic_princpt: Tuple[float, float] = (319.5, 239.5),
                 hic_bbox_extension: float = 1.2,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in self.PROTOCOLS:
            raise ValueError(f'protocol must be one of {self.PROTOCOLS}, got '
                             f'{protocol!r}.')
        self.protocol = protocol
        self.mano_dir = mano_dir
        self.pa_metrics = pa_metrics
        self.intaghand_metrics = intaghand_metrics
        self.hic_focal = tuple(float(f) for f in hic_focal)
        self.hic_princpt = tuple(float(c) for c in hic_princpt)
        self.hic_bbox_extension = float(hic_bbox_extension)
        self._joint_regressor: Optional[np.ndarray] = None
        if joint_regressor is not None:
            self._joint_regressor = self._check_regressor(
                _to_numpy(joint_regressor))

    # ------------------------------------------------------------------
    # joint regressor
    # ------------------------------------------------------------------
    @staticmethod
    def _check_regressor(reg: np.ndarray) -> np.ndarray:
        if reg.ndim != 2 or reg.shape[0] != _NUM_SH:
            raise ValueError(
                f'joint_regressor must be the (21, V) SH joint regressor, '
                f'got shape {reg.shape}.')
        return reg

    @property
    def joint_regressor(self) -> np.ndarray:
        """``(21, V)`` float64 SH joint regressor (loaded on first use)."""
        if self._joint_regressor is None:
            from interwild_mm.mano.layer import ManoLayer
            layer = ManoLayer(model_dir=self.mano_dir)
            self._joint_regressor = self._check_regressor(
                _to_numpy(layer.joint_regressor))
        return self._joint_regressor

    # ------------------------------------------------------------------
    # input parsing
    # ------------------------------------------------------------------
    @staticmethod
    def _as_dict(sample: Any) -> dict:
        if isinstance(sample, BaseDataElement):
            return sample.to_dict()
        if isinstance(sample, dict):
            return sample
        raise TypeError('InterWildMetric.process expects PoseDataSample '
                        f'objects or their to_dict() dicts, got '
                        f'{type(sample).__name__}.')

    def _get(self, container: Optional[dict], name: str, shape: tuple,
             where: str) -> np.ndarray:
        """Fetch ``container[name]`` as float64 of ``shape``."""
        if container is None or name not in container:
            raise KeyError(
                f"InterWildMetric(protocol='{self.protocol}') needs "
                f"'{name}' in data_sample.{where}; add it in the dataset "
                '(and to PackPoseInputs mapping tables) or pick another '
                'protocol.')
        arr = _to_numpy(container[name])
        if arr.size != int(np.prod(shape)):
            raise ValueError(f'data_sample.{where}.{name} has shape '
                             f'{arr.shape}; expected {shape} (optionally '
                             'with a leading instance dimension of 1).')
        return arr.reshape(shape)

    @staticmethod
    def _sample_id(d: dict) -> Any:
        for key in ('id', 'img_id'):
            if key in d and d[key] is not None:
                sid = d[key]
                if isinstance(sid, torch.Tensor):
                    sid = sid.detach().cpu().numpy()
                if isinstance(sid, np.ndarray):
                    sid = sid.reshape(-1).tolist()
                    sid = sid[0] if len(sid) == 1 else tuple(sid)
                if isinstance(sid, np.generic):
                    sid = sid.item()
                if isinstance(sid, list):
                    sid = tuple(sid)
                return sid
        raise KeyError("InterWildMetric needs a sample id in the metainfo "
                       "('id' or 'img_id', e.g. via PackPoseInputs "
                       'meta_keys) to count each sample once.')

    @staticmethod
    def _hand_type(d: dict) -> Optional[str]:
        ht = d.get('hand_type', None)
        if ht is None:
            return None
        if isinstance(ht, np.ndarray) and ht.dtype.kind in 'USO' \
                and ht.size == 1:
            ht = ht.reshape(-1)[0]
        if isinstance(ht, (list, tuple)) and len(ht) == 1 \
                and isinstance(ht[0], (str, bytes)):
            ht = ht[0]
        if isinstance(ht, bytes):
            ht = ht.decode()
        if isinstance(ht, str):
            if ht not in _HAND_TYPES:
                raise ValueError(f'hand_type must be one of {_HAND_TYPES}, '
                                 f'got {ht!r}.')
            return ht
        flags = _to_numpy(ht).reshape(-1)
        if flags.size != 2:
            raise ValueError('hand_type must be a string or (right, left) '
                             f'flags, got {ht!r}.')
        r, l_ = bool(flags[0] > 0), bool(flags[1] > 0)
        if r and l_:
            return 'interacting'
        if r or l_:
            return 'right' if r else 'left'
        raise ValueError(f'hand_type flags {ht!r} mark no hand.')

    # ------------------------------------------------------------------
    # per-sample evaluation
    # ------------------------------------------------------------------
    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Score each sample and store a small per-sample record.

        Args:
            data_batch (Any): the batch from the dataloader (unused).
            data_samples (Sequence[dict | PoseDataSample]): model outputs
                with GT, as ``to_dict()`` dicts (what mmengine's evaluator
                passes) or data-sample objects.
        """
        for sample in data_samples:
            self.results.append(self._evaluate_sample(self._as_dict(sample)))

    def _evaluate_sample(self, d: dict) -> dict:
        pred = d.get('pred_instances', None)
        gt = d.get('gt_instances', None)
        if pred is None:
            raise KeyError('data_sample has no pred_instances; run the model '
                           'in predict mode before evaluation.')
        hand_type = self._hand_type(d)
        if self.protocol in ('interhand26m', 'hic') and hand_type is None:
            raise KeyError(f"protocol '{self.protocol}' needs the metainfo "
                           "'hand_type' ('right'|'left'|'interacting').")
        rec: Dict[str, Any] = dict(id=self._sample_id(d), hand_type=hand_type)
        if self.protocol != 'coco':
            self._eval_3d(pred, gt, hand_type, rec)
        self._eval_boxes(pred, gt, rec)
        return rec

    def _eval_3d(self, pred: dict, gt: dict, hand_type: Optional[str],
                 rec: dict) -> None:
        reg = self.joint_regressor
        num_verts = reg.shape[1]
        p = self.protocol
        is_inter = hand_type == 'interacting'

        # meshes (mm), root-aligned at the regressed wrist
        gt_mesh = self._get(gt, 'gt_mesh_cam',
                            (2 * num_verts, 3), 'gt_instances').reshape(
                                2, num_verts, 3) * 1000.
        mesh_fit = self._get(gt, 'gt_mesh_valid', (2, ), 'gt_instances') > 0
        pred_mesh = np.stack([
            self._get(pred, f'{h[0]}mano_mesh_cam',
                      (num_verts, 3), 'pred_instances') for h in _HANDS
        ]) * 1000.
        rel_pred = self._get(pred, 'rel_trans',
                             (3, ), 'pred_instances') * 1000.
        gt_mesh_al = root_align_mesh(gt_mesh, reg)
        pred_mesh_al = root_align_mesh(pred_mesh, reg)
        gt_mesh_wrist = regress_joints(gt_mesh, reg[:1])[:, 0]  # (2, 3)

        # MPVPE selection: single-hand samples only score the annotated hand
        if p == 'reinterhand' or is_inter:
            mesh_sel = mesh_fit.copy()
        else:
            mesh_sel = mesh_fit & np.array([h == hand_type for h in _HANDS])
        rec['mesh_err'] = point_errors(pred_mesh_al, gt_mesh_al).mean(-1)
        rec['mesh_valid'] = mesh_sel

        # joints
        gt_joint = wrists_ok = None
        if p in ('interhand26m', 'reinterhand'):
            gt_joint = self._get(gt, 'gt_joint_cam',
                                 (2 * _NUM_SH, 3), 'gt_instances') * 1000.
            joint_valid = self._get(gt, 'gt_joint_valid', (2 * _NUM_SH, ),
                                    'gt_instances') > 0
            wrists_ok = bool(joint_valid[0] and joint_valid[_NUM_SH])
        if p == 'interhand26m':
            gt_j = gt_joint.reshape(2, _NUM_SH, 3)
            j_valid = joint_valid.reshape(2, _NUM_SH).copy()
            j_valid &= j_valid[:, :1]  # no valid wrist -> hand not scored
        elif p == 'reinterhand':
            gt_j = regress_joints(gt_mesh, reg)  # (2, 21, 3)
            j_valid = np.repeat(mesh_fit[:, None], _NUM_SH, axis=1)
        if p in ('interhand26m', 'reinterhand'):
            pred_j = np.stack([
                self._get(pred, f'{h[0]}mano_joint_cam',
                          (_NUM_SH, 3), 'pred_instances') for h in _HANDS
            ]) * 1000.
            gt_j_al = root_align_joints(gt_j)
            pred_j_al = root_align_joints(pred_j)
            rec['joint_err'] = point_errors(pred_j_al, gt_j_al).reshape(-1)
            rec['joint_valid'] = j_valid.reshape(-1)
            if self.pa_metrics:
                pa_err = np.zeros((2, _NUM_SH))
                pa_valid = j_valid.copy()
                for h in range(2):
                    m = j_valid[h]
                    if m.sum() < 3:
                        pa_valid[h] = False
                        continue
                    aligned = procrustes_align(pred_j[h][m], gt_j[h][m])
                    pa_err[h][m] = point_errors(aligned, gt_j[h][m])
                rec['pa_joint_err'] = pa_err.reshape(-1)
                rec['pa_joint_valid'] = pa_valid.reshape(-1)

        if self.pa_metrics:
            pa_mesh = np.zeros(2)
            for h in range(2):
                if mesh_sel[h]:
                    aligned = procrustes_align(pred_mesh[h], gt_mesh[h])
                    pa_mesh[h] = point_errors(aligned, gt_mesh[h]).mean()
            rec['pa_mesh_err'] = pa_mesh

        # GT relative translation (left wrist - right wrist) and MRRPE
        both_fits = bool(mesh_fit.all())
        rel_gt_mesh = gt_mesh_wrist[1] - gt_mesh_wrist[0]
        if p in ('interhand26m', 'reinterhand'):
            rel_gt_joint = gt_joint[_NUM_SH] - gt_joint[0]
            mrrpe_ok = wrists_ok
            rel_gt_mrrpe = rel_gt_joint
        else:  # hic
            mrrpe_ok = is_inter and both_fits
            rel_gt_mrrpe = rel_gt_mesh
        rec['mrrpe_valid'] = bool(mrrpe_ok)
        rec['mrrpe'] = float(np.linalg.norm(rel_gt_mrrpe - rel_pred))

        # RRVE
        if p == 'reinterhand':
            rrve_ok = both_fits and wrists_ok
            rel_gt_rrve = rel_gt_joint
        elif p == 'interhand26m':
            rrve_ok = is_inter and both_fits and wrists_ok
            rel_gt_rrve = rel_gt_joint
        else:  # hic
            rrve_ok = is_inter and both_fits
            rel_gt_rrve = rel_gt_mesh
        rec['rrve_valid'] = bool(rrve_ok)
        shift_gt = np.stack([np.zeros(3), rel_gt_rrve])[:, None]
        shift_pred = np.stack([np.zeros(3), rel_pred])[:, None]
        rec['rrve'] = float(
            point_errors(pred_mesh_al + shift_pred,
                         gt_mesh_al + shift_gt).mean())

        # IntagHand-style protocol
        if self.intaghand_metrics:
            ok = both_fits and (p == 'reinterhand' or is_inter)
            rec['intag_valid'] = bool(ok)
            pj, gj, pv, gv = intaghand_align(pred_mesh, gt_mesh, reg)
            rec['intag_joint_err'] = point_errors(pj, gj).mean(-1)  # (2,)
            rec['intag_mesh_err'] = point_errors(pv, gv).mean(-1)  # (2,)

    def _eval_boxes(self, pred: dict, gt: Optional[dict], rec: dict) -> None:
        ious = np.zeros(2)
        valid = np.zeros(2, dtype=bool)
        if self.protocol == 'hic':
            num_verts = self.joint_regressor.shape[1]
            gt_mesh = self._get(gt, 'gt_mesh_cam', (2 * num_verts, 3),
                                'gt_instances').reshape(2, num_verts, 3)
            valid = self._get(gt, 'gt_mesh_valid', (2, ), 'gt_instances') > 0
            gt_boxes = np.zeros((2, 4))
            for h in range(2):
                if valid[h]:
                    gt_boxes[h] = mesh_bbox_xyxy(gt_mesh[h], self.hic_focal,
                                                 self.hic_princpt,
                                                 self.hic_bbox_extension)
        else:
            gt_boxes = np.stack([
                self._get(gt, f'gt_{h[0]}hand_bbox', (4, ), 'gt_instances')
                for h in _HANDS
            ])
            valid = self._get(gt, 'gt_hand_bbox_valid', (2, ),
                              'gt_instances') > 0
        if valid.any():
            pred_boxes = np.stack([
                self._get(pred, f'{h[0]}hand_bbox', (4, ), 'pred_instances')
                for h in _HANDS
            ])
            ious = box_iou_xyxy(pred_boxes, gt_boxes) * 100.
        rec['iou'] = np.where(valid, ious, 0.0)
        rec['iou_valid'] = valid

    # ------------------------------------------------------------------
    # aggregation
    # ------------------------------------------------------------------
    @staticmethod
    def _deduplicate(results: List[dict]) -> List[dict]:
        seen = set()
        unique = []
        for rec in results:
            key = rec['id']
            if key in seen:
                continue
            seen.add(key)
            unique.append(rec)
        return unique

    @staticmethod
    def _mean(values: List[np.ndarray]) -> float:
        flat = np.concatenate(
            [np.asarray(v, dtype=np.float64).reshape(-1)
             for v in values]) if values else np.zeros(0)
        return float(flat.mean()) if flat.size else float('nan')

    def _split_masks(self, recs: List[dict]) -> Tuple[np.ndarray, np.ndarray]:
        inter = np.array([r['hand_type'] == 'interacting' for r in recs],
                         dtype=bool)
        return ~inter, inter

    def _joint_metrics(self, recs: List[dict], err_key: str, valid_key: str,
                       name: str, split: bool) -> Dict[str, float]:
        err = np.stack([r[err_key] for r in recs])
        valid = np.stack([r[valid_key] for r in recs])
        if not split:
            means, _ = per_joint_means(err, valid)
            return {f'{name}_all': mean_of_per_joint_means(means)}
        single, inter = self._split_masks(recs)
        m_sh, _ = per_joint_means(err, valid & single[:, None])
        m_ih, _ = per_joint_means(err, valid & inter[:, None])
        return {
            f'{name}_single': mean_of_per_joint_means(m_sh),
            f'{name}_interacting': mean_of_per_joint_means(m_ih),
            f'{name}_all': mean_of_per_joint_means(m_sh, m_ih),
        }

    def _mesh_metrics(self, recs: List[dict], err_key: str, name: str,
                      split: bool) -> Dict[str, float]:
        err = np.stack([r[err_key] for r in recs])  # (N, 2)
        valid = np.stack([r['mesh_valid'] for r in recs])
        if not split:
            return {f'{name}_all': self._mean([err[valid]])}
        single, inter = self._split_masks(recs)
        sh = err[valid & single[:, None]]
        ih = err[valid & inter[:, None]]
        return {
            f'{name}_single': self._mean([sh]),
            f'{name}_interacting': self._mean([ih]),
            f'{name}_all': self._mean([sh, ih]),
        }

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Aggregate the per-sample records (after cross-rank collection).

        Args:
            results (list[dict]): records from :meth:`process` of all ranks.

        Returns:
            dict[str, float]: metric name -> value (mm; IoU x100).
        """
        logger = MMLogger.get_current_instance()
        recs = self._deduplicate(results)
        if len(recs) < len(results):
            logger.info(f'InterWildMetric: dropped {len(results) - len(recs)}'
                        ' duplicated (padded) samples.')
        metrics: Dict[str, float] = OrderedDict()
        if not recs:
            logger.warning('InterWildMetric: no samples to evaluate.')
            return metrics
        p = self.protocol
        split = p in ('interhand26m', 'hic')

        if p != 'coco':
            if p in ('interhand26m', 'reinterhand'):
                metrics.update(
                    self._joint_metrics(
                        recs,
                        'joint_err',
                        'joint_valid',
                        'MPJPE',
                        split=p == 'interhand26m'))
            metrics.update(
                self._mesh_metrics(recs, 'mesh_err', 'MPVPE', split))
            metrics['MRRPE'] = self._mean(
                [[r['mrrpe'] for r in recs if r['mrrpe_valid']]])
            metrics['RRVE'] = self._mean(
                [[r['rrve'] for r in recs if r['rrve_valid']]])

        iou = np.stack([r['iou'] for r in recs])
        iou_valid = np.stack([r['iou_valid'] for r in recs])
        metrics['IoU'] = self._mean([iou[iou_valid]])
        metrics['IoU_right'] = self._mean([iou[iou_valid[:, 0], 0]])
        metrics['IoU_left'] = self._mean([iou[iou_valid[:, 1], 1]])

        if p != 'coco' and self.pa_metrics:
            if p in ('interhand26m', 'reinterhand'):
                metrics.update(
                    self._joint_metrics(
                        recs,
                        'pa_joint_err',
                        'pa_joint_valid',
                        'PA_MPJPE',
                        split=p == 'interhand26m'))
            metrics.update(
                self._mesh_metrics(recs, 'pa_mesh_err', 'PA_MPVPE', split))
        if p != 'coco' and self.intaghand_metrics:
            sel = [r for r in recs if r['intag_valid']]
            if sel:
                j = np.stack([r['intag_joint_err'] for r in sel]).mean(0)
                v = np.stack([r['intag_mesh_err'] for r in sel]).mean(0)
                metrics['IntagHand_MPJPE'] = float(j.mean())
                metrics['IntagHand_MPVPE'] = float(v.mean())
            else:
                metrics['IntagHand_MPJPE'] = float('nan')
                metrics['IntagHand_MPVPE'] = float('nan')

        nan_keys = [k for k, v in metrics.items() if np.isnan(v)]
        if nan_keys:
            logger.warning('InterWildMetric: no sample contributes to '
                           f'{nan_keys}; reported as NaN.')
        logger.info(f'InterWildMetric({p}): {len(recs)} samples.')
        return metrics
