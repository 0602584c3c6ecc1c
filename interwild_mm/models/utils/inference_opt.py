# Copyright (c) interwild_mm contributors.
"""Inference-time optimisations that keep InterWild's outputs unchanged.

:func:`optimize_for_inference` applies, in place, transformations that do
not change the function the network computes (up to float rounding, well
inside the parity tolerances: meshes/joints/translations 1e-5 m, boxes and
2D joints 1e-3 px, poses 1e-5 as rotation matrices):

* BatchNorm folding into the preceding convolution, with
  :func:`mmcv.cnn.fuse_conv_bn` for ``Conv2d -> BN`` (ResNet blocks,
  TransNet's first conv, SHNet's rotation branch) and
  :func:`torch.nn.utils.fusion.fuse_conv_bn_eval` (``transpose=True``) for
  ``ConvTranspose2d -> BN`` (DetectNet's deconvolutions);
* channels-last memory format of the convolution weights;
* bounded micro-batches for the backbones (lower peak memory);
* ``torch.compile`` of the convolutional sub-networks.

The result is for inference only: folded BatchNorms cannot be trained and
every parameter has ``requires_grad=False``.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvTransposeNd
from torch.nn.utils.fusion import fuse_conv_bn_eval

#: sub-modules of :class:`InterWild` that ``compile=True`` compiles (the
#: convolutional work with static shapes; geometry, MANO and the output
#: packing stay eager).
COMPILE_TARGETS = ('detect_net', 'hand_roi.backbone', 'shnet', 'trans_net')

#: backbones that ``max_batch`` evaluates in bounded micro-batches.
CHUNK_TARGETS = ('detect_net.backbone', 'hand_roi.backbone')


def _fold_transposed_bn(module: nn.Module) -> int:
    """Fold ``ConvTranspose -> BatchNorm`` pairs (consecutive children).

    Returns:
        int: number of folded pairs.
    """
    count = 0
    prev_name: Optional[str] = None
    prev: Optional[nn.Module] = None
    for name, child in list(module.named_children()):
        if isinstance(child, _BatchNorm) and isinstance(prev, _ConvTransposeNd):
            module._modules[prev_name] = fuse_conv_bn_eval(
                prev, child, transpose=True)
            module._modules[name] = nn.Identity()
            prev, prev_name = None, None
            count += 1
            continue
        if not isinstance(child, _ConvTransposeNd):
            count += _fold_transposed_bn(child)
        prev, prev_name = child, name
    return count


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm into the convolution before it.

    ``Conv2d -> BN`` pairs are folded by :func:`mmcv.cnn.fuse_conv_bn`
    (which pairs a BN with the last convolution registered before it in the
    same parent, i.e. relies on registration order = call order, true for
    the mmpose ResNets and the InterWild heads); ``ConvTranspose -> BN``
    pairs (DetectNet's head) by
    :func:`torch.nn.utils.fusion.fuse_conv_bn_eval` with ``transpose=True``.
    The BNs become :class:`torch.nn.Identity`.

    Args:
        model (nn.Module): the network; switched to eval mode.

    Returns:
        nn.Module: ``model``, modified in place.
    """
    model.eval()
    _fold_transposed_bn(model)
    fuse_conv_bn(model)
    return model


def remaining_batchnorms(model: nn.Module) -> List[str]:
    """Names of the BatchNorm modules still present (e.g. after folding)."""
    return [n for n, m in model.named_modules() if isinstance(m, _BatchNorm)]


def _concat(outs: List) -> Union[Tensor, tuple, list, dict]:
    first = outs[0]
    if isinstance(first, Tensor):
        return torch.cat(outs, dim=0)
    if isinstance(first, (tuple, list)):
        return type(first)(_concat([o[i] for o in outs])
                           for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outs]) for k in first}
    raise TypeError(f'ChunkedForward cannot concatenate outputs of type '
                    f'{type(first).__name__}; wrap a module that returns '
                    'tensors (or tuples/lists/dicts of tensors).')


