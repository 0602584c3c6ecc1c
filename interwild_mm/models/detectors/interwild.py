# Copyright (c) interwild_mm contributors.
"""InterWild (Moon, CVPR 2023): DetectNet -> HandRoI -> SHNet -> TransNet."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from interwild_mm.geometry.bbox import restore_bbox
from interwild_mm.geometry.camera import fit_ortho_camera, project_points
from interwild_mm.geometry.crop import transform_points
from interwild_mm.mano.layer import ManoLayer  # noqa: F401 (registers it)
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptMultiConfig,
                                 OptSampleList, SampleList)

#: default loss terms (spec section 2); ``joint_cam`` and ``mano_mesh_cam``
#: carry the internal x10.
DEFAULT_LOSSES = dict(
    bbox_center=dict(type='ParamLoss'),
    bbox_size=dict(type='ParamLoss'),
    rel_trans=dict(type='ParamLoss'),
    mano_pose=dict(type='ManoPoseLoss'),
    mano_shape=dict(type='ParamLoss'),
    joint_cam=dict(type='CoordLoss', loss_weight=10.0),
    mano_mesh_cam=dict(type='CoordLoss', loss_weight=10.0),
    joint_img=dict(type='CoordLoss'),
    mano_joint_img=dict(type='CoordLoss'),
    joint_proj=dict(type='CoordLoss'),
)

#: training targets read from ``gt_instance_labels`` (or ``gt_instances``).
TARGET_KEYS = (
    'joint_img', 'joint_trunc', 'joint_valid', 'joint_cam', 'mano_joint_img',
    'mano_joint_trunc', 'mano_mesh_cam', 'mano_mesh_valid', 'mano_pose',
    'mano_pose_valid', 'mano_shape', 'mano_shape_valid', 'rel_trans',
    'rel_trans_valid', 'rhand_bbox_center', 'lhand_bbox_center',
    'rhand_bbox_size', 'lhand_bbox_size', 'rhand_bbox_valid',
    'lhand_bbox_valid', 'is_3D')


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

    Args:
        detect_net (dict): :class:`DetectNet` config.
        hand_roi (dict): :class:`HandRoI` config.
        shnet (dict): SHNet head config.
        trans_net (dict): :class:`TransNet` config.
        mano (dict): ``ManoLayer`` kwargs shared by both hands (e.g.
            ``model_dir``); ``side`` is set per hand.
        losses (dict): term name -> loss config; keys of
            :data:`DEFAULT_LOSSES` (missing keys take the default).
        focal (Sequence[float]): virtual crop-camera focal ``(fx, fy)``.
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
        self.detect_net = MODELS.build(detect_net)
        hand_roi = dict(hand_roi)
        # sizes of the box restoration and crop (§1.4-1.5) from this config
        hand_roi.setdefault('body_hm_size', tuple(body_hm_shape[1:]))
        hand_roi.setdefault('body_input_size', tuple(body_input_size))
        hand_roi.setdefault('input_size', tuple(input_size))
        self.hand_roi = MODELS.build(hand_roi)
        self.shnet = MODELS.build(shnet)
        self.trans_net = MODELS.build(trans_net)
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or {}

        mano = dict(mano or {})
        mano.pop('side', None)
        mano.setdefault('type', 'ManoLayer')
        self.mano_layer_right = MODELS.build(dict(mano, side='right'))
        self.mano_layer_left = MODELS.build(dict(mano, side='left'))
        # ManoLayer holds no parameters and only non-persistent buffers:
        # licensed MANO data never enters a checkpoint.

        loss_cfgs = copy.deepcopy(DEFAULT_LOSSES)
        unknown = set(losses or {}) - set(loss_cfgs)
        if unknown:
            raise KeyError(f'InterWild: unknown loss terms {sorted(unknown)}; '
                           f'valid terms are {sorted(loss_cfgs)}.')
        loss_cfgs.update(copy.deepcopy(losses or {}))
        self.losses = nn.ModuleDict(
            {k: MODELS.build(v) for k, v in loss_cfgs.items()})

        self.focal = tuple(float(f) for f in focal)
        self.princpt = tuple(float(c) for c in princpt)
        self.input_size = tuple(int(s) for s in input_size)
        self.body_input_size = tuple(int(s) for s in body_input_size)
        self.body_hm_shape = tuple(int(s) for s in body_hm_shape)
        self.hand_hm_shape = tuple(int(s) for s in hand_hm_shape)
        self.crop_size = tuple(int(s) for s in crop_size)

    # ------------------------------------------------------------------
    # forward
    def forward(self,
                inputs: Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList]:
        """Unified entry (mmengine ``BaseModel`` API).

        Args:
            inputs (Tensor): ``(N, 3, 512, 384)`` RGB in [0, 1].
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
        if tuple(inputs.shape[2:]) != self.input_size:
            raise ValueError(
                f'InterWild expects inputs of size {self.input_size} (H, W), '
                f'got {tuple(inputs.shape[2:])}; crop/resize the person box '
                'to the network input size in the data pipeline.')

    def mano_coords(self, root_pose: Tensor, hand_pose: Tensor, shape: Tensor,
                    root_trans: Tensor, side: str) -> Dict[str, Tensor]:
        """MANO -> crop-camera coordinates (spec 1.9, ``get_coord``).

        Args:
            root_pose (Tensor): ``(N, 3)`` axis-angle.
            hand_pose (Tensor): ``(N, 45)`` axis-angle offsets from the mean.
            shape (Tensor): ``(N, 10)`` betas.
            root_trans (Tensor): ``(N, 3)`` wrist position (metres) in the
                hand's virtual crop camera.
            side (str): ``'right'`` or ``'left'``.

        Returns:
            dict[str, Tensor]: ``joint_cam`` ``(N, 21, 3)`` and ``mesh_cam``
            ``(N, 778, 3)`` wrist-relative (m), ``root_cam`` ``(N, 3)`` and
            ``joint_proj`` ``(N, 21, 2)`` in 8x8 crop-grid units.
        """
        layer = self.mano_layer_right if side == 'right' \
            else self.mano_layer_left
        out = layer(root_pose, hand_pose, shape)
        verts, joints = out['vertices'], out['joints']
        offset = root_trans[:, None] - joints[:, :1]
        joint_cam = joints + offset
        mesh_cam = verts + offset
        focal = joint_cam.new_tensor(self.focal)
        princpt = joint_cam.new_tensor(self.princpt)
        proj = project_points(joint_cam, focal, princpt)
        proj = proj * proj.new_tensor([
            self.hand_hm_shape[2] / self.crop_size[1],
            self.hand_hm_shape[1] / self.crop_size[0]
        ])
        root_cam = joint_cam[:, 0]
        return dict(
            joint_cam=joint_cam - root_cam[:, None],
            mesh_cam=mesh_cam - root_cam[:, None],
            root_cam=root_cam,
            joint_proj=proj)

    def forward_all(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Run every sub-network; return the raw per-hand quantities.

        Rows of the ``(N, ...)`` outputs follow ``inputs``. Units: DetectNet
        outputs in 48x64 heatmap units, ``*_crop_box`` in body-input pixels,
        ``*joint_img`` / ``*joint_proj`` in each hand's (un-mirrored) 8x8 crop
        grid, ``*mesh_cam`` / ``*joint_cam`` wrist-relative metres.
        """
        self._check_inputs(inputs)
        n = inputs.shape[0]
        det = self.detect_net(inputs)
        roi = self.hand_roi(inputs, det['rhand_center'], det['rhand_size'],
                            det['lhand_center'], det['lhand_size'])
        sh = self.shnet(roi['hand_feat'])
        flip_mask = torch.zeros(2 * n, dtype=torch.bool, device=inputs.device)
        flip_mask[n:] = True
        sh = self.shnet.unmirror(sh, flip_mask)
        out = dict(det)
        out.update(
            rhand_crop_box=roi['rhand_bbox'],
            lhand_crop_box=roi['lhand_bbox'],
            rhand_orig2hand=roi['rhand_orig2hand'],
            lhand_orig2hand=roi['lhand_orig2hand'],
            rhand_hand2orig=roi['rhand_hand2orig'],
            lhand_hand2orig=roi['lhand_hand2orig'])
        for side, rows in (('r', slice(0, n)), ('l', slice(n, 2 * n))):
            out[f'{side}joint_img'] = sh['joint_img'][rows]
            out[f'{side}mano_root_pose'] = sh['mano_root_pose'][rows]
            out[f'{side}mano_hand_pose'] = sh['mano_hand_pose'][rows]
            out[f'{side}mano_shape'] = sh['mano_shape'][rows]
            coords = self.mano_coords(sh['mano_root_pose'][rows],
                                      sh['mano_hand_pose'][rows],
                                      sh['mano_shape'][rows],
                                      sh['root_cam'][rows],
                                      'right' if side == 'r' else 'left')
            out[f'{side}mano_joint_cam'] = coords['joint_cam']
            out[f'{side}mano_mesh_cam'] = coords['mesh_cam']
            out[f'{side}root_cam'] = coords['root_cam']
            out[f'{side}joint_proj'] = coords['joint_proj']
        out['rel_trans'] = self.trans_net(
            out['rjoint_img'].detach(), out['ljoint_img'].detach(),
            out['rhand_hand2orig'].detach(), out['lhand_hand2orig'].detach())
        return out

    def grid_to_image(self, points: Tensor, hand2orig: Tensor) -> Tensor:
        """8x8 crop-grid xy ``(N, P, 2)`` -> input-image pixels."""
        scale = points.new_tensor([
            self.crop_size[1] / self.hand_hm_shape[2],
            self.crop_size[0] / self.hand_hm_shape[1]
        ])
        return transform_points(points[..., :2] * scale, hand2orig)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Test-mode outputs (spec 1.11), names and units as the official.

        Returns:
            dict[str, Tensor]: ``img``, ``rel_trans`` (N,3) m,
            ``r/lhand_bbox`` (N,4) xyxy body-input (192x256) px,
            ``r/lhand_bbox_conf`` (N,), ``r/ljoint_img`` (N,21,3) xy input
            px + z bins, ``r/lmano_mesh_cam`` (N,778,3),
            ``r/lmano_joint_cam`` (N,21,3), ``r/lmano_root_pose`` (N,3),
            ``r/lmano_hand_pose`` (N,45), ``r/lmano_shape`` (N,10),
            ``r/lroot_cam`` (N,3), ``render_{r,l,}focal`` /
            ``render_{r,l,}princpt`` (N,2) input px.
        """
        raw = self.forward_all(inputs)
        out = dict(img=inputs, rel_trans=raw['rel_trans'])
        proj_img = {}
        for s in ('r', 'l'):
            h2o = raw[f'{s}hand_hand2orig']
            ji = raw[f'{s}joint_img']
            out[f'{s}hand_bbox'] = restore_bbox(
                raw[f'{s}hand_center'], raw[f'{s}hand_size'], None, 1.0,
                self.body_hm_shape[1:], self.body_input_size)
            out[f'{s}hand_bbox_conf'] = raw[f'{s}hand_conf']
            out[f'{s}joint_img'] = torch.cat(
                [self.grid_to_image(ji, h2o), ji[..., 2:]], dim=-1)
            proj_img[s] = self.grid_to_image(raw[f'{s}joint_proj'], h2o)
            for key in ('mano_mesh_cam', 'mano_joint_cam', 'mano_root_pose',
                        'mano_hand_pose', 'mano_shape', 'root_cam'):
                out[s + key] = raw[s + key]
            focal, princpt = fit_ortho_camera(
                raw[f'{s}mano_joint_cam'] + raw[f'{s}root_cam'][:, None],
                proj_img[s])
            out[f'render_{s}focal'] = focal
            out[f'render_{s}princpt'] = princpt
        both = torch.cat([
            raw['rmano_joint_cam'] + raw['rroot_cam'][:, None],
            raw['lmano_joint_cam'] +
            (raw['rroot_cam'] + raw['rel_trans'])[:, None]
        ], dim=1)
        focal, princpt = fit_ortho_camera(
            both, torch.cat([proj_img['r'], proj_img['l']], dim=1))
        out['render_focal'] = focal
        out['render_princpt'] = princpt
        return out

    # ------------------------------------------------------------------
    # loss
    @staticmethod
    def gather_targets(data_samples: SampleList, device: torch.device,
                       dtype: torch.dtype,
                       keys: Sequence[str] = TARGET_KEYS) -> Dict[str, Tensor]:
        """Stack per-sample targets into ``(N, ...)`` tensors.

        Each key is read from ``gt_instance_labels`` (else ``gt_instances``);
        per-sample shapes are ``(1, ...)`` (one instance = the person).
        """
        if not data_samples:
            raise ValueError('InterWild.loss needs data_samples with targets.')
        out = {}
        for key in keys:
            vals = []
            for i, ds in enumerate(data_samples):
                src = None
                for field in ('gt_instance_labels', 'gt_instances'):
                    if field in ds and key in ds.get(field):
                        src = ds.get(field).get(key)
                        break
                if src is None:
                    raise KeyError(
                        f'InterWild.loss: target "{key}" missing in sample '
                        f'{i}; the training pipeline must pack {list(keys)} '
                        'into gt_instance_labels (see the brief).')
                vals.append(torch.as_tensor(np.asarray(src) if not isinstance(
                    src, Tensor) else src).reshape(1, -1))
            v = torch.cat(vals).to(device=device, dtype=dtype)
            out[key] = v
        n = len(data_samples)
        shapes = dict(
            joint_img=(n, -1, 3), joint_cam=(n, -1, 3),
            mano_joint_img=(n, -1, 3), mano_mesh_cam=(n, -1, 3),
            joint_trunc=(n, -1, 1), joint_valid=(n, -1, 1),
            mano_joint_trunc=(n, -1, 1), mano_mesh_valid=(n, -1, 1),
            rel_trans_valid=(n, 1), rhand_bbox_valid=(n, 1),
            lhand_bbox_valid=(n, 1), is_3D=(n, 1))
        for key, shp in shapes.items():
            if key in out:
                out[key] = out[key].reshape(shp)
        return out

    def targets_to_crop_grid(self, coords: Tensor, trunc: Tensor,
                             orig2hand: Tensor) -> Tuple[Tensor, Tensor]:
        """Body-grid joint targets -> one hand's 8x8x8 crop grid (spec 2).

        Args:
            coords (Tensor): ``(N, J, 3)`` in the 48x64x8 body grid.
            trunc (Tensor): ``(N, J, 1)`` validity.
            orig2hand (Tensor): ``(N, 2, 3)`` input-image -> crop pixels of
                the PREDICTED crop box (left not mirrored).

        Returns:
            tuple[Tensor, Tensor]: coordinates ``(N, J, 3)`` in the crop grid
            and the re-evaluated truncation ``(N, J, 1)`` (valid only inside
            ``[0, W) x [0, H)``).
        """
        d_b, h_b, w_b = self.body_hm_shape
        d_h, h_h, w_h = self.hand_hm_shape
        to_img = coords.new_tensor(
            [self.input_size[1] / w_b, self.input_size[0] / h_b])
        to_grid = coords.new_tensor(
            [w_h / self.crop_size[1], h_h / self.crop_size[0]])
        xy = transform_points(coords[..., :2] * to_img, orig2hand)
        xy = xy * to_grid
        z = coords[..., 2:] * (d_h / d_b)
        inside = ((xy[..., 0] >= 0) & (xy[..., 0] < w_h) & (xy[..., 1] >= 0)
                  & (xy[..., 1] < h_h))
        return torch.cat([xy, z], dim=-1), trunc * inside[..., None].to(
            trunc.dtype)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Training losses (spec section 2), named ``loss_<term>``.

        Every term is the mean over all elements of the masked elementwise
        L1 (invalid entries count as zeros); crops come from the PREDICTED
        boxes.
        """
        raw = self.forward_all(inputs)
        t = self.gather_targets(data_samples, inputs.device, inputs.dtype)
        L = self.losses
        losses = {}
        for s in ('rhand', 'lhand'):
            valid = t[f'{s}_bbox_valid']
            losses[f'loss_{s}_bbox_center'] = L['bbox_center'](
                raw[f'{s[0]}hand_center'], t[f'{s}_bbox_center'], valid)
            losses[f'loss_{s}_bbox_size'] = L['bbox_size'](
                raw[f'{s[0]}hand_size'], t[f'{s}_bbox_size'], valid)
        losses['loss_rel_trans'] = L['rel_trans'](raw['rel_trans'],
                                                  t['rel_trans'],
                                                  t['rel_trans_valid'])
        mano_pose = torch.cat([
            raw['rmano_root_pose'], raw['rmano_hand_pose'],
            raw['lmano_root_pose'], raw['lmano_hand_pose']
        ], dim=1)
        losses['loss_mano_pose'] = L['mano_pose'](mano_pose, t['mano_pose'],
                                                  t['mano_pose_valid'])
        mano_shape = torch.cat([raw['rmano_shape'], raw['lmano_shape']], 1)
        losses['loss_mano_shape'] = L['mano_shape'](mano_shape,
                                                    t['mano_shape'],
                                                    t['mano_shape_valid'])
        joint_cam = torch.cat([raw['rmano_joint_cam'], raw['lmano_joint_cam']],
                              dim=1)
        losses['loss_joint_cam'] = L['joint_cam'](
            joint_cam, t['joint_cam'],
            t['joint_valid'] * t['is_3D'][:, :, None])
        mesh_cam = torch.cat([raw['rmano_mesh_cam'], raw['lmano_mesh_cam']],
                             dim=1)
        losses['loss_mano_mesh_cam'] = L['mano_mesh_cam'](
            mesh_cam, t['mano_mesh_cam'], t['mano_mesh_valid'])

        nj = raw['rjoint_img'].shape[1]
        conv = {}
        for name, trunc_name in (('joint_img', 'joint_trunc'),
                                 ('mano_joint_img', 'mano_joint_trunc')):
            parts, truncs = [], []
            for s, rows in (('r', slice(0, nj)), ('l', slice(nj, 2 * nj))):
                c, tr = self.targets_to_crop_grid(
                    t[name][:, rows], t[trunc_name][:, rows],
                    raw[f'{s}hand_orig2hand'])
                parts.append(c)
                truncs.append(tr)
            conv[name] = torch.cat(parts, dim=1)
            conv[trunc_name] = torch.cat(truncs, dim=1)
        joint_img = torch.cat([raw['rjoint_img'], raw['ljoint_img']], dim=1)
        joint_proj = torch.cat([raw['rjoint_proj'], raw['ljoint_proj']], dim=1)
        losses['loss_joint_img'] = L['joint_img'](
            joint_img, conv['joint_img'], conv['joint_trunc'], t['is_3D'])
        losses['loss_mano_joint_img'] = L['mano_joint_img'](
            joint_img, conv['mano_joint_img'], conv['mano_joint_trunc'])
        losses['loss_joint_proj'] = L['joint_proj'](
            joint_proj, conv['joint_img'][..., :2], conv['joint_trunc'])
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
        sx = self.input_size[1] / self.body_input_size[1]
        sy = self.input_size[0] / self.body_input_size[0]
        two = torch.cat([
            out['rmano_mesh_cam'] + out['rroot_cam'][:, None],
            out['lmano_mesh_cam'] +
            (out['rroot_cam'] + out['rel_trans'])[:, None]
        ], dim=1)
        for i, ds in enumerate(data_samples):
            m = self._bb2img(ds, inputs.device, inputs.dtype)
            inst = InstanceData()
            for s in ('r', 'l'):
                box = out[f'{s}hand_bbox'][i] * inputs.new_tensor(
                    [sx, sy, sx, sy])
                corners = torch.stack([
                    box[[0, 1]], box[[2, 1]], box[[0, 3]], box[[2, 3]]
                ])
                corners = transform_points(corners, m)
                box = torch.cat([corners.amin(0), corners.amax(0)])
                vals = {
                    f'{s}hand_bbox': box,
                    f'{s}hand_bbox_score': out[f'{s}hand_bbox_conf'][i],
                    f'{s}joint_img': transform_points(
                        out[f'{s}joint_img'][i, :, :2], m),
                }
                for key in ('mano_root_pose', 'mano_hand_pose', 'mano_shape',
                            'mano_mesh_cam', 'mano_joint_cam', 'root_cam'):
                    vals[s + key] = out[s + key][i]
                for k, v in vals.items():
                    inst.set_field(_np(v)[None], k)
            inst.rel_trans = _np(out['rel_trans'][i])[None]
            inst.mesh_cam_two_hands = _np(two[i])[None]
            ds.pred_instances = inst
        return data_samples


def _np(x: Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float32)
