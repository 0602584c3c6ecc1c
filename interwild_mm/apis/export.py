# Copyright (c) interwild_mm contributors.
"""Export of InterWild to ONNX and TorchScript, and the parity check.

The exported graph is :meth:`InterWild.forward` in ``mode='tensor'``: the
test-mode outputs of ``docs/official_conventions.md §1.11`` (without
``img``, the input itself), one named graph output per entry, in the order
:meth:`InterWild._forward` returns them (``rel_trans``, ``rhand_bbox``, ...
``render_princpt``; the names are also in the file's metadata). The graph
input ``inputs`` is the network input ``(N, 3, H, W)`` float32, RGB in
``[0, 1]`` (uint8 RGB / 255 of the body patch, what the data preprocessor
feeds the model). MANO (smplx's linear blend skinning) is part of the
graph; its buffers become graph constants (the MANO files are licensed: an
exported file carries them, unlike a checkpoint, so treat it like the MANO
files).

ONNX (:func:`export_onnx`): ``torch.onnx.export`` with the dynamo exporter
(``torch.export``; needs ``onnx``, ``onnxscript``;
``requirements/export.txt``), opset >= 18 (the lowest opset torch 2.12's
exporter writes), a dynamic batch axis by default. Inside
:func:`exportable` the model computes its affine inverses in closed form
(``HandRoI(inverse='closed_form')``:
``linalg_inv`` has no ONNX operator); the outputs move by float32 rounding
only. The forward has no data-dependent Python control flow (masks with
``torch.where``, the MANO kinematic chain as Python ints), so
``torch.export`` traces it without guards on values.

TorchScript (:func:`export_torchscript`): ``torch.jit.trace`` of the same
forward with the default (official) inverses; the traced module gives the
eager outputs bit for bit and follows the batch size of its input
(``torch.jit.trace`` is deprecated by PyTorch in favour of ``torch.export``
but still works).

:func:`compare_outputs` judges exported outputs against PyTorch's with the
tolerances of :data:`EXPORT_TOLERANCES`.
"""
import contextlib
import os
import warnings
from typing import (Callable, Dict, Iterator, List, Mapping, NamedTuple,
                    Optional, Sequence, Union)

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    'EXPORT_TOLERANCES', 'MIN_OPSET', 'DEFAULT_OPSET', 'EXPORT_SPEEDS',
    'ExportDependencyError', 'InterWildExportWrapper', 'OutputDeviation',
    'OnnxExport', 'require_export_dependencies', 'exportable',
    'tensor_output_names', 'load_model_for_export',
    'export_onnx', 'export_torchscript', 'onnx_session', 'run_onnx',
    'compare_outputs', 'output_unit', 'format_deviations', 'load_images'
]

#: lowest opset torch 2.12's ONNX exporter (dynamo) writes; it converts
#: lower requests only partly (no 18 -> 17 adapter for ``Split``)
MIN_OPSET = 18
DEFAULT_OPSET = 18

#: ``speed`` of :func:`exportable`: ``'none'`` = the model as configured,
#: ``'exact'`` = the factorised TransNet first convolution of the
#: inference ``speed='exact'`` mode (the graph-level part of that mode;
#: micro-batches and ``inference_mode`` have no meaning in a graph)
EXPORT_SPEEDS = ('none', 'exact')

#: max |exported - PyTorch| per unit (``docs/official_conventions.md``
#: §1.11 outputs): metres for meshes, joints and translations; pixels for
#: boxes and 2D joints; poses as rotation matrices (the axis-angle vectors
#: themselves are reported, not judged: near the legacy branch's switch,
#: §1.7, the same rotation can take another vector). The render cameras are
#: fitted from 3D joints (within 1e-5 m) over a hand span of ~0.1 m, hence
#: 1e-4 relative for their focals and 1e-2 px for their principal points.
EXPORT_TOLERANCES: Dict[str, Optional[float]] = {
    'm': 1e-5,
    'px': 1e-3,
    'rot': 1e-5,
    'bins': 1e-4,
    '1': 1e-5,
    'rel': 1e-4,
    'render_px': 1e-2,
    'rad': None,
}

_INSTALL_HINT = ('install the export requirements: pip install -r '
                 'requirements/export.txt (onnx, onnxruntime, onnxscript)')


