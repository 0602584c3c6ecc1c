# Copyright (c) interwild_mm contributors.
"""MANO meshes of the inferencer: faces and re-posing of smoothed hands."""
from typing import Any, Dict, Tuple

import numpy as np
import torch

__all__ = ['ManoMeshes']


class ManoMeshes:
    """Right / left MANO layers: the model's own, else new ones on CPU.

    Args:
        model (torch.nn.Module): the InterWild model (its
            ``mano_layer_right`` / ``mano_layer_left`` are used if present).
        mano_dir (str): MANO folder for layers the model does not have.
    """

    SIDES = ('right', 'left')

    def __init__(self, model: torch.nn.Module, mano_dir: str) -> None:
        self.model = model
        self.mano_dir = mano_dir
        self._layers: Dict[str, Any] = {}
        self.faces: Dict[str, np.ndarray] = {
            side: self.layer(side).faces.detach().cpu().numpy().astype(
                np.int64)
            for side in self.SIDES
        }

    def layer(self, side: str):
        """The MANO layer of ``side`` (``'right'`` / ``'left'``)."""
        if side not in self._layers:
            from interwild_mm.mano.layer import ManoLayer
            layer = getattr(self.model, f'mano_layer_{side}', None)
            if not isinstance(layer, ManoLayer):
                layer = ManoLayer(model_dir=self.mano_dir, side=side)
            self._layers[side] = layer.eval()
        return self._layers[side]

    def forward(self, side: str, mano: Dict[str, np.ndarray]
                ) -> Tuple[np.ndarray, np.ndarray]:
        """Wrist-relative ``(vertices (778, 3), joints (21, 3))`` float64 of
        MANO parameters ``global_orient``, ``hand_pose``, ``betas``."""
        layer = self.layer(side)
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
