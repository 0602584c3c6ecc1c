# Copyright (c) interwild_mm contributors.
"""InterWild (Moon, CVPR 2023): DetectNet -> HandRoI -> SHNet -> TransNet."""
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptMultiConfig,
                                 OptSampleList, SampleList)
from torch import Tensor

from interwild_mm.geometry.camera import fit_ortho_camera
from interwild_mm.geometry.crop import transform_points
from interwild_mm.geometry.sizes import InterWildSizes
from interwild_mm.mano.layer import ManoLayer  # noqa: F401 (registers it)
from ..utils.data_samples import gather_targets, to_instances
from ..utils.mano_coords import mano_crop_camera_coords

__all__ = ['InterWild', 'MOVED_LOSSES', 'sizes_from_model_cfg']

#: where each entry of the former ``InterWild(losses=...)`` lives now
MOVED_LOSSES = dict(
    bbox_center='detect_net.head.loss_center',
    bbox_size='detect_net.head.loss_size',
    rel_trans='trans_net.loss_rel_trans',
    mano_pose='shnet.loss_mano_pose',
    mano_shape='shnet.loss_mano_shape',
    joint_cam='shnet.loss_joint_cam',
    mano_mesh_cam='shnet.loss_mano_mesh_cam',
    joint_img='shnet.loss_joint_img',
    mano_joint_img='shnet.loss_mano_joint_img',
    joint_proj='shnet.loss_joint_proj',
)

#: per-hand raw outputs that :meth:`InterWild._forward` passes through
_PASSED_THROUGH = ('mano_mesh_cam', 'mano_joint_cam', 'mano_root_pose',
                   'mano_hand_pose', 'mano_shape', 'root_cam')


def sizes_from_model_cfg(model_cfg: Mapping) -> InterWildSizes:
    """The :class:`InterWildSizes` an InterWild config describes.

    The model-level sizes (``input_size``, ``body_input_size``,
    ``body_hm_shape``, ``crop_size``, ``hand_hm_shape``; defaults as
    :class:`InterWild`) and TransNet's volume ``trans_net.hm_shape``.
    """
    trans = dict(model_cfg.get('trans_net') or {}).get('hm_shape')
    fields = dict(
        input_hw=model_cfg.get('input_size'),
        body_input_hw=model_cfg.get('body_input_size'),
        body_grid_dhw=model_cfg.get('body_hm_shape'),
        crop_hw=model_cfg.get('crop_size'),
        hand_grid_dhw=model_cfg.get('hand_hm_shape'),
        trans_grid_dhw=trans)
    return InterWildSizes(**{k: v for k, v in fields.items() if v is not None})


def _shared(cfg: Mapping, owner: str, **values) -> dict:
    """A copy of a part config with the model-level ``values`` set; a value
    the part config gives itself must agree."""
    cfg = dict(cfg)
    for key, value in values.items():
        if key in cfg and tuple(cfg[key]) != tuple(value):
            raise ValueError(
                f'InterWild: {owner}.{key}={tuple(cfg[key])} differs from the '
                f'model\'s {key}={tuple(value)}; set it once, on the model.')
        cfg[key] = value
    return cfg


