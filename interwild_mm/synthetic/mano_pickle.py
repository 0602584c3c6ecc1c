# Copyright (c) interwild_mm contributors.
"""Pickles that look like the official (Python 2, chumpy) MANO files.

The official ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` are protocol-2 pickles
written by Python 2: byte strings, ``numpy.core.multiarray`` names, a
``chumpy.ch.Ch`` object for ``shapedirs`` and a
``scipy.sparse.csc.csc_matrix`` for ``J_regressor``
(``docs/official_conventions.md §0.1``). :func:`dumps_official_style`
writes a model dict with exactly that encoding, so the restricted
unpickler of ``interwild_mm.mano.io`` is exercised as with the real files.
"""
import copyreg
import io
import pickle
import struct
from typing import Any, Dict, Tuple

import numpy as np
import scipy.sparse as sp

__all__ = ['dumps_official_style']


class _ChumpyLike:
    """Pickles as a ``chumpy.ch.Ch`` holding ``x`` (like chumpy does)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __reduce_ex__(self, protocol: int) -> Tuple:
        state = {
            'x': self.x,
            '_dirty_vars': set(),
            '_itr': None,
            '_depends_on_deps': {},
            '_make_dense': False,
            '_make_sparse': False,
        }
        return (copyreg.__newobj__, (type(self), ), state)


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Protocol-2 pickler writing Python-2 names and byte strings."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    _RENAMES = {
        _ChumpyLike: ('chumpy.ch', 'Ch'),
        sp.csc_matrix: ('scipy.sparse.csc', 'csc_matrix'),
    }

    def save_global(self, obj: Any, name: Any = None) -> None:
        target = self._RENAMES.get(obj) if isinstance(obj, type) else None
        module = getattr(obj, '__module__', '') or ''
        if target is None and module.startswith('numpy._core'):
            target = ('numpy.core' + module[len('numpy._core'):],
                      name or obj.__qualname__)
        if target is None:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL +
                   f'{target[0]}\n{target[1]}\n'.encode('ascii'))
        self.memoize(obj)

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[type] = save_global


def dumps_official_style(model: Dict[str, Any]) -> bytes:
    """Pickle a MANO model dict the way the official files are pickled.

    Args:
        model (dict): the official entries (plain numpy arrays and a
            ``scipy.sparse`` ``J_regressor``).

    Returns:
        bytes: the file content (``shapedirs`` as a ``chumpy.ch.Ch``,
        ``J_regressor`` as ``scipy.sparse.csc.csc_matrix``).
    """
    data = dict(model)
    data['shapedirs'] = _ChumpyLike(np.asarray(model['shapedirs']))
    jreg = model['J_regressor']
    data['J_regressor'] = sp.csc_matrix(
        (jreg.data, jreg.indices, jreg.indptr), shape=jreg.shape)
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(data)
    return buf.getvalue()