class ExportDependencyError(ImportError):
    """onnx / onnxruntime / onnxscript is not installed."""


def require_export_dependencies(*modules: str) -> None:
    """Import ``modules`` (e.g. ``'onnx'``, ``'onnxruntime'``) or raise.

    Raises:
        ExportDependencyError: naming the missing packages and how to
            install them.
    """
    missing = []
    for name in modules:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportDependencyError(
            f'{", ".join(missing)} not installed; {_INSTALL_HINT}.')


# ----------------------------------------------------------------------
# the model
def load_model_for_export(config: Union[str, os.PathLike],
                          checkpoint: Union[str, os.PathLike],
                          cfg_options: Optional[dict] = None,
                          mano_dir: Optional[str] = None) -> nn.Module:
    """Build the config's InterWild on the CPU and load ``checkpoint``.

    The same steps as the inferencer (:mod:`.model_loading`): the config
    with ``--cfg-options``, the MANO folder (argument > config >
    ``$INTERWILD_MANO_DIR`` > ``data/mano``), the checkpoint read with the
    safe loader and loaded strictly (official snapshots are refused with
    the conversion command).

    Returns:
        nn.Module: the model in eval mode.
    """
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS

    from .model_loading import (load_inference_config, load_weights,
                                read_checkpoint, resolve_mano_in_config)
    cfg = load_inference_config(os.fspath(config), cfg_options)
    import interwild_mm.models  # noqa: F401  (registers the modules)
    resolve_mano_in_config(cfg, mano_dir)
    state = read_checkpoint(os.fspath(checkpoint))
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpose')):
        model = MODELS.build(cfg.model)
    load_weights(model, state, source=os.fspath(checkpoint))
    return model.eval()


# ----------------------------------------------------------------------
# the exported forward
def tensor_output_names(model: nn.Module, example: Tensor) -> List[str]:
    """Names of the ``mode='tensor'`` outputs (without ``img``), in order.

    Runs the model once on ``example`` under ``torch.no_grad``.
    """
    with torch.no_grad():
        out = model(example, mode='tensor')
    return [k for k in out if k != 'img']