@MODELS.register_module()
class InterWild(BaseModel):
    """InterWild two-hand mesh recovery model.

    ``forward(inputs, data_samples, mode)`` with ``mode`` in
    ``{'tensor', 'loss', 'predict'}`` like an mmpose pose estimator.

    Pipeline: :class:`DetectNet` finds both hands in the body-resized
    image; :class:`HandRoI` crops them (square, doubled, detached boxes),
    mirrors the left crop and runs the hand backbone; the SHNet head
    (:class:`SHNetHead`) predicts 2.5D joints, MANO parameters and the root
    translation in each crop's virtual camera (left hand un-mirrored);
    MANO gives the meshes; :class:`TransNet` predicts the relative wrist
    translation.

    The model only orchestrates: each part computes its own loss terms
    (``loss_by_feat``, from its own ``loss_*`` config keys) on targets this
    model gathers once per batch, and every part takes its sizes from one
    :class:`InterWildSizes` built here.

    Args:
        detect_net (dict): :class:`DetectNet` config.
        hand_roi (dict): :class:`HandRoI` config.
        shnet (dict): SHNet head config.
        trans_net (dict): :class:`TransNet` config; its ``hm_shape`` is the
            TransNet volume of the sizes.
        mano (dict): ``ManoLayer`` kwargs shared by both hands (e.g.
            ``model_dir``); ``side`` is set per hand.
        losses (dict): no longer accepted (the loss terms moved into the
            parts' configs, see :data:`MOVED_LOSSES`); a clear error names
            the new place of each given key.
        focal (Sequence[float]): virtual crop-camera focal ``(fx, fy)``
            (also SHNet's, for the root depth).
        princpt (Sequence[float]): virtual principal point ``(cx, cy)``.
        input_size (Sequence[int]): network input ``(H, W)``, (512, 384).
        body_input_size (Sequence[int]): body input ``(H, W)``, (256, 192).
        body_hm_shape (Sequence[int]): body grid ``(D, H, W)``, (8, 64, 48).
        hand_hm_shape (Sequence[int]): hand grid ``(D, H, W)``, (8, 8, 8).
        crop_size (Sequence[int]): hand crop ``(H, W)``, (256, 256).
        train_cfg, test_cfg (dict, optional): kept for API compatibility.
        data_preprocessor (dict, optional): data preprocessor config.
        init_cfg (dict, optional): init config.
    """

    def __init__(self,
                 detect_net: ConfigType,
                 hand_roi: ConfigType,
                 shnet: ConfigType,
                 trans_net: ConfigType,
                 mano: Optional[dict] = None,
                 losses: Optional[dict] = None,
                 focal: Sequence[float] = (5000.0, 5000.0),
                 princpt: Sequence[float] = (128.0, 128.0),
                 input_size: Sequence[int] = (512, 384),
                 body_input_size: Sequence[int] = (256, 192),
                 body_hm_shape: Sequence[int] = (8, 64, 48),
                 hand_hm_shape: Sequence[int] = (8, 8, 8),
                 crop_size: Sequence[int] = (256, 256),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if losses is not None:
            raise ValueError(self._moved_losses_message(losses))
        self.sizes = sizes_from_model_cfg(
            dict(input_size=input_size, body_input_size=body_input_size,
                 body_hm_shape=body_hm_shape, crop_size=crop_size,
                 hand_hm_shape=hand_hm_shape, trans_net=trans_net))
        self.focal = tuple(float(f) for f in focal)
        self.princpt = tuple(float(c) for c in princpt)
        self.detect_net = MODELS.build(
            self.sizes.into(detect_net, 'detect_net'))
        self.hand_roi = MODELS.build(self.sizes.into(hand_roi, 'hand_roi'))
        self.shnet = MODELS.build(
            _shared(self.sizes.into(shnet, 'shnet'), 'shnet',
                    focal=self.focal))
        self.trans_net = MODELS.build(
            self.sizes.into(trans_net, 'trans_net'))
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or {}

        mano = dict(mano or {})
        mano.pop('side', None)
        mano.setdefault('type', 'ManoLayer')
        self.mano_layer_right = MODELS.build(dict(mano, side='right'))
        self.mano_layer_left = MODELS.build(dict(mano, side='left'))
        # ManoLayer holds no parameters and only non-persistent buffers:
        # licensed MANO data never enters a checkpoint.

    @staticmethod
    def _moved_losses_message(losses: Mapping) -> str:
        lines = [
            f'  losses.{k} -> model.{MOVED_LOSSES[k]}' for k in losses
            if k in MOVED_LOSSES
        ]
        unknown = sorted(set(losses) - set(MOVED_LOSSES))
        if unknown:
            lines.append(f'  (unknown terms {unknown}; the terms are '
                         f'{sorted(MOVED_LOSSES)})')
        return ('InterWild no longer takes `losses`: each loss term is '
                'configured on the part that predicts it. Remove '
                '`model.losses` and move its entries:\n' + '\n'.join(lines))

    # ------------------------------------------------------------------
    # forward
    def forward(self,
                inputs: Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList]:
        """Unified entry (mmengine ``BaseModel`` API).

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` RGB in [0, 1] (the input size).
            data_samples (list[PoseDataSample], optional): targets/metainfo.
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.
        """
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}"; only "tensor", "loss" '
                           'and "predict" are supported.')

    def _check_inputs(self, inputs: Tensor) -> None:
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(f'InterWild expects (N, 3, H, W) RGB inputs, got '
                             f'{tuple(inputs.shape)}.')
        if tuple(inputs.shape[2:]) != self.sizes.input_hw:
            raise ValueError(
                f'InterWild expects inputs of size {self.sizes.input_hw} '
                f'(H, W), got {tuple(inputs.shape[2:])}; crop/resize the '
                'person box to the network input size in the data pipeline.')

    def mano_coords(self, root_pose: Tensor, hand_pose: Tensor, shape: Tensor,
                    root_trans: Tensor, side: str) -> Dict[str, Tensor]:
        """MANO -> crop-camera coordinates of one hand
        (:func:`~interwild_mm.models.utils.mano_crop_camera_coords`).

        Args:
            side (str): ``'right'`` or ``'left'``; the other arguments and
                the outputs as in that function.
        """
        layer = self.mano_layer_right if side == 'right' \
            else self.mano_layer_left
        return mano_crop_camera_coords(layer, root_pose, hand_pose, shape,
                                       root_trans, self.focal, self.princpt,
                                       self.sizes)

    def forward_all(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Run every sub-network; return the raw per-hand quantities.

        Rows of the ``(N, ...)`` outputs follow ``inputs``. Units: DetectNet
        outputs in body-grid units, ``*_crop_box`` in body-input pixels,
        ``*joint_img`` / ``*joint_proj`` in each hand's (un-mirrored) hand
        grid, ``*mesh_cam`` / ``*joint_cam`` wrist-relative metres.
        """
        self._check_inputs(inputs)
        n = inputs.shape[0]
        det = self.detect_net(inputs)
        roi = self.hand_roi(inputs, det['rhand_center'], det['rhand_size'],
                            det['lhand_center'], det['lhand_size'])
        flip_mask = torch.zeros(2 * n, dtype=torch.bool, device=inputs.device)
        flip_mask[n:] = True
        sh = self.shnet.unmirror(self.shnet(roi['hand_feat']), flip_mask)
        out = dict(det)
        for s in ('r', 'l'):
            out[f'{s}hand_crop_box'] = roi[f'{s}hand_bbox']
            for key in ('orig2hand', 'hand2orig'):
                out[f'{s}hand_{key}'] = roi[f'{s}hand_{key}']
        for s, rows in (('r', slice(0, n)), ('l', slice(n, 2 * n))):
            for key in ('joint_img', 'mano_root_pose', 'mano_hand_pose',
                        'mano_shape'):
                out[s + key] = sh[key][rows]
            coords = self.mano_coords(sh['mano_root_pose'][rows],
                                      sh['mano_hand_pose'][rows],
                                      sh['mano_shape'][rows],
                                      sh['root_cam'][rows],
                                      'right' if s == 'r' else 'left')
            out[f'{s}mano_joint_cam'] = coords['joint_cam']
            out[f'{s}mano_mesh_cam'] = coords['mesh_cam']
            out[f'{s}root_cam'] = coords['root_cam']
            out[f'{s}joint_proj'] = coords['joint_proj']
        out['rel_trans'] = self.trans_net(
            out['rjoint_img'].detach(), out['ljoint_img'].detach(),
            out['rhand_hand2orig'].detach(), out['lhand_hand2orig'].detach())
        return out

    def grid_to_image(self, points: Tensor, hand2orig: Tensor) -> Tensor:
        """Hand-grid xy ``(N, P, 2+)`` -> input-image pixels."""
        return self.sizes.hand_grid_to_image(points[..., :2], hand2orig)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Test-mode outputs (``docs/official_conventions.md §1.11``), names
        and units as the official.

        Returns:
            dict[str, Tensor]: ``img``, ``rel_trans`` (N,3) m,
            ``r/lhand_bbox`` (N,4) xyxy body-input px,
            ``r/lhand_bbox_conf`` (N,), ``r/ljoint_img`` (N,21,3) xy input
            px + z bins, ``r/lmano_mesh_cam`` (N,778,3),
            ``r/lmano_joint_cam`` (N,21,3), ``r/lmano_root_pose`` (N,3),
            ``r/lmano_hand_pose`` (N,45), ``r/lmano_shape`` (N,10),
            ``r/lroot_cam`` (N,3), ``render_{r,l,}focal`` /
            ``render_{r,l,}princpt`` (N,2) input px.
        """
        raw = self.forward_all(inputs)
        out = dict(img=inputs, rel_trans=raw['rel_trans'])
        out.update(self.detect_net.head.predict_by_feat(raw))
        proj_img = {}
        for s in ('r', 'l'):
            h2o = raw[f'{s}hand_hand2orig']
            ji = raw[f'{s}joint_img']
            out[f'{s}joint_img'] = torch.cat(
                [self.grid_to_image(ji, h2o), ji[..., 2:]], dim=-1)
            proj_img[s] = self.grid_to_image(raw[f'{s}joint_proj'], h2o)
            for key in _PASSED_THROUGH:
                out[s + key] = raw[s + key]
            out[f'render_{s}focal'], out[f'render_{s}princpt'] = \
                fit_ortho_camera(
                    raw[f'{s}mano_joint_cam'] + raw[f'{s}root_cam'][:, None],
                    proj_img[s])
        both = torch.cat([
            raw['rmano_joint_cam'] + raw['rroot_cam'][:, None],
            raw['lmano_joint_cam'] +
            (raw['rroot_cam'] + raw['rel_trans'])[:, None]
        ], dim=1)
        out['render_focal'], out['render_princpt'] = fit_ortho_camera(
            both, torch.cat([proj_img['r'], proj_img['l']], dim=1))
        return out

    # ------------------------------------------------------------------
    # loss
    @property
    def target_specs(self) -> Dict[str, Tuple[int, ...]]:
        """Every target the parts' losses read: key -> per-sample shape."""
        return {
            **self.detect_net.head.TARGET_SPECS,
            **self.trans_net.TARGET_SPECS,
            **self.shnet.TARGET_SPECS
        }

    def gather_targets(self, data_samples: SampleList,
                       ref: Tensor) -> Dict[str, Tensor]:
        """The batch's targets, ``(N, ...)`` tensors like ``ref``."""
        return gather_targets(data_samples, self.target_specs, ref)

    def targets_to_crop_grid(self, coords: Tensor, trunc: Tensor,
                             orig2hand: Tensor) -> Tuple[Tensor, Tensor]:
        """Body-grid joint targets -> one hand's crop grid
        (:meth:`SHNetHead.targets_to_crop_grid`)."""
        return self.shnet.targets_to_crop_grid(coords, trunc, orig2hand)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Training losses (``docs/official_conventions.md §2``).

        One forward of every part, the targets gathered once, then the
        parts' terms: DetectNet head (boxes), TransNet (``rel_trans``), SHNet
        head (joints and MANO; its 2.5D targets move into the PREDICTED
        crops). Every term is the mean over all elements of a masked L1.
        """
        raw = self.forward_all(inputs)
        targets = self.gather_targets(data_samples, inputs)
        losses = self.detect_net.head.loss_by_feat(raw, targets)
        losses.update(self.trans_net.loss_by_feat(raw['rel_trans'], targets))
        hands = dict(
            joint_img=torch.cat([raw['rjoint_img'], raw['ljoint_img']], 1),
            joint_proj=torch.cat([raw['rjoint_proj'], raw['ljoint_proj']], 1),
            mano_joint_cam=torch.cat(
                [raw['rmano_joint_cam'], raw['lmano_joint_cam']], 1),
            mano_mesh_cam=torch.cat(
                [raw['rmano_mesh_cam'], raw['lmano_mesh_cam']], 1),
            mano_pose=torch.cat([
                raw['rmano_root_pose'], raw['rmano_hand_pose'],
                raw['lmano_root_pose'], raw['lmano_hand_pose']
            ], 1),
            mano_shape=torch.cat([raw['rmano_shape'], raw['lmano_shape']], 1))
        orig2hand = torch.stack(
            [raw['rhand_orig2hand'], raw['lhand_orig2hand']], dim=1)
        losses.update(self.shnet.loss_by_feat(hands, targets, orig2hand))
        return losses

    # ------------------------------------------------------------------
    # predict
    @staticmethod
    def _bb2img(data_sample, device, dtype) -> Tensor:
        mat = data_sample.metainfo.get('bb2img_trans', None)
        if mat is None:
            return torch.eye(3, device=device, dtype=dtype)[:2]
        mat = torch.as_tensor(np.asarray(mat), device=device, dtype=dtype)
        if mat.shape not in ((2, 3), (3, 3)):
            raise ValueError(f'metainfo bb2img_trans must be (2, 3), got '
                             f'{tuple(mat.shape)}.')
        return mat[:2]

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None
                ) -> SampleList:
        """Predict and pack ``pred_instances`` (one instance per image).

        Boxes and 2D joints are mapped to ORIGINAL-image pixels with the
        metainfo ``bb2img_trans`` (input -> original, identity if absent).
        Arrays are numpy ``float32`` with a leading instance dim of 1.
        """
        from mmpose.structures import PoseDataSample
        out = self._forward(inputs)
        n = inputs.shape[0]
        if data_samples is None:
            data_samples = [PoseDataSample() for _ in range(n)]
        if len(data_samples) != n:
            raise ValueError(f'{len(data_samples)} data_samples for a batch '
                             f'of {n} images.')
        m = torch.stack([
            self._bb2img(ds, inputs.device, inputs.dtype)
            for ds in data_samples
        ])
        preds = dict(
            rel_trans=out['rel_trans'],
            mesh_cam_two_hands=torch.cat([
                out['rmano_mesh_cam'] + out['rroot_cam'][:, None],
                out['lmano_mesh_cam'] +
                (out['rroot_cam'] + out['rel_trans'])[:, None]
            ], dim=1))
        for s in ('r', 'l'):
            box = self.sizes.body_input_box_to_input(out[f'{s}hand_bbox'])
            corners = box[:, [0, 1, 2, 1, 0, 3, 2, 3]].reshape(n, 4, 2)
            corners = transform_points(corners, m)
            preds[f'{s}hand_bbox'] = torch.cat(
                [corners.amin(1), corners.amax(1)], dim=-1)
            preds[f'{s}hand_bbox_score'] = out[f'{s}hand_bbox_conf']
            preds[f'{s}joint_img'] = transform_points(
                out[f'{s}joint_img'][..., :2], m)
            for key in _PASSED_THROUGH:
                preds[s + key] = out[s + key]
        for ds, inst in zip(data_samples, to_instances(preds)):
            ds.pred_instances = inst
        return data_samples

