# Copyright (c) interwild_mm contributors.
"""Inference-time speed-ups of InterWild, split by what they do to the numbers.

:func:`optimize_for_inference` applies one of three ``speed`` modes in place:

* ``'exact'`` (the inferencer's default) - options that leave the outputs
  within 1e-6 (metres; 1e-4 px for pixel outputs) of the plain model:

  - the factorised TransNet first convolution
    (``first_conv_impl='factorised'``: the 3x3 convolution of the Gaussian
    volume contracted from 1-D profiles, no volume). It is the same sum in
    another order: its first-conv output differs from the dense float32
    convolution by about 2e-6 of the output's range, which is the dense
    convolution's own rounding (measured against float64: the factorised sum
    is closer to it than the dense one), and ``rel_trans`` moves by about
    1e-6 of its range (< 1e-6 m for hands < 1 m apart);
  - bounded micro-batches for the two ResNet-50 backbones (rows are
    independent). Whether a smaller batch gives the same bits is up to the
    convolution backend: with oneDNN on the test CPU, standard-width ResNets
    (ResNet-18/50, 64-channel stem) at the InterWild input sizes are
    bit-identical for batches of 1, 2 and 4 vs 5 and 8, whereas a narrow
    ResNet (8-channel stem) takes another kernel for single-row chunks and
    moves by ~3e-8 after the backbone (~1e-6 m at the output);
  - ``torch.inference_mode`` instead of ``torch.no_grad`` (no numerical
    effect), see :func:`inference_context`.

* ``'approximate'`` - the exact set plus options that change the float
  rounding of the body features, which the soft-argmax box centres and the
  crops then amplify (with untrained weights by up to 0.14 m):

  - BatchNorm folding into the preceding convolution
    (:func:`fold_batchnorm`);
  - channels-last memory format of the convolution weights;
  - optionally ``torch.compile`` of the convolutional sub-networks.

* ``'none'`` - the plain model (the official computation).

The result is for inference only: every parameter gets
``requires_grad=False``, folded BatchNorms cannot be trained.
"""
from contextlib import AbstractContextManager
from typing import Dict, List, Optional, Sequence, Union

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
    as ``.module``; the wrapper is transparent in state dicts (saved keys
    carry no ``module.`` level and checkpoints of the plain model load).

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
        self.register_state_dict_post_hook(_drop_wrapper_level)
        self.register_load_state_dict_pre_hook(_add_wrapper_level)

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


def _drop_wrapper_level(module: nn.Module, state_dict: Dict, prefix: str,
                        local_metadata: Dict) -> None:
    """State-dict post-hook: ``<prefix>module.<key>`` -> ``<prefix><key>``."""
    inner = prefix + 'module.'
    for key in [k for k in state_dict if k.startswith(inner)]:
        state_dict[prefix + key[len(inner):]] = state_dict.pop(key)


def _add_wrapper_level(module: nn.Module, state_dict: Dict, prefix: str,
                       *args) -> None:
    """Load pre-hook: ``<prefix><key>`` -> ``<prefix>module.<key>``."""
    inner = prefix + 'module.'
    for key in [k for k in state_dict
                if k.startswith(prefix) and not k.startswith(inner)]:
        state_dict[inner + key[len(prefix):]] = state_dict.pop(key)


def _get(model: nn.Module, path: str) -> Optional[nn.Module]:
    """The sub-module at dotted ``path``, None where there is none."""
    try:
        return model.get_submodule(path)
    except AttributeError:
        return None


#: ``speed`` modes of :func:`optimize_for_inference`
SPEED_MODES = ('none', 'exact', 'approximate')


def inference_context(speed: str) -> AbstractContextManager:
    """Grad mode of a ``speed`` mode: ``torch.inference_mode()`` for
    ``'exact'``/``'approximate'``, ``torch.no_grad()`` for ``'none'``."""
    _check_speed(speed)
    return torch.no_grad() if speed == 'none' else torch.inference_mode()


