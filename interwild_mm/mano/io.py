# Copyright (c) interwild_mm contributors.
"""Locating and safely reading the MANO model files.

The official ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` are Python-2 pickles of a
dict of numpy arrays, one ``scipy.sparse.csc_matrix`` (``J_regressor``) and
``chumpy.ch.Ch`` objects (``shapedirs``). Unpickling them normally needs
chumpy installed and would execute whatever callable the file names.
:func:`load_mano_pickle` instead uses a restricted unpickler that resolves
only an allow-list of numpy / scipy.sparse / chumpy globals, maps the scipy
and chumpy classes to inert stand-ins (nothing of scipy or chumpy is executed)
and afterwards turns them into ``np.ndarray`` / ``scipy.sparse`` matrices.
Any other global (``os.system``, ``builtins.eval``, ...) is refused with a
:class:`pickle.UnpicklingError` before it is called.
"""
import os
import pickle
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp

MANO_DIR_ENV = 'INTERWILD_MANO_DIR'
DEFAULT_MANO_DIR = 'data/mano'
MANO_FILES: Dict[str, str] = {
    'right': 'MANO_RIGHT.pkl',
    'left': 'MANO_LEFT.pkl',
}

_DOWNLOAD_HELP = (
    'MANO is licensed and is not shipped with interwild_mm. Download it from '
    'https://mano.is.tue.mpg.de (register, then "Models & Code"), unzip it '
    'and take the folder `mano_v1_2/models/` (it holds MANO_RIGHT.pkl and '
    f'MANO_LEFT.pkl). Put its content into `{DEFAULT_MANO_DIR}/` (relative to '
    f'the working directory), or set the environment variable {MANO_DIR_ENV} '
    'to that folder, or pass `model_dir=`. For tests, a synthetic stand-in '
    'is made by `python tools/make_synthetic_mano.py data/mano_synthetic`.')