class InterWildExportWrapper(nn.Module):
    """``inputs -> tuple of the mode='tensor' outputs`` for exporters.

    Args:
        model (nn.Module): an :class:`InterWild` in eval mode.
        output_names (Sequence[str]): the outputs to return, in order
            (:func:`tensor_output_names`).
    """

    def __init__(self, model: nn.Module, output_names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.output_names = tuple(output_names)

    def forward(self, inputs: Tensor) -> tuple:
        """Args: inputs (Tensor): ``(N, 3, H, W)`` RGB in [0, 1].

        Returns:
            tuple[Tensor]: the outputs named :attr:`output_names`.
        """
        out = self.model(inputs, mode='tensor')
        return tuple(out[k] for k in self.output_names)


def _check_speed(speed: str) -> None:
    if speed not in EXPORT_SPEEDS:
        raise ValueError(f'speed must be one of {EXPORT_SPEEDS}, got '
                         f'{speed!r}.')


@contextlib.contextmanager
def exportable(model: nn.Module, speed: str = 'none',
               inverse: str = 'closed_form') -> Iterator[nn.Module]:
    """Switch ``model`` to its exportable form, restore it afterwards.

    Every module with an affine ``inverse`` option (``HandRoI``) computes
    its inverses as ``inverse`` says (closed form for ONNX); with
    ``speed='exact'`` every TransNet uses the factorised first conv. The
    model is put in eval mode (and left there).

    Args:
        model (nn.Module): the InterWild model.
        speed (str): ``'none'`` or ``'exact'`` (:data:`EXPORT_SPEEDS`).
        inverse (str): ``'closed_form'`` (ONNX) or ``'official'``.

    Yields:
        nn.Module: ``model``.
    """
    from interwild_mm.geometry.crop import (AFFINE_INVERSES,
                                            check_affine_inverse)
    _check_speed(speed)
    check_affine_inverse(inverse)
    saved = []
    for module in model.modules():
        if getattr(module, 'inverse', None) in AFFINE_INVERSES:
            saved.append((module, 'inverse', module.inverse))
            module.inverse = inverse
        if speed == 'exact' and getattr(module, 'first_conv_impl',
                                        None) in ('dense', 'factorised'):
            saved.append((module, 'first_conv_impl', module.first_conv_impl))
            module.first_conv_impl = 'factorised'
    model.eval()
    try:
        yield model
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def _check_example(example: Tensor) -> None:
    if not isinstance(example, Tensor) or example.dim() != 4 or \
            example.shape[1] != 3 or example.dtype != torch.float32:
        raise ValueError('the example input must be a (N, 3, H, W) float32 '
                         'tensor (RGB in [0, 1]), got '
                         f'{getattr(example, "shape", type(example))}.')


def _metadata(model: nn.Module, output_names: Sequence[str],
              speed: str, dynamic_batch: bool,
              batch: int) -> Dict[str, str]:
    sizes = getattr(model, 'sizes', None)
    meta = {
        'interwild_mm.input': 'inputs: (N, 3, H, W) float32 RGB in [0, 1]',
        'interwild_mm.outputs': ','.join(output_names),
        'interwild_mm.conventions': 'docs/official_conventions.md §1.11',
        'interwild_mm.affine_inverse': 'closed_form',
        'interwild_mm.speed': speed,
        'interwild_mm.batch': 'dynamic' if dynamic_batch else str(batch),
    }
    if sizes is not None:
        meta['interwild_mm.input_hw'] = 'x'.join(map(str, sizes.input_hw))
    return meta


class OnnxExport(NamedTuple):
    """What :func:`export_onnx` wrote."""
    path: str
    output_names: List[str]
    opset: int


def export_onnx(model: nn.Module,
                path: Union[str, os.PathLike],
                example: Tensor,
                opset: int = DEFAULT_OPSET,
                dynamic_batch: bool = True,
                speed: str = 'none') -> OnnxExport:
    """Export ``model``'s ``mode='tensor'`` forward to an ONNX file.

    Args:
        model (nn.Module): :class:`InterWild` (weights loaded, CPU).
        path (str | PathLike): the ``.onnx`` file to write (one file, the
            weights inside).
        example (Tensor): ``(N, 3, H, W)`` float32 example input. With
            ``dynamic_batch`` N must be >= 2 (``torch.export`` specialises
            sizes 0 and 1); the file accepts any batch size then.
        opset (int): ONNX opset, >= :data:`MIN_OPSET`.
        dynamic_batch (bool): a dynamic batch axis (else the batch size is
            N). Default True.
        speed (str): :data:`EXPORT_SPEEDS`. Default ``'none'``.

    Returns:
        OnnxExport: the path, the output names (graph outputs in order) and
        the opset.

    Raises:
        ExportDependencyError: onnx / onnxscript missing.
        ValueError: bad opset, example or speed.
    """
    require_export_dependencies('onnx', 'onnxscript')
    _check_example(example)
    _check_speed(speed)
    if int(opset) < MIN_OPSET:
        raise ValueError(
            f'opset {opset} is not supported: torch {torch.__version__}\'s '
            f'ONNX exporter writes opset >= {MIN_OPSET} (it cannot convert '
            f'the graph down, e.g. Split 18 -> 17); use --opset {MIN_OPSET} '
            'or higher.')
    if dynamic_batch and example.shape[0] < 2:
        raise ValueError('a dynamic batch axis needs an example batch of at '
                         'least 2 (torch.export specialises sizes 0 and 1); '
                         'pass a larger example or dynamic_batch=False.')
    with exportable(model, speed=speed):
        names = tensor_output_names(model, example)
        wrapper = InterWildExportWrapper(model, names).eval()
        dynamic = None
        if dynamic_batch:
            dynamic = ({0: torch.export.Dim('batch', min=1)}, )
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            program = torch.onnx.export(
                wrapper, (example, ),
                dynamo=True,
                opset_version=int(opset),
                input_names=['inputs'],
                output_names=names,
                dynamic_shapes=dynamic,
                external_data=False,
                verbose=False)
    for key, value in _metadata(model, names, speed, dynamic_batch,
                                example.shape[0]).items():
        program.model.metadata_props[key] = value
    program.save(os.fspath(path), external_data=False)
    return OnnxExport(os.fspath(path), names, int(opset))


def export_torchscript(model: nn.Module, path: Union[str, os.PathLike],
                       example: Tensor,
                       speed: str = 'none') -> List[str]:
    """Trace ``model``'s ``mode='tensor'`` forward with ``torch.jit.trace``.

    The traced module takes ``inputs`` and returns the tuple of the outputs
    named by the returned list; it uses the default (official) affine
    inverses, so it reproduces the eager outputs bit for bit, at any batch
    size. ``torch.jit.load(path)`` loads it without interwild_mm.

    Args:
        model (nn.Module): :class:`InterWild` (weights loaded, CPU).
        path (str | PathLike): the ``.pt`` file to write.
        example (Tensor): ``(N, 3, H, W)`` float32 example input.
        speed (str): :data:`EXPORT_SPEEDS`. Default ``'none'``.

    Returns:
        list[str]: the output names, in the order of the traced tuple.
    """
    _check_example(example)
    with exportable(model, speed=speed, inverse='official'):
        names = tensor_output_names(model, example)
        wrapper = InterWildExportWrapper(model, names).eval()
        with warnings.catch_warnings(), torch.no_grad():
            # shape checks and constant literals of the forward (none of
            # them depends on values; the traced outputs are checked by
            # the tests at several batch sizes)
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            warnings.simplefilter('ignore', DeprecationWarning)
            traced = torch.jit.trace(wrapper, (example, ), check_trace=False)
    traced.save(os.fspath(path))
    return names


# ----------------------------------------------------------------------
# running the exported file
def onnx_session(path: Union[str, os.PathLike],
                 threads: Optional[int] = None):
    """An onnxruntime CPU session of ``path``.

    Args:
        path (str | PathLike): the ``.onnx`` file.
        threads (int, optional): intra-op threads (None = onnxruntime's
            default).

    Raises:
        ExportDependencyError: onnxruntime missing.
    """
    require_export_dependencies('onnxruntime')
    import onnxruntime as ort
    opts = ort.SessionOptions()
    if threads is not None:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    return ort.InferenceSession(
        os.fspath(path), sess_options=opts,
        providers=['CPUExecutionProvider'])


def run_onnx(session, inputs: Union[Tensor, np.ndarray]
             ) -> Dict[str, np.ndarray]:
    """Run an :func:`onnx_session` on ``(N, 3, H, W)`` inputs.

    Returns:
        dict[str, np.ndarray]: graph output name -> array.
    """
    if isinstance(inputs, Tensor):
        inputs = inputs.detach().cpu().numpy()
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(
        inputs, dtype=np.float32)}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed)))


