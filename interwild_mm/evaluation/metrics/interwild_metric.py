# Copyright (c) interwild_mm contributors.
"""InterWild evaluation protocol (docs/official_conventions.md §4) as an
mmengine metric."""
import warnings
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.registry import METRICS

from ..functional import (box_iou_xyxy, intaghand_align,
                          mean_of_per_joint_means, mesh_bbox_xyxy,
                          per_joint_means, point_errors, procrustes_align,
                          regress_joints, root_align_joints, root_align_mesh)
from ._sample_io import (NUM_SH, SampleGeometry, as_dict, fetch, hand_type_of,
                         sample_id, to_numpy)

_HANDS = ('right', 'left')


@METRICS.register_module()
class InterWildMetric(BaseMetric):
    """InterWild's two-hand 3D metric (docs/official_conventions.md §4).

    Units: millimetres for every distance, IoU x100. Predictions are read
    from ``data_sample.pred_instances`` and GT from
    ``data_sample.gt_instances`` / metainfo (every instance field has a
    leading dimension 1).

    Root alignment: each hand's mesh is made relative to its wrist
    ``joint_regressor[0] @ mesh`` (GT and prediction alike); joint sets are
    made relative to their own wrist joint (TH indices 0 and 21).

    Protocols (``protocol=``):

    * ``'interhand26m'``: ``MPJPE_single`` / ``MPJPE_interacting`` = mean of
      the 42 per-joint means over single-hand (GT ``hand_type`` right or
      left) / interacting samples, ``MPJPE_all`` = mean of those 84
      per-joint means; a joint counts where the joint mask (below) and its
      hand's wrist are valid. ``MPVPE_*`` per hand: single-hand samples
      score only the annotated hand, interacting samples each hand with a
      MANO fit (``gt_mesh_valid``); ``MPVPE_all`` = mean of the concatenated
      per-hand values. ``MRRPE`` = ``|(L_wrist - R_wrist)_gt - rel_trans|``
      on every sample with both GT wrists valid (hand type not checked).
      ``RRVE`` on interacting samples with both fits and both GT wrists
      valid. ``IoU_*`` against ``gt_*hand_bbox`` where
      ``gt_hand_bbox_valid``.
    * ``'hic'``: ``MPVPE_*`` as above; ``MRRPE`` on interacting samples,
      GT relative wrist = regressed wrist(left) - wrist(right) of the GT
      meshes; ``RRVE`` on interacting samples with both meshes; ``IoU_*``
      against the box of the GT mesh projected with ``hic_focal`` /
      ``hic_princpt`` and scaled x1.2, for each hand with a mesh.
    * ``'reinterhand'``: ``MPJPE_all`` over the 42 joints regressed from the
      GT meshes (hands with a fit), ``MPVPE_all`` over both hands of every
      sample (hands with a fit), ``RRVE`` and ``MRRPE`` with the GT relative
      wrist from ``gt_joint_cam`` (both wrists valid), ``IoU_*`` for valid
      boxes.
    * ``'coco'``: ``IoU_*`` only.

    Validity choices. The defaults are the official ones (InterWild commit
    7c01e4a), so published numbers are reproduced;
    ``strict_validity=True`` selects stricter masks:

    * Joint mask of MPJPE and the wrists of MRRPE / RRVE. Official
      (default): ``gt_joint_valid``, i.e. the InterHand2.6M data-json flags
      with a hand zeroed when its wrist is invalid
      (docs/official_conventions.md §3.2, §4): a joint annotated in 2D but
      without a valid 3D annotation is still scored. Strict:
      ``gt_joint_valid & gt_joint_valid_3d`` (the joint_3d flags); without
      a ``gt_joint_valid_3d`` field strict mode falls back to
      ``gt_joint_valid`` and warns once.
    * HIC MRRPE. Official (default): every interacting sample; a missing GT
      mesh is zero-filled, so its regressed wrist is 0 (§4). Strict:
      interacting samples with both GT meshes.
    * HIC RRVE: interacting samples with both GT meshes in both modes (the
      official rule; a missing mesh would have no vertices to compare).
    * A joint with no valid sample in a list (e.g. a left-hand joint when
      the split holds only right-hand samples): its per-joint mean is 0/0,
      which makes the official mean of per-joint means NaN. This metric
      leaves such joints out of the mean in both modes and reports how many
      it left out as ``<metric>_joints_skipped`` (e.g.
      ``MPJPE_single_joints_skipped``, a float so mmengine logs it); with 0
      skipped joints the number equals the official one.

    ``RRVE``: the left meshes (root-aligned) are shifted by the GT resp.
    predicted relative translation and the vertex error is averaged over
    all 2x778 vertices. Its GT relative translation is the loader's
    ``rel_trans`` target, i.e. the GT joint wrists' difference
    ``gt_joint_cam[21] - gt_joint_cam[0]`` for InterHand2.6M and
    ReInterHand, and the GT meshes' regressed wrists' difference for HIC (no
    joints).

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
        strict_validity (bool): use the stricter masks described above
            instead of the official ones. Defaults to False (official).
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
                 strict_validity: bool = False,
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
        self.strict_validity = bool(strict_validity)
        self.pa_metrics = pa_metrics
        self.intaghand_metrics = intaghand_metrics
        self.hic_focal = tuple(float(f) for f in hic_focal)
        self.hic_princpt = tuple(float(c) for c in hic_princpt)
        self.hic_bbox_extension = float(hic_bbox_extension)
        self._warned_no_valid_3d = False
        self._joint_regressor: Optional[np.ndarray] = None
        if joint_regressor is not None:
            self._joint_regressor = self._check_regressor(
                to_numpy(joint_regressor))

    # ------------------------------------------------------------------
    # joint regressor
    # ------------------------------------------------------------------
    @staticmethod
    def _check_regressor(reg: np.ndarray) -> np.ndarray:
        if reg.ndim != 2 or reg.shape[0] != NUM_SH:
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
                to_numpy(layer.joint_regressor))
        return self._joint_regressor

    def _get(self, container: Optional[dict], name: str, shape: tuple,
             where: str) -> np.ndarray:
        return fetch(container, name, shape, where, self.protocol)

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
            self.results.append(self._evaluate_sample(as_dict(sample)))

    def _evaluate_sample(self, d: dict) -> dict:
        pred = d.get('pred_instances', None)
        gt = d.get('gt_instances', None)
        if pred is None:
            raise KeyError('data_sample has no pred_instances; run the model '
                           'in predict mode before evaluation.')
        hand_type = hand_type_of(d)
        if self.protocol in ('interhand26m', 'hic') and hand_type is None:
            raise KeyError(f"protocol '{self.protocol}' needs the metainfo "
                           "'hand_type' ('right'|'left'|'interacting').")
        rec: Dict[str, Any] = dict(id=sample_id(d), hand_type=hand_type)
        if self.protocol != 'coco':
            self._eval_3d(pred, gt, hand_type, rec)
        self._eval_boxes(pred, gt, rec)
        return rec

    def _eval_3d(self, pred: dict, gt: dict, hand_type: Optional[str],
                 rec: dict) -> None:
        """Meshes, joints, MRRPE, RRVE and the optional extras."""
        g = self._eval_meshes(pred, gt, hand_type, rec)
        if self.protocol in ('interhand26m', 'reinterhand'):
            self._eval_joints(pred, gt, g, rec)
        self._eval_mrrpe(g, rec)
        self._eval_rrve(g, rec)
        self._eval_extras(g, rec)

    def _joint_mask(self, gt: dict) -> np.ndarray:
        """``(42,)`` bool joint mask of the GT joints (see class doc)."""
        valid = self._get(gt, 'gt_joint_valid', (2 * NUM_SH, ),
                          'gt_instances') > 0
        if not self.strict_validity:
            return valid
        if 'gt_joint_valid_3d' in gt:
            return valid & (
                self._get(gt, 'gt_joint_valid_3d',
                          (2 * NUM_SH, ), 'gt_instances') > 0)
        if not self._warned_no_valid_3d:
            self._warned_no_valid_3d = True
            warnings.warn(
                'InterWildMetric(strict_validity=True): the samples carry no '
                "'gt_joint_valid_3d' (3D joint validity); falling back to "
                "'gt_joint_valid'. Pack gt_joint_valid_3d in the data "
                'pipeline to use the strict joint mask.')
        return valid

    def _eval_meshes(self, pred: dict, gt: dict, hand_type: Optional[str],
                     rec: dict) -> SampleGeometry:
        """Read and root-align both meshes; per-hand MPVPE and its mask."""
        reg = self.joint_regressor
        nv = reg.shape[1]
        gt_mesh = self._get(gt, 'gt_mesh_cam', (2 * nv, 3),
                            'gt_instances').reshape(2, nv, 3) * 1000.
        mesh_fit = self._get(gt, 'gt_mesh_valid', (2, ), 'gt_instances') > 0
        pred_mesh = np.stack([
            self._get(pred, f'{h[0]}mano_mesh_cam', (nv, 3), 'pred_instances')
            for h in _HANDS
        ]) * 1000.
        g = SampleGeometry(
            hand_type=hand_type,
            gt_mesh=gt_mesh,
            pred_mesh=pred_mesh,
            gt_mesh_al=root_align_mesh(gt_mesh, reg),
            pred_mesh_al=root_align_mesh(pred_mesh, reg),
            mesh_fit=mesh_fit,
            rel_pred=self._get(pred, 'rel_trans',
                               (3, ), 'pred_instances') * 1000.)
        # MPVPE selection: single-hand samples only score the annotated hand
        if self.protocol == 'reinterhand' or g.is_inter:
            mesh_sel = mesh_fit.copy()
        else:
            mesh_sel = mesh_fit & np.array([h == hand_type for h in _HANDS])
        rec['mesh_err'] = point_errors(g.pred_mesh_al, g.gt_mesh_al).mean(-1)
        rec['mesh_valid'] = mesh_sel
        return g

    def _eval_joints(self, pred: dict, gt: dict, g: SampleGeometry,
                     rec: dict) -> None:
        """Per-joint errors (MPJPE) and their validity."""
        g.gt_joint = self._get(gt, 'gt_joint_cam',
                               (2 * NUM_SH, 3), 'gt_instances') * 1000.
        g.joint_valid = self._joint_mask(gt)
        if self.protocol == 'interhand26m':
            gt_j = g.gt_joint.reshape(2, NUM_SH, 3)
            j_valid = g.joint_valid.reshape(2, NUM_SH).copy()
            j_valid &= j_valid[:, :1]  # no valid wrist -> hand not scored
        else:  # reinterhand: joints regressed from the GT meshes
            gt_j = regress_joints(g.gt_mesh, self.joint_regressor)
            j_valid = np.repeat(g.mesh_fit[:, None], NUM_SH, axis=1)
        pred_j = np.stack([
            self._get(pred, f'{h[0]}mano_joint_cam',
                      (NUM_SH, 3), 'pred_instances') for h in _HANDS
        ]) * 1000.
        rec['joint_err'] = point_errors(
            root_align_joints(pred_j), root_align_joints(gt_j)).reshape(-1)
        rec['joint_valid'] = j_valid.reshape(-1)
        if self.pa_metrics:
            pa_err = np.zeros((2, NUM_SH))
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

    def _rel_gt(self, g: SampleGeometry) -> np.ndarray:
        """GT left-minus-right wrist (mm): joint wrists where the protocol
        has GT joints, else the regressed wrists of the GT meshes with a
        missing mesh zero-filled (wrist 0, as the official HIC loader)."""
        if g.gt_joint is not None:
            return g.gt_joint[NUM_SH] - g.gt_joint[0]
        wrist = regress_joints(g.gt_mesh, self.joint_regressor[:1])[:, 0]
        wrist = np.where(g.mesh_fit[:, None], wrist, 0.0)
        return wrist[1] - wrist[0]

    def _eval_mrrpe(self, g: SampleGeometry, rec: dict) -> None:
        """MRRPE: relative wrist translation error."""
        if self.protocol == 'hic':
            ok = g.is_inter and (g.both_fits or not self.strict_validity)
        else:
            ok = g.wrists_ok
        rec['mrrpe_valid'] = bool(ok)
        rec['mrrpe'] = float(np.linalg.norm(self._rel_gt(g) - g.rel_pred))

    def _eval_rrve(self, g: SampleGeometry, rec: dict) -> None:
        """RRVE: two-hand vertex error with the left hand placed by the
        GT / predicted relative translation."""
        if self.protocol == 'reinterhand':
            ok = g.both_fits and g.wrists_ok
        elif self.protocol == 'interhand26m':
            ok = g.is_inter and g.both_fits and g.wrists_ok
        else:  # hic
            ok = g.is_inter and g.both_fits
        rec['rrve_valid'] = bool(ok)
        shift_gt = np.stack([np.zeros(3), self._rel_gt(g)])[:, None]
        shift_pred = np.stack([np.zeros(3), g.rel_pred])[:, None]
        rec['rrve'] = float(
            point_errors(g.pred_mesh_al + shift_pred,
                         g.gt_mesh_al + shift_gt).mean())

    def _eval_extras(self, g: SampleGeometry, rec: dict) -> None:
        """PA-MPVPE and the IntagHand-style numbers (optional)."""
        if self.pa_metrics:
            pa_mesh = np.zeros(2)
            for h in range(2):
                if rec['mesh_valid'][h]:
                    aligned = procrustes_align(g.pred_mesh[h], g.gt_mesh[h])
                    pa_mesh[h] = point_errors(aligned, g.gt_mesh[h]).mean()
            rec['pa_mesh_err'] = pa_mesh
        if self.intaghand_metrics:
            ok = g.both_fits and (self.protocol == 'reinterhand' or g.is_inter)
            rec['intag_valid'] = bool(ok)
            pj, gj, pv, gv = intaghand_align(g.pred_mesh, g.gt_mesh,
                                             self.joint_regressor)
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
        """Means of per-joint means and, per number, the count of joints
        left out because no sample has them valid."""
        err = np.stack([r[err_key] for r in recs])
        valid = np.stack([r[valid_key] for r in recs])
        if split:
            single, inter = self._split_masks(recs)
            m_sh, _ = per_joint_means(err, valid & single[:, None])
            m_ih, _ = per_joint_means(err, valid & inter[:, None])
            lists = dict(single=[m_sh], interacting=[m_ih], all=[m_sh, m_ih])
        else:
            means, _ = per_joint_means(err, valid)
            lists = dict(all=[means])
        out = OrderedDict()
        for key, per_joint in lists.items():
            out[f'{name}_{key}'] = mean_of_per_joint_means(*per_joint)
        for key, per_joint in lists.items():
            out[f'{name}_{key}_joints_skipped'] = float(
                sum(int(np.isnan(m).sum()) for m in per_joint))
        return out

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

    def _metrics_3d(self, recs: List[dict]) -> Dict[str, float]:
        """MPJPE, MPVPE, MRRPE and RRVE of the 3D protocols."""
        p = self.protocol
        metrics: Dict[str, float] = OrderedDict()
        if p in ('interhand26m', 'reinterhand'):
            metrics.update(
                self._joint_metrics(
                    recs,
                    'joint_err',
                    'joint_valid',
                    'MPJPE',
                    split=p == 'interhand26m'))
        metrics.update(
            self._mesh_metrics(
                recs, 'mesh_err', 'MPVPE', split=p in ('interhand26m', 'hic')))
        metrics['MRRPE'] = self._mean(
            [[r['mrrpe'] for r in recs if r['mrrpe_valid']]])
        metrics['RRVE'] = self._mean(
            [[r['rrve'] for r in recs if r['rrve_valid']]])
        return metrics

    def _metrics_extra(self, recs: List[dict]) -> Dict[str, float]:
        """PA-MPJPE / PA-MPVPE and the IntagHand-style numbers."""
        p = self.protocol
        metrics: Dict[str, float] = OrderedDict()
        if self.pa_metrics:
            if p in ('interhand26m', 'reinterhand'):
                metrics.update(
                    self._joint_metrics(
                        recs,
                        'pa_joint_err',
                        'pa_joint_valid',
                        'PA_MPJPE',
                        split=p == 'interhand26m'))
            metrics.update(
                self._mesh_metrics(
                    recs,
                    'pa_mesh_err',
                    'PA_MPVPE',
                    split=p in ('interhand26m', 'hic')))
        if self.intaghand_metrics:
            sel = [r for r in recs if r['intag_valid']]
            j = v = float('nan')
            if sel:
                j = float(
                    np.stack([r['intag_joint_err']
                              for r in sel]).mean(0).mean())
                v = float(
                    np.stack([r['intag_mesh_err']
                              for r in sel]).mean(0).mean())
            metrics['IntagHand_MPJPE'] = j
            metrics['IntagHand_MPVPE'] = v
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Aggregate the per-sample records (after cross-rank collection).

        Args:
            results (list[dict]): records from :meth:`process` of all ranks.

        Returns:
            dict[str, float]: metric name -> value (mm; IoU x100; the
            ``*_joints_skipped`` entries are joint counts).
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
        if self.protocol != 'coco':
            metrics.update(self._metrics_3d(recs))

        iou = np.stack([r['iou'] for r in recs])
        iou_valid = np.stack([r['iou_valid'] for r in recs])
        metrics['IoU'] = self._mean([iou[iou_valid]])
        metrics['IoU_right'] = self._mean([iou[iou_valid[:, 0], 0]])
        metrics['IoU_left'] = self._mean([iou[iou_valid[:, 1], 1]])
        if self.protocol != 'coco':
            metrics.update(self._metrics_extra(recs))

        for key, count in metrics.items():
            if key.endswith('_joints_skipped') and count > 0:
                logger.info(
                    f'InterWildMetric: {key[:-len("_joints_skipped")]} left '
                    f'out {int(count)} joints without any valid sample (the '
                    'official code would report NaN).')
        nan_keys = [k for k, v in metrics.items() if np.isnan(v)]
        if nan_keys:
            logger.warning('InterWildMetric: no sample contributes to '
                           f'{nan_keys}; reported as NaN.')
        mode = 'strict validity' if self.strict_validity else 'official'
        logger.info(f'InterWildMetric({self.protocol}, {mode} masks): '
                    f'{len(recs)} samples.')
        return metrics