class ChunkedForward(nn.Module):
    """Evaluate a per-sample module in micro-batches of ``max_batch``.

    For modules whose rows are independent at inference (convolutional
    backbones in eval mode), splitting the batch bounds the activation
    memory without changing the result. The wrapped module stays reachable
    as ``.module`` (state-dict keys gain a ``module.`` prefix, so load
    checkpoints before wrapping).

    Args:
        module (nn.Module): module taking ``(N, ...)`` tensors.
        max_batch (int): rows per micro-batch, >= 1.
    """

    def __init__(self, module: nn.Module, max_batch: int) -> None:
        super().__init__()
        if int(max_batch) < 1:
            raise ValueError(f'max_batch must be >= 1, got {max_batch}.')
        self.module = module
        self.max_batch = int(max_batch)

    def forward(self, x: Tensor, *args, **kwargs):
        """Run ``module`` on ``x[i:i + max_batch]`` slices and concatenate.

        Args:
            x (Tensor): ``(N, ...)`` batch; extra arguments are passed
                unchanged to every call.
        """
        n = x.shape[0]
        if n <= self.max_batch:
            return self.module(x, *args, **kwargs)
        outs = [
            self.module(x[i:i + self.max_batch], *args, **kwargs)
            for i in range(0, n, self.max_batch)
        ]
        return _concat(outs)


def _get(model: nn.Module, path: str) -> Optional[nn.Module]:
    mod = model
    for part in path.split('.'):
        mod = getattr(mod, part, None)
        if not isinstance(mod, nn.Module):
            return None
    return mod


def _set(model: nn.Module, path: str, new: nn.Module) -> None:
    parent_path, _, name = path.rpartition('.')
    parent = _get(model, parent_path) if parent_path else model
    setattr(parent, name, new)


def optimize_for_inference(
        model: nn.Module,
        fold_bn: bool = True,
        channels_last: bool = False,
        compile: bool = False,
        max_batch: Optional[int] = None,
        compile_targets: Sequence[str] = COMPILE_TARGETS,
        chunk_targets: Sequence[str] = CHUNK_TARGETS,
        compile_kwargs: Optional[Dict] = None) -> nn.Module:
    """Prepare an InterWild model (or any conv net) for fast inference.

    Outputs stay equal to the plain eval-mode model within float rounding
    (see the module docstring); run it under :func:`torch.inference_mode`
    for the full benefit.

    Args:
        model (nn.Module): the network (weights already loaded).
        fold_bn (bool): fold BatchNorms into the convolutions before them
            (:func:`fold_batchnorm`). Default True.
        channels_last (bool): store 4-D weights channels-last so the
            oneDNN convolutions avoid layout reorders. Default False.
        compile (bool): ``torch.compile`` the sub-modules named in
            ``compile_targets`` (in place, :meth:`nn.Module.compile`; the
            model keeps its API). The first forward of each input shape
            compiles (slow). Default False.
        max_batch (int, optional): evaluate the sub-modules named in
            ``chunk_targets`` in micro-batches of at most this many rows
            (bounded peak memory). Default None (whole batch).
        compile_targets (Sequence[str]): dotted sub-module paths to
            compile; missing paths are ignored (so plain conv nets work).
        chunk_targets (Sequence[str]): dotted sub-module paths to chunk;
            missing paths are ignored.
        compile_kwargs (dict, optional): extra ``torch.compile`` arguments.

    Returns:
        nn.Module: ``model``, modified in place, in eval mode, with
        ``requires_grad=False`` on every parameter.
    """
    model.eval()
    if fold_bn:
        fold_batchnorm(model)
    for p in model.parameters():  # after folding: it creates parameters
        p.requires_grad_(False)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if max_batch is not None:
        for path in chunk_targets:
            sub = _get(model, path)
            if sub is not None and not isinstance(sub, ChunkedForward):
                _set(model, path, ChunkedForward(sub, max_batch))
    if compile:
        kwargs = dict(compile_kwargs or {})
        for path in compile_targets:
            sub = _get(model, path)
            if sub is not None:
                sub.compile(**kwargs)
    return model


def iter_option_names(fold_bn: bool, channels_last: bool, compile: bool,
                      max_batch: Optional[int]) -> Iterable[str]:
    """Short names of the enabled options (for logs and benchmark tables)."""
    if fold_bn:
        yield 'fold_bn'
    if channels_last:
        yield 'channels_last'
    if compile:
        yield 'compile'
    if max_batch is not None:
        yield f'max_batch={max_batch}'