def _check_speed(speed: str) -> None:
    if speed not in SPEED_MODES:
        raise ValueError(f'speed must be one of {SPEED_MODES}, got '
                         f'{speed!r}.')


def factorise_transnet(model: nn.Module) -> int:
    """Switch every TransNet of ``model`` to the factorised first conv.

    Returns:
        int: number of modules switched (TransNets have a
        ``first_conv_impl`` attribute).
    """
    count = 0
    for m in model.modules():
        if getattr(m, 'first_conv_impl', None) in ('dense', 'factorised'):
            m.first_conv_impl = 'factorised'
            count += 1
    return count


def chunk_modules(model: nn.Module, max_batch: int,
                  paths: Sequence[str] = CHUNK_TARGETS) -> int:
    """Wrap the sub-modules at ``paths`` in :class:`ChunkedForward`.

    Missing paths are ignored (so plain conv nets work).

    Returns:
        int: number of modules wrapped.
    """
    count = 0
    for path in paths:
        sub = _get(model, path)
        if sub is not None and not isinstance(sub, ChunkedForward):
            model.set_submodule(path, ChunkedForward(sub, max_batch))
            count += 1
    return count


def compile_modules(model: nn.Module,
                    paths: Sequence[str] = COMPILE_TARGETS,
                    compile_kwargs: Optional[Dict] = None) -> None:
    """``torch.compile`` the sub-modules at ``paths`` in place
    (:meth:`nn.Module.compile`); missing paths are ignored."""
    kwargs = dict(compile_kwargs or {})
    for path in paths:
        sub = _get(model, path)
        if sub is not None:
            sub.compile(**kwargs)


def optimize_for_inference(
        model: nn.Module,
        speed: str = 'exact',
        max_batch: Optional[int] = 2,
        compile: bool = False,
        chunk_targets: Sequence[str] = CHUNK_TARGETS,
        compile_targets: Sequence[str] = COMPILE_TARGETS,
        compile_kwargs: Optional[Dict] = None) -> nn.Module:
    """Prepare an InterWild model (or any conv net) for fast inference.

    See the module docstring for what each ``speed`` mode contains; run the
    model under :func:`inference_context` of the same mode.

    Args:
        model (nn.Module): the network (weights already loaded).
        speed (str): ``'exact'`` (default), ``'approximate'`` or ``'none'``.
        max_batch (int, optional): micro-batch size of the backbones named
            in ``chunk_targets`` (exact and approximate modes); ``None``
            evaluates the whole batch at once. Default 2.
        compile (bool): also ``torch.compile`` the sub-modules named in
            ``compile_targets`` (the first forward of each input shape
            compiles, slowly). Changes rounding, so only allowed with
            ``speed='approximate'``. Default False.
        chunk_targets (Sequence[str]): dotted sub-module paths to chunk.
        compile_targets (Sequence[str]): dotted sub-module paths to compile.
        compile_kwargs (dict, optional): extra ``torch.compile`` arguments.

    Returns:
        nn.Module: ``model``, modified in place, in eval mode; unless
        ``speed='none'`` every parameter has ``requires_grad=False``.
    """
    _check_speed(speed)
    if compile and speed != 'approximate':
        raise ValueError("compile=True changes the float rounding; use it "
                         "with speed='approximate'.")
    if max_batch is not None and int(max_batch) < 1:
        raise ValueError(f'max_batch must be >= 1 or None, got {max_batch}.')
    model.eval()
    if speed == 'none':
        return model
    factorise_transnet(model)
    if speed == 'approximate':
        fold_batchnorm(model)
    for p in model.parameters():  # after folding: it creates parameters
        p.requires_grad_(False)
    if speed == 'approximate':
        model.to(memory_format=torch.channels_last)
    if max_batch is not None:
        chunk_modules(model, int(max_batch), chunk_targets)
    if compile:
        compile_modules(model, compile_targets, compile_kwargs)
    return model
