# Copyright (c) interwild_mm contributors.
"""``ManoLayer``: ``smplx.MANO`` with InterWild's conventions."""
import contextlib
import io
import os
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
import smplx
import torch
from mmpose.registry import MODELS
from smplx.lbs import lbs
from smplx.utils import Struct
from torch import Tensor, nn

from .constants import (FINGERTIP_VERTEX_IDS, NUM_BETAS, NUM_FACES,
                        NUM_SH_JOINTS, NUM_VERTS, SH_FROM_MANO,
                        SH_JOINT_NAMES)
from .io import MANO_FILES, load_mano_pickle, resolve_mano_dir

#: Threshold of the left-hand shapedirs fix (sum of absolute differences).
SHAPEDIRS_FIX_THRESHOLD = 1.0


def fix_left_shapedirs(left: Dict[str, Any],
                       right: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
    """Apply the left-hand shapedirs fix of the public MANO files.

    The public ``MANO_LEFT.pkl`` carries the right hand's shape blend shapes.
    If ``sum |left.shapedirs[:, 0, :] - right.shapedirs[:, 0, :]| < 1`` the
    x-component of the left shapedirs is negated (the mirrored hand).

    Args:
        left (dict): Left model entries (``shapedirs`` (778, 3, B)).
        right (dict): Right model entries.

    Returns:
        tuple[dict, bool]: The (copied, possibly fixed) left entries and
        whether the fix was applied.
    """
    left_dirs = np.array(left['shapedirs'], dtype=np.float64)
    right_dirs = np.asarray(right['shapedirs'], dtype=np.float64)
    diff = np.abs(left_dirs[:, 0, :] - right_dirs[:, 0, :]).sum()
    fixed = bool(diff < SHAPEDIRS_FIX_THRESHOLD)
    if fixed:
        left_dirs[:, 0, :] *= -1.0
    out = dict(left)
    out['shapedirs'] = left_dirs
    return out, fixed


class KinematicTree(tuple):
    """MANO's parent indices as Python ints, for ``smplx.lbs.lbs``.

    ``lbs`` walks the kinematic chain with ``chain[parents[i]]``; with the
    ``parents`` buffer (a tensor) every step converts a tensor element to a
    Python int, a data-dependent ``.item()`` that ``torch.export`` (the
    dynamo ONNX exporter) cannot trace. This tuple gives the same indices as
    ints: ``parents[1:]`` (a tuple) indexes the joints exactly like the
    tensor, and ``shape`` is the one tensor attribute ``lbs`` reads, so the
    skinning is the same computation, value for value.
    """

    @property
    def shape(self) -> Tuple[int]:
        """``(J,)``, like the ``parents`` tensor."""
        return (len(self), )


def build_sh_joint_regressor(j_regressor: Any) -> np.ndarray:
    """The (21, 778) regressor of the single-hand joint set.

    Rows of the 16-joint MANO ``J_regressor`` re-ordered by name into
    :data:`SH_JOINT_NAMES`, plus one-hot rows at the fingertip vertices.

    Args:
        j_regressor (np.ndarray | scipy.sparse matrix): (16, 778).

    Returns:
        np.ndarray: (21, 778) float64.
    """
    dense = j_regressor.toarray() if sp.issparse(j_regressor) else \
        np.asarray(j_regressor)
    dense = np.asarray(dense, dtype=np.float64)
    out = np.zeros((NUM_SH_JOINTS, dense.shape[1]))
    for i, (name, row) in enumerate(zip(SH_JOINT_NAMES, SH_FROM_MANO)):
        if row >= 0:
            out[i] = dense[row]
        else:
            out[i, FINGERTIP_VERTEX_IDS[name]] = 1.0
    return out


@MODELS.register_module()
class ManoLayer(nn.Module):
    """MANO hand model as used by InterWild.

    Wraps ``smplx.MANO`` built with ``use_pca=False``,
    ``flat_hand_mean=False`` (``hand_pose`` is an offset from the MANO mean
    pose ``hands_mean``) and without any learnable parameter. For the left
    hand the shapedirs fix (:func:`fix_left_shapedirs`) is applied, which
    needs the right model too. Joints are the 21 single-hand joints
    (:data:`SH_JOINT_NAMES`) regressed from the vertices with the RIGHT
    model's ``J_regressor`` + fingertip vertices, for both hands.

    The model files are read with the restricted unpickler
    (:func:`load_mano_pickle`); chumpy is not needed.

    State dict: **empty**. Every MANO-derived tensor (the ``mano.*`` buffers
    of ``smplx.MANO``: ``shapedirs``, ``faces_tensor``, ``v_template``,
    ``J_regressor``, ``posedirs``, ``parents``, ``lbs_weights``,
    ``hand_mean``, ``pose_mean``, ``vertex_joint_selector.extra_joints_idxs``
    and this layer's ``joint_regressor``, ``faces``, ``hands_mean``) is a
    non-persistent buffer: it moves with ``.to()`` but is never written into
    a checkpoint, because the MANO files are licensed and must not be
    redistributed through model weights. They are always rebuilt from the
    files at construction.

    Args:
        model_dir (str, optional): Folder with ``MANO_RIGHT.pkl`` and
            ``MANO_LEFT.pkl``; resolved by :func:`resolve_mano_dir`
            (argument > ``$INTERWILD_MANO_DIR`` > ``data/mano``).
        side (str): ``'right'`` or ``'left'``. Defaults to ``'right'``.
    """

    def __init__(self,
                 model_dir: Optional[Union[str, os.PathLike]] = None,
                 side: str = 'right') -> None:
        super().__init__()
        if side not in MANO_FILES:
            raise ValueError(
                f"ManoLayer side must be 'right' or 'left', got {side!r}.")
        self.side = side
        folder = resolve_mano_dir(model_dir)
        self.model_dir = str(folder)

        right = load_mano_pickle(folder / MANO_FILES['right'])
        self.shapedirs_fixed = False
        if side == 'right':
            data = right
        else:
            data, self.shapedirs_fixed = fix_left_shapedirs(
                load_mano_pickle(folder / MANO_FILES['left']), right)
        self._check_model(data, folder / MANO_FILES[side])

        # smplx prints a warning about the 10 shape coefficients; silence it.
        with contextlib.redirect_stdout(io.StringIO()):
            # full 45-D pose as an offset from the mean pose; smplx must
            # create no parameters of its own (they are inputs here)
            no_params = {f'create_{name}': False for name in (
                'global_orient', 'hand_pose', 'betas', 'transl', 'body_pose')}
            self.mano = smplx.MANO(
                model_path=str(folder), is_rhand=side == 'right',
                data_struct=Struct(**data), use_pca=False, num_pca_comps=45,
                flat_hand_mean=False, dtype=torch.float32, **no_params)
        if any(True for _ in self.mano.parameters()):
            raise RuntimeError('smplx.MANO unexpectedly created parameters.')

        self.register_buffer(
            'joint_regressor',
            torch.from_numpy(build_sh_joint_regressor(
                right['J_regressor'])).float(),
            persistent=False)
        self.register_buffer(
            'faces',
            torch.from_numpy(np.asarray(data['f'], dtype=np.int64)),
            persistent=False)
        self.register_buffer(
            'hands_mean',
            torch.from_numpy(np.asarray(data['hands_mean'],
                                        dtype=np.float64)).float(),
            persistent=False)
        self.kinematic_tree = KinematicTree(
            int(p) for p in self.mano.parents.tolist())
        # Keep licensed MANO data out of every state_dict / checkpoint.
        for module in self.mano.modules():
            for name, buf in list(module.named_buffers(recurse=False)):
                module.register_buffer(name, buf, persistent=False)

    @staticmethod
    def _check_model(data: Dict[str, Any], path: os.PathLike) -> None:
        expected = {
            'v_template': (NUM_VERTS, 3),
            'f': (NUM_FACES, 3),
            'shapedirs': (NUM_VERTS, 3, NUM_BETAS),
            'hands_mean': (45, ),
        }
        for key, shape in expected.items():
            if key not in data:
                raise KeyError(f'MANO file {str(path)!r} has no {key!r} '
                               'entry; is it a MANO model file?')
            got = tuple(np.shape(data[key]))
            if got != shape:
                raise ValueError(f'MANO file {str(path)!r}: {key!r} has '
                                 f'shape {got}, expected {shape}.')

    @property
    def num_verts(self) -> int:
        return NUM_VERTS

    def extra_repr(self) -> str:
        return (f'side={self.side!r}, model_dir={self.model_dir!r}, '
                f'shapedirs_fixed={self.shapedirs_fixed}')

    def forward(self,
                global_orient: Tensor,
                hand_pose: Tensor,
                betas: Tensor,
                transl: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Pose and shape the hand.

        Device and dtype of the outputs follow ``global_orient``; the MANO
        buffers are cast to them (a no-op after ``.to()``).

        Args:
            global_orient (Tensor): (N, 3) axis-angle root rotation, rad.
            hand_pose (Tensor): (N, 45) axis-angle of the 15 finger joints
                (MANO joint order 1..15), as an offset from ``hands_mean``.
            betas (Tensor): (N, 10) shape coefficients.
            transl (Tensor, optional): (N, 3) translation in metres added to
                vertices and joints. Defaults to None (no translation).

        Returns:
            dict: ``vertices`` (N, 778, 3) and ``joints`` (N, 21, 3, SH
            order), metres.
        """
        if not torch.is_tensor(global_orient) or \
                not global_orient.is_floating_point():
            raise TypeError('ManoLayer expects floating-point tensors.')
        num = global_orient.shape[0]
        device, dtype = global_orient.device, global_orient.dtype
        inputs = dict(global_orient=(global_orient, 3),
                      hand_pose=(hand_pose, 45), betas=(betas, NUM_BETAS))
        if transl is not None:
            inputs['transl'] = (transl, 3)
        for name, (value, dim) in inputs.items():
            if tuple(value.shape) != (num, dim):
                raise ValueError(
                    f'ManoLayer: {name} must have shape (N, {dim}) with N = '
                    f'{num} (from global_orient), got {tuple(value.shape)}.')

        mano = self.mano
        full_pose = torch.cat([global_orient, hand_pose.to(dtype)], dim=1)
        full_pose = full_pose + mano.pose_mean.to(device, dtype)
        vertices, _ = lbs(
            betas.to(dtype), full_pose, mano.v_template.to(device, dtype),
            mano.shapedirs.to(device, dtype), mano.posedirs.to(device, dtype),
            mano.J_regressor.to(device, dtype), self.kinematic_tree,
            mano.lbs_weights.to(device, dtype), pose2rot=True)
        if transl is not None:
            vertices = vertices + transl.to(dtype).unsqueeze(1)
        joints = torch.einsum('jv,nvc->njc',
                              self.joint_regressor.to(device, dtype),
                              vertices)
        return dict(vertices=vertices, joints=joints)
