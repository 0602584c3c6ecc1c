# Copyright (c) interwild_mm contributors.
"""Restricted MANO unpickler and MANO path resolution."""
import pickle
import pickletools
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from interwild_mm.mano.io import load_mano_pickle, resolve_mano_dir
from interwild_mm.synthetic import make_synthetic_mano


@pytest.fixture
def no_chumpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import chumpy`` fail even if it were installed."""
    for name in ('chumpy', 'chumpy.ch', 'chumpy.ch_ops', 'chumpy.reordering'):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError):
        import chumpy  # noqa: F401


def _write(tmp_path: Path, data: bytes, name: str = 'model.pkl') -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _fake_chumpy_pickle(payload: dict, protocol: int) -> bytes:
    """Pickle ``payload`` where every ``_Ch`` is a real ``chumpy.ch.Ch``
    global (a throw-away module stands in for chumpy while dumping)."""
    ch_mod = types.ModuleType('chumpy.ch')

    class Ch:

        def __init__(self, x: np.ndarray) -> None:
            # the attributes chumpy's Ch.__getstate__ keeps
            self.x = x
            self._dirty_vars = {'x'}
            self._itr = None
            self._depends_on_deps = {}
            self._make_dense = False
            self._make_sparse = False

    Ch.__module__, Ch.__qualname__ = 'chumpy.ch', 'Ch'
    ch_mod.Ch = Ch
    pkg = types.ModuleType('chumpy')
    pkg.ch = ch_mod
    saved = {k: sys.modules.get(k) for k in ('chumpy', 'chumpy.ch')}
    sys.modules['chumpy'], sys.modules['chumpy.ch'] = pkg, ch_mod
    try:
        data = {k: Ch(v[1]) if isinstance(v, tuple) and v[0] == 'ch' else v
                for k, v in payload.items()}
        return pickle.dumps(data, protocol=protocol)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


@pytest.mark.parametrize('protocol', [0, 2, 4])
def test_chumpy_object_loads_without_chumpy(tmp_path, no_chumpy, protocol):
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7.0
    raw = _fake_chumpy_pickle(
        {'shapedirs': ('ch', x), 'f': np.array([[0, 1, 2]], np.uint32),
         'name': 'lbs'}, protocol)
    globals_used = {arg for op, arg, _ in pickletools.genops(raw)
                    if op.name == 'GLOBAL'}
    if protocol < 4:
        assert 'chumpy.ch Ch' in globals_used
    out = load_mano_pickle(_write(tmp_path, raw))
    assert type(out['shapedirs']) is np.ndarray
    np.testing.assert_array_equal(out['shapedirs'], x)
    assert out['f'].dtype == np.uint32 and out['name'] == 'lbs'


def test_hand_written_protocol0_chumpy(tmp_path, no_chumpy):
    # copy_reg._reconstructor path (Python-2 protocol 0), x is a list.
    raw = (b"(dp0\nS'shapedirs'\np1\nccopy_reg\n_reconstructor\np2\n"
           b"(cchumpy.ch\nCh\np3\nc__builtin__\nobject\np4\nNtp5\nRp6\n"
           b"(dp7\nS'x'\np8\n(lp9\nF1.5\naF-2.0\nasS'_itr'\np10\nNsbs.")
    out = load_mano_pickle(_write(tmp_path, raw))
    np.testing.assert_array_equal(out['shapedirs'], [1.5, -2.0])
    assert out['shapedirs'].dtype == np.float64


def test_synthetic_files_load_like_official(synthetic_mano_dir, no_chumpy):
    expected = make_synthetic_mano(seed=0)
    for side, fname in (('right', 'MANO_RIGHT.pkl'),
                        ('left', 'MANO_LEFT.pkl')):
        raw = (synthetic_mano_dir / fname).read_bytes()
        globals_used = {arg for op, arg, _ in pickletools.genops(raw)
                        if op.name == 'GLOBAL'}
        # written like the Python-2 originals
        assert {'chumpy.ch Ch', 'scipy.sparse.csc csc_matrix',
                'numpy.core.multiarray _reconstruct'} <= globals_used
        out = load_mano_pickle(synthetic_mano_dir / fname)
        ref = expected[side]
        assert set(out) == set(ref)
        assert isinstance(out['shapedirs'], np.ndarray)
        assert sp.issparse(out['J_regressor'])
        assert out['J_regressor'].format == 'csc'
        for key in ('v_template', 'shapedirs', 'posedirs', 'weights',
                    'hands_mean', 'hands_components', 'kintree_table', 'f'):
            np.testing.assert_array_equal(out[key], ref[key])
            assert out[key].dtype == ref[key].dtype
        np.testing.assert_array_equal(out['J_regressor'].toarray(),
                                      ref['J_regressor'].toarray())
        assert out['bs_style'] == 'lbs' and out['bs_type'] == 'lrotmin'


def test_modern_pickles_of_numpy_and_sparse(tmp_path):
    csr = sp.random(5, 7, density=0.3, format='csr', random_state=0)
    coo = sp.random(4, 3, density=0.5, format='coo', random_state=1)
    data = {'a': np.arange(6.0).reshape(2, 3), 'csr': csr, 'coo': coo,
            'i': np.int64(3), 'k': np.array([1, 2], dtype='>i4')}
    for protocol in (2, 5):
        out = load_mano_pickle(
            _write(tmp_path, pickle.dumps(data, protocol=protocol)))
        np.testing.assert_array_equal(out['a'], data['a'])
        np.testing.assert_array_equal(out['csr'].toarray(), csr.toarray())
        np.testing.assert_array_equal(out['coo'].toarray(), coo.toarray())
        assert out['i'] == 3
        np.testing.assert_array_equal(out['k'], [1, 2])


class _Evil:

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg, ))


@pytest.mark.parametrize('kind', ['os.system', 'builtins.eval',
                                  'subprocess.Popen', 'py2_builtin_eval'])
def test_refuses_code_execution(tmp_path, kind):
    marker = tmp_path / 'pwned'
    cmd = f'touch {marker}'
    if kind == 'os.system':
        import os
        raw = pickle.dumps({'x': _Evil(os.system, cmd)}, protocol=2)
        names = ('os.system', 'posix.system')
    elif kind == 'builtins.eval':
        code = f'open({str(marker)!r}, "w").close()'
        raw = pickle.dumps({'x': _Evil(eval, code)}, protocol=4)
        names = ('builtins.eval', )
    elif kind == 'subprocess.Popen':
        import subprocess
        raw = pickle.dumps({'x': _Evil(subprocess.Popen, ['touch',
                                                          str(marker)])})
        names = ('subprocess.Popen', )
    else:
        raw = (b"(dp0\nS'x'\nc__builtin__\neval\n(S'open(%r, \"w\")'\ntRs."
               % str(marker).encode())
        names = ('__builtin__.eval', )
    path = _write(tmp_path, raw)
    with pytest.raises(pickle.UnpicklingError) as err:
        load_mano_pickle(path)
    assert any(n in str(err.value) for n in names), str(err.value)
    assert not marker.exists()
    # sanity: the payload really is harmful with the stock unpickler
    if kind == 'builtins.eval':
        pickle.loads(raw)
        assert marker.exists()


def test_refuses_other_classes_and_non_dicts(tmp_path):
    from collections import OrderedDict
    with pytest.raises(pickle.UnpicklingError, match='collections'):
        load_mano_pickle(_write(tmp_path, pickle.dumps(OrderedDict(a=1))))
    with pytest.raises(pickle.UnpicklingError, match='MANO model dict'):
        load_mano_pickle(_write(tmp_path, pickle.dumps([1, 2])))
    with pytest.raises(FileNotFoundError, match='mano.is.tue.mpg.de'):
        load_mano_pickle(tmp_path / 'missing.pkl')


# ----------------------------------------------------------------- paths
def _make_dir(root: Path, name: str, files: bool = True) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    if files:
        for f in ('MANO_RIGHT.pkl', 'MANO_LEFT.pkl'):
            (folder / f).write_bytes(b'')
    return folder


def test_resolve_priority(tmp_path, monkeypatch):
    explicit = _make_dir(tmp_path, 'explicit')
    env = _make_dir(tmp_path, 'env')
    default = _make_dir(tmp_path / 'cwd', 'data/mano')
    monkeypatch.chdir(tmp_path / 'cwd')
    monkeypatch.setenv('INTERWILD_MANO_DIR', str(env))
    assert resolve_mano_dir(str(explicit)) == explicit
    assert resolve_mano_dir(explicit) == explicit
    assert resolve_mano_dir(None) == env
    monkeypatch.delenv('INTERWILD_MANO_DIR')
    assert resolve_mano_dir().resolve() == default.resolve()
    assert resolve_mano_dir() == Path('data/mano')


def test_resolve_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('INTERWILD_MANO_DIR', raising=False)
    with pytest.raises(FileNotFoundError) as err:
        resolve_mano_dir()
    msg = str(err.value)
    for part in ('data/mano', 'https://mano.is.tue.mpg.de', 'Models & Code',
                 'mano_v1_2/models/', 'INTERWILD_MANO_DIR',
                 'python tools/make_synthetic_mano.py data/mano_synthetic',
                 'default location'):
        assert part in msg, part
    monkeypatch.setenv('INTERWILD_MANO_DIR', str(tmp_path / 'nope'))
    with pytest.raises(FileNotFoundError, match='environment variable'):
        resolve_mano_dir()
    half = _make_dir(tmp_path, 'half', files=False)
    (half / 'MANO_RIGHT.pkl').write_bytes(b'')
    with pytest.raises(FileNotFoundError) as err:
        resolve_mano_dir(half)
    assert 'MANO_LEFT.pkl' in str(err.value)
    assert 'MANO_RIGHT.pkl,' not in str(err.value)
    assert '`model_dir` argument' in str(err.value)