def load_images(paths: Sequence[Union[str, os.PathLike]],
                input_hw: Sequence[int],
                batch: Optional[int] = None) -> Tensor:
    """Images resized (bilinear) to the network input, as its input.

    Read with the inferencer's reader (:func:`.inputs.read_image`: EXIF
    orientation ignored, 16-bit, grayscale and alpha handled).

    Args:
        paths (Sequence[str]): image files (any size).
        input_hw (Sequence[int]): ``(H, W)`` of the network input.
        batch (int, optional): cycle ``paths`` to this many images
            (default: one per path).

    Returns:
        Tensor: ``(batch or len(paths), 3, H, W)`` float32 RGB in [0, 1].

    Raises:
        InputError: a path that is not a readable image.
        FileNotFoundError: no path given.
    """
    import cv2

    from .inputs import read_image
    if not paths:
        raise FileNotFoundError('no image given.')
    count = len(paths) if batch is None else int(batch)
    imgs = []
    for i in range(count):
        img = read_image(os.fspath(paths[i % len(paths)]))
        img = cv2.resize(img[:, :, ::-1], (int(input_hw[1]), int(input_hw[0])),
                         interpolation=cv2.INTER_LINEAR)
        imgs.append(torch.from_numpy(img.copy()).permute(2, 0, 1))
    return torch.stack(imgs).float() / 255.0


# ----------------------------------------------------------------------
# parity
class OutputDeviation(NamedTuple):
    """Max deviation of one (part of an) output and its tolerance."""
    name: str
    unit: str
    max_abs: float
    tolerance: Optional[float]

    @property
    def ok(self) -> bool:
        """Within tolerance (always True for reported-only entries)."""
        return self.tolerance is None or self.max_abs <= self.tolerance