def resolve_mano_dir(model_dir: Optional[Union[str, os.PathLike]] = None,
                     check_files: bool = True) -> Path:
    """Resolve the folder that holds ``MANO_RIGHT.pkl`` and ``MANO_LEFT.pkl``.

    This is the single place where the project decides where MANO lives.
    Priority: the explicit ``model_dir`` argument, else the environment
    variable ``INTERWILD_MANO_DIR``, else ``data/mano`` relative to the
    current working directory.

    Args:
        model_dir (str | PathLike, optional): Explicit folder. ``None`` (or
            an empty string) falls back to the environment / default.
        check_files (bool): Also require both pickle files to exist.
            Defaults to True.

    Returns:
        Path: The resolved folder.

    Raises:
        FileNotFoundError: If the folder (or, with ``check_files``, one of
            the two files) is missing. The message says where to download
            MANO and where to put it.
    """
    if model_dir is not None and str(model_dir) != '':
        folder, source = Path(model_dir), 'the `model_dir` argument'
    elif os.environ.get(MANO_DIR_ENV):
        folder = Path(os.environ[MANO_DIR_ENV])
        source = f'the environment variable {MANO_DIR_ENV}'
    else:
        folder = Path(DEFAULT_MANO_DIR)
        source = f'the default location `{DEFAULT_MANO_DIR}`'
    folder = folder.expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f'MANO model folder {str(folder)!r} (from {source}) does not '
            f'exist. {_DOWNLOAD_HELP}')
    if check_files:
        missing = [f for f in MANO_FILES.values()
                   if not (folder / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f'MANO model folder {str(folder)!r} (from {source}) lacks '
                f'{", ".join(missing)}. {_DOWNLOAD_HELP}')
    return folder


# ---------------------------------------------------------------------------
# Inert stand-ins for the classes a MANO pickle references.
# ---------------------------------------------------------------------------
class _PickledObject:
    """Base of the stand-ins: records the pickled state, runs no code."""

    _global_name: str = ''

    def __setstate__(self, state: Any) -> None:
        object.__setattr__(self, '_state', state)

    def __setattr__(self, name: str, value: Any) -> None:
        # BUILD without __setstate__ is never used (we define it), but keep
        # attribute setting from a pickle side-effect free anyway.
        object.__setattr__(self, name, value)


class _ChumpyObject(_PickledObject):
    """Stand-in for any ``chumpy`` array class (``chumpy.ch.Ch`` & co.)."""


class _SparseMatrix(_PickledObject):
    """Stand-in for a ``scipy.sparse`` matrix; ``_format`` set per class."""

    _format: str = ''


_STUB_CACHE: Dict[Tuple[str, str], type] = {}


def _stub_class(base: type, module: str, name: str, **attrs: Any) -> type:
    key = (module, name)
    if key not in _STUB_CACHE:
        _STUB_CACHE[key] = type(
            f'_Pickled_{name}', (base, ),
            dict(_global_name=f'{module}.{name}', **attrs))
    return _STUB_CACHE[key]


def _safe_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """Protocol 0/1 ``copy_reg._reconstructor`` limited to our stand-ins."""
    if not (isinstance(cls, type) and issubclass(cls, _PickledObject)
            and base is object and state is None):
        raise pickle.UnpicklingError(
            f'copy_reg._reconstructor called with {cls!r}, {base!r}: only '
            'numpy / scipy.sparse / chumpy objects are allowed in a MANO '
            'file')
    return object.__new__(cls)


def _safe_codecs_encode(text: Any, encoding: str = 'utf-8') -> bytes:
    """``_codecs.encode`` as used by protocol-2 pickles of ``bytes``."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError(
            '_codecs.encode is only allowed on str with latin1 encoding')
    return text.encode('latin1')


def _numpy_globals() -> Dict[Tuple[str, str], Any]:
    """The numpy callables that pickled arrays / dtypes / scalars use."""
    reconstruct = np.ndarray((0, )).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    table: Dict[Tuple[str, str], Any] = {
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
    }
    for pkg in ('numpy.core', 'numpy._core'):
        table[(f'{pkg}.multiarray', '_reconstruct')] = reconstruct
        table[(f'{pkg}.multiarray', 'scalar')] = scalar
        table[(f'{pkg}.numeric', '_frombuffer')] = frombuffer
    return table


_NUMPY_GLOBALS = _numpy_globals()
_BUILTIN_GLOBALS: Dict[str, Any] = {
    'set': set,
    'frozenset': frozenset,
    'object': object,
}
_SPARSE_FORMATS = {'csc': 'csc', 'csr': 'csr', 'coo': 'coo'}


class _MANOUnpickler(pickle.Unpickler):
    """Unpickler admitting only numpy, scipy.sparse and chumpy globals."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_GLOBALS:
            return _NUMPY_GLOBALS[(module, name)]
        if module in ('__builtin__', 'builtins') and name in _BUILTIN_GLOBALS:
            return _BUILTIN_GLOBALS[name]
        if module in ('copy_reg', 'copyreg') and name == '_reconstructor':
            return _safe_reconstructor
        if module == '_codecs' and name == 'encode':
            return _safe_codecs_encode
        if (module == 'chumpy' or module.startswith('chumpy.')) and \
                name.isidentifier():
            # Any chumpy class (ch.Ch, ch_ops.*, reordering.*): an inert
            # stand-in; its state is turned into an array after loading.
            return _stub_class(_ChumpyObject, module, name)
        if module == 'scipy.sparse' or module.startswith('scipy.sparse.'):
            fmt = name.split('_')[0]
            if name in (f'{fmt}_matrix', f'{fmt}_array') and \
                    fmt in _SPARSE_FORMATS:
                return _stub_class(_SparseMatrix, module, name, _format=fmt)
        raise pickle.UnpicklingError(
            f'Refusing to load global {module}.{name!s} from a MANO file: '
            'only numpy arrays, scipy.sparse matrices and chumpy arrays are '
            'allowed (the file may be corrupted or malicious).')


def _chumpy_to_array(obj: _ChumpyObject, seen: Dict[int, Any]) -> np.ndarray:
    state = getattr(obj, '_state', None)
    if not isinstance(state, dict) or 'x' not in state:
        raise pickle.UnpicklingError(
            f'Cannot convert the chumpy object {obj._global_name} without '
            'chumpy: only plain chumpy arrays (state with an "x" entry) are '
            'supported. Convert the file with chumpy installed first.')
    value = _to_plain(state['x'], seen)
    if sp.issparse(value):
        value = value.toarray()
    array = np.asarray(value)
    if array.dtype.kind in 'biuf':
        array = array.astype(np.float64)
    return array


def _sparse_to_matrix(obj: _SparseMatrix, seen: Dict[int, Any]) -> Any:
    state = getattr(obj, '_state', None)
    if not isinstance(state, dict):
        raise pickle.UnpicklingError(
            f'Unexpected pickled state for {obj._global_name}.')
    state = {k: _to_plain(v, seen) for k, v in state.items()}
    shape = state.get('_shape', state.get('shape'))
    try:
        shape = tuple(int(s) for s in shape)
        data = np.asarray(state['data'])
        if obj._format == 'coo':
            row = np.asarray(state.get('row', state.get('coords', [None])[0]))
            col = np.asarray(state.get('col', state.get('coords', [None])[-1]))
            return sp.coo_matrix((data, (row, col)), shape=shape)
        cls = sp.csc_matrix if obj._format == 'csc' else sp.csr_matrix
        return cls((data, np.asarray(state['indices']),
                    np.asarray(state['indptr'])), shape=shape)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise pickle.UnpicklingError(
            f'Malformed pickled {obj._global_name}: {err}') from err


def _to_plain(obj: Any, seen: Dict[int, Any]) -> Any:
    """Recursively replace the stand-ins by numpy / scipy objects."""
    if id(obj) in seen:
        return seen[id(obj)]
    if isinstance(obj, _ChumpyObject):
        out: Any = _chumpy_to_array(obj, seen)
    elif isinstance(obj, _SparseMatrix):
        out = _sparse_to_matrix(obj, seen)
    elif isinstance(obj, dict):
        out = {k: _to_plain(v, seen) for k, v in obj.items()}
    elif isinstance(obj, list):
        out = [_to_plain(v, seen) for v in obj]
    elif isinstance(obj, tuple):
        out = tuple(_to_plain(v, seen) for v in obj)
    else:
        out = obj
    seen[id(obj)] = out
    return out


def load_mano_pickle(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Read a MANO model pickle without chumpy and without running its code.

    Args:
        path (str | PathLike): ``MANO_RIGHT.pkl`` or ``MANO_LEFT.pkl`` (the
            official Python-2 files or ones written by
            :func:`interwild_mm.synthetic.write_synthetic_mano`).

    Returns:
        dict: The model entries; chumpy arrays became ``np.ndarray``
        (float64), ``J_regressor`` stays a ``scipy.sparse`` matrix.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        pickle.UnpicklingError: If the file references any global outside
            the numpy / scipy.sparse / chumpy allow-list (named in the
            message) or is not a dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f'MANO model file {str(path)!r} does not exist. {_DOWNLOAD_HELP}')
    with open(path, 'rb') as f:
        data = _MANOUnpickler(f, encoding='latin1').load()
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(
            f'{str(path)!r} does not hold a MANO model dict (got '
            f'{type(data).__name__}).')
    return _to_plain(data, {})