def output_unit(key: str) -> str:
    """Unit of a ``mode='tensor'`` output (a key of
    :data:`EXPORT_TOLERANCES`; ``*joint_img`` are split by
    :func:`compare_outputs`)."""
    if key.startswith('render_'):
        return 'rel' if key.endswith('focal') else 'render_px'
    if key == 'rel_trans' or key.endswith(('mesh_cam', 'joint_cam',
                                           'root_cam')):
        return 'm'
    if key.endswith('hand_bbox'):
        return 'px'
    if key.endswith('_pose'):
        return 'rad'
    return '1'


def _max(x: Tensor) -> float:
    return float(x.abs().max()) if x.numel() else 0.0


def compare_outputs(
        ref: Mapping[str, Tensor],
        out: Mapping[str, Union[Tensor, np.ndarray]],
        tolerances: Mapping[str, Optional[float]] = EXPORT_TOLERANCES,
        unit_of: Callable[[str], str] = output_unit
) -> List[OutputDeviation]:
    """Deviations of exported outputs from PyTorch's, per output.

    ``*joint_img`` is split into ``_xy`` (px) and ``_z`` (bins); poses are
    compared as rotation matrices (``_rotmat``, judged) and as axis-angle
    vectors (reported); render focals relatively.

    Args:
        ref (Mapping[str, Tensor]): PyTorch ``mode='tensor'`` outputs.
        out (Mapping[str, Tensor | np.ndarray]): exported outputs by name;
            every key of ``ref`` except ``img`` must be present.
        tolerances (Mapping[str, float | None]): max |diff| per unit
            (None: reported, not judged). Default
            :data:`EXPORT_TOLERANCES`.
        unit_of (Callable[[str], str]): the unit of an output key. Default
            :func:`output_unit`.

    Returns:
        list[OutputDeviation]: one entry per compared quantity.

    Raises:
        KeyError: an output of ``ref`` is missing from ``out``.
    """
    from interwild_mm.geometry.rotation import axis_angle_to_matrix
    rows = []
    for key in ref:
        if key == 'img':
            continue
        if key not in out:
            raise KeyError(f'exported outputs lack {key!r} (have '
                           f'{sorted(out)}).')
        a = ref[key].detach().cpu().double()
        b = torch.as_tensor(np.asarray(out[key])).double()
        if a.shape != b.shape:
            raise ValueError(f'{key}: exported shape {tuple(b.shape)} != '
                             f'PyTorch shape {tuple(a.shape)}.')
        unit = unit_of(key)
        if key.endswith('joint_img'):
            rows.append(OutputDeviation(key + '_xy', 'px',
                                        _max(a[..., :2] - b[..., :2]),
                                        tolerances['px']))
            rows.append(OutputDeviation(key + '_z', 'bins',
                                        _max(a[..., 2:] - b[..., 2:]),
                                        tolerances['bins']))
            continue
        diff = a - b
        if unit == 'rel':
            diff = diff / a.abs().clamp(min=1e-12)
        rows.append(OutputDeviation(key, unit, _max(diff),
                                    tolerances[unit]))
        if unit == 'rad':
            ra = axis_angle_to_matrix(a.reshape(a.shape[0], -1, 3))
            rb = axis_angle_to_matrix(b.reshape(b.shape[0], -1, 3))
            rows.append(OutputDeviation(key + '_rotmat', 'rot',
                                        _max(ra - rb),
                                        tolerances['rot']))
    return rows


def format_deviations(rows: Sequence[OutputDeviation]) -> str:
    """A text table of :func:`compare_outputs` rows."""
    width = max([len(r.name) for r in rows] + [6])
    lines = [f'{"output":<{width}}  {"max |diff|":>11}  {"tolerance":>9}  '
             'unit  ok']
    for r in rows:
        tol = '-' if r.tolerance is None else f'{r.tolerance:.0e}'
        flag = 'yes' if r.ok else 'NO'
        if r.tolerance is None:
            flag = '(reported)'
        lines.append(f'{r.name:<{width}}  {r.max_abs:>11.3e}  {tol:>9}  '
                     f'{r.unit:<4}  {flag}')
    return '\n'.join(lines)
