# Copyright (c) interwild_mm contributors.
"""Safe checkpoint loading (interwild_mm.utils.checkpoint).

Covers, once the explicit step ``enable_safe_checkpoint_loading()`` ran:
mmengine Runner save -> resume round trip (iteration counter, weights,
optimizer state, message hub history, numpy dataset_meta) through mmengine's
own code paths; refusal of checkpoints that carry code (nothing executes);
HTTP loading; numpy-1.x pickles; the allow-list staying scoped. That
``import interwild_mm`` alone changes nothing is tested in
``test_import_side_effects.py``.
"""
import copy
import functools
import http.server
import io
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint
from mmengine.runner import checkpoint as mm_ckpt
from torch.utils.data import Dataset

from interwild_mm.engine.pretrained import load_torchvision_checkpoint
from interwild_mm.utils.checkpoint import (UnsafeCheckpointError,
                                           enable_safe_checkpoint_loading,
                                           load_from_http_safe,
                                           load_from_local_safe,
                                           safe_checkpoint_loading_enabled,
                                           safe_torch_load)
from ._malicious import OpenPayload


@pytest.fixture(autouse=True, scope='module')
def _enabled():
    enable_safe_checkpoint_loading()


# ----------------------------------------------------------------- toy setup
class ToyModel(BaseModel):
    """y = W x + b, MSE loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, inputs, target=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((out - target)**2).mean())
        return out


class ToyDataset(Dataset):
    """8 fixed samples; metainfo holds numpy data like mmpose's meta."""

    # Runner.save_checkpoint stores this under meta['dataset_meta'].
    metainfo = dict(
        dataset_name='toy',
        sigmas=np.linspace(0.1, 0.4, 4, dtype=np.float32),
        flip_indices=np.array([1, 0, 3, 2], dtype=np.int64),
        keypoint_weights=np.ones((4, ), dtype=np.float64),
        valid=np.array([True, False]),
        num_keypoints=np.int64(4),
        scale=np.float64(0.5),
    )

    def __len__(self) -> int:
        return 8

    def __getitem__(self, idx: int) -> dict:
        x = torch.arange(4, dtype=torch.float32) + idx
        return dict(inputs=x / 10, target=torch.tensor([1.0, -1.0]))


class RecordBeforeTrain(Hook):
    """Snapshot what the runner holds right after load_or_resume()."""

    def __init__(self) -> None:
        self.record = {}

    def before_train(self, runner) -> None:
        self.record = dict(
            iter=runner.iter,
            state=copy.deepcopy(runner.model.state_dict()),
            optim=copy.deepcopy(runner.optim_wrapper.optimizer.state_dict()),
            loss_hist=runner.message_hub.get_scalar(
                'train/loss').data[0].copy(),
            dataset_meta=runner.message_hub.get_info('dataset_meta'))


def make_runner(work_dir: Path, name: str, max_iters: int, resume: bool,
                hooks=None) -> Runner:
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=hooks,
        resume=resume,
        randomness=dict(seed=0),
        log_level='WARNING')


def _opt_tensors(optim_state: dict) -> dict:
    return {(pid, key): value
            for pid, st in optim_state['state'].items()
            for key, value in st.items()}


# ----------------------------------------------------------------- resume
def test_runner_resume_roundtrip(tmp_path):
    work_dir = tmp_path / 'work'
    r1 = make_runner(work_dir, f'ck_first_{id(tmp_path)}', 2, resume=False)
    r1.train()
    assert r1.iter == 2
    assert (work_dir / 'iter_2.pth').is_file()
    saved_state = {k: v.clone() for k, v in r1.model.state_dict().items()}
    saved_optim = copy.deepcopy(r1.optim_wrapper.optimizer.state_dict())
    saved_loss = r1.message_hub.get_scalar('train/loss').data[0].copy()
    assert len(saved_loss) == 2
    # momentum buffers exist, so optimizer state is not trivially empty
    assert len(_opt_tensors(saved_optim)) == 2

    recorder = RecordBeforeTrain()
    torch.manual_seed(1234)  # different initial weights for the new runner
    r2 = make_runner(work_dir, f'ck_second_{id(tmp_path)}', 4, resume=True,
                     hooks=[recorder])
    fresh = r2.model.state_dict()
    assert not torch.equal(fresh['linear.weight'],
                           saved_state['linear.weight'])
    r2.train()

    rec = recorder.record
    assert rec['iter'] == 2
    for key, value in saved_state.items():
        assert torch.equal(rec['state'][key], value), key
    got, want = _opt_tensors(rec['optim']), _opt_tensors(saved_optim)
    assert got.keys() == want.keys()
    for key in want:
        assert torch.equal(got[key], want[key]), key
    assert rec['optim']['param_groups'][0]['lr'] == pytest.approx(0.1)
    assert rec['optim']['param_groups'][0]['momentum'] == pytest.approx(0.9)
    # HistoryBuffer from the message hub came back with its history
    np.testing.assert_array_equal(rec['loss_hist'], saved_loss)

    # training continued to iteration 4 and changed the weights
    assert r2.iter == 4
    assert (work_dir / 'iter_4.pth').is_file()
    assert not torch.equal(r2.model.state_dict()['linear.weight'],
                           saved_state['linear.weight'])


def test_local_loaders_return_mmengine_checkpoint(tmp_path):
    work_dir = tmp_path / 'work'
    runner = make_runner(work_dir, f'ck_load_{id(tmp_path)}', 2, False)
    runner.train()
    path = str(work_dir / 'iter_2.pth')

    loader = CheckpointLoader._get_checkpoint_loader(path)
    assert loader is load_from_local_safe
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    meta = ckpt['meta']
    assert meta['iter'] == 2
    dm = meta['dataset_meta']
    for key, value in ToyDataset.metainfo.items():
        got = dm[key]
        if isinstance(value, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == value.dtype
            np.testing.assert_array_equal(got, value)
        else:
            assert got == value and type(got) is type(value)
    hb = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(hb, HistoryBuffer)
    assert hb.statistics('current') == pytest.approx(float(hb.data[0][-1]))
    assert hb.mean() == pytest.approx(float(np.mean(hb.data[0])))

    # mmengine's public helper loads the weights into a new model
    model = ToyModel()
    load_checkpoint(model, path, map_location='cpu')
    for key, value in runner.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_explicit_step_registers_safe_loaders():
    enable_safe_checkpoint_loading()  # idempotent
    assert safe_checkpoint_loading_enabled()
    assert CheckpointLoader._get_checkpoint_loader('a/b.pth') \
        is load_from_local_safe
    assert CheckpointLoader._get_checkpoint_loader('https://x/y.pth') \
        is load_from_http_safe
    assert CheckpointLoader._get_checkpoint_loader('http://x/y.pth') \
        is load_from_http_safe
    for name in ('torchvision://resnet18', 'modelzoo://resnet18'):
        assert CheckpointLoader._get_checkpoint_loader(name) \
            is load_torchvision_checkpoint
    # open-mmlab:// and mmcls:// call this module attribute directly
    assert mm_ckpt.load_from_http is load_from_http_safe


# ----------------------------------------------------------------- refusal
class SystemPayload:
    """Unpickling it runs a shell command creating the marker."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class GetattrPayload:
    """getattr on an allow-listed class, but not a statistics method."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'update'))


class NotAllowed:
    """An arbitrary user class (never on the allow-list)."""

    def __init__(self) -> None:
        self.value = 3


def _write_ckpt(path: Path, payload) -> None:
    # meta first: an unrestricted unpickler reaches the payload before any
    # tensor (see test_open_payload_is_live)
    torch.save(
        dict(
            meta=dict(iter=1, extra=payload),
            state_dict={'w': torch.ones(2)}), path)


@pytest.mark.parametrize(
    'kind,refused',
    [('open', 'open'), ('system', 'system'), ('getattr', 'update'),
     ('class', 'NotAllowed')])
@pytest.mark.parametrize('force_no_weights_only', [False, True])
def test_unsafe_checkpoint_refused_nothing_runs(tmp_path, monkeypatch, kind,
                                                refused,
                                                force_no_weights_only):
    if force_no_weights_only:
        # must not re-enable full unpickling: we pass weights_only=True
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'PWNED'
    payload = dict(
        open=lambda: OpenPayload(str(marker)),
        system=lambda: SystemPayload(str(marker)),
        getattr=GetattrPayload,
        **{'class': NotAllowed})[kind]()
    path = tmp_path / 'evil.pth'
    _write_ckpt(path, payload)
    assert not marker.exists()

    loaders = [
        lambda: safe_torch_load(str(path)),
        lambda: CheckpointLoader.load_checkpoint(str(path)),
        lambda: load_checkpoint(ToyModel(), str(path)),
    ]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError) as err:
            load()
        msg = str(err.value)
        assert refused in msg
        assert str(path) in msg or 'getattr' in msg
        assert not marker.exists()


def test_open_payload_is_live(tmp_path):
    """Control for the refusal test: the payload really executes when the
    file is opened by an unrestricted unpickler (done in a subprocess)."""
    marker = tmp_path / 'PWNED'
    path = tmp_path / 'evil.pth'
    _write_ckpt(path, OpenPayload(str(marker)))
    # plain pickle on data.pkl; tensors are not needed (they come after the
    # payload and fail to rebuild without storages, which is ignored)
    code = ('import io, pickle, sys, zipfile\n'
            'z = zipfile.ZipFile(sys.argv[1])\n'
            'name = [n for n in z.namelist() if n.endswith("data.pkl")][0]\n'
            'class U(pickle.Unpickler):\n'
            '    def persistent_load(self, pid):\n'
            '        return None\n'
            'try:\n'
            '    U(io.BytesIO(z.read(name))).load()\n'
            'except Exception:\n'
            '    pass\n')
    subprocess.run([sys.executable, '-c', code, str(path)], check=True,
                   cwd=str(Path(__file__).parent))
    assert marker.exists()


def test_allow_list_is_scoped(tmp_path):
    path = tmp_path / 'ok.pth'
    torch.save({'hb': HistoryBuffer([1.0, 2.0], [1, 1])}, path)

    class UserType:
        pass

    torch.serialization.add_safe_globals([UserType])
    try:
        out = safe_torch_load(str(path))
        after = torch.serialization.get_safe_globals()
    finally:
        torch.serialization.clear_safe_globals()
    assert out['hb'].mean() == pytest.approx(1.5)
    assert UserType in after  # the user's registration survived
    assert HistoryBuffer not in after  # ours did not leak
    # and outside the context plain torch.load still refuses HistoryBuffer
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(path, weights_only=True)


def _rewrite_pickle(src: Path, dst: Path, old: bytes, new: bytes) -> None:
    """Copy a torch zip checkpoint, editing its data.pkl bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(
            dst, 'w', compression=zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('data.pkl'):
                assert old in data
                data = data.replace(old, new)
            zout.writestr(item, data)


def test_numpy1_style_pickle_loads(tmp_path):
    """Checkpoints written under numpy 1.x name numpy.core.multiarray."""
    src, dst = tmp_path / 'np2.pth', tmp_path / 'np1.pth'
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    torch.save({'meta': {'a': arr, 's': np.float64(2.5)}}, src)
    _rewrite_pickle(src, dst, b'numpy._core.multiarray',
                    b'numpy.core.multiarray')
    out = safe_torch_load(str(dst))
    np.testing.assert_array_equal(out['meta']['a'], arr)
    assert out['meta']['s'] == 2.5 and isinstance(out['meta']['s'],
                                                  np.float64)


# ----------------------------------------------------------------- http
@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / 'srv'
    root.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_http_loader_safe(http_dir, tmp_path, monkeypatch):
    root, url = http_dir
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    good = {'state_dict': {'w': torch.arange(3.)},
            'message_hub': {'h': HistoryBuffer([4.0], [1])},
            'meta': {'sig': np.ones(2, np.float32)}}
    torch.save(good, root / 'good.pth')
    ckpt = CheckpointLoader.load_checkpoint(f'{url}/good.pth')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))
    assert ckpt['message_hub']['h'].current() == 4.0
    np.testing.assert_array_equal(ckpt['meta']['sig'], np.ones(2))
    assert (tmp_path / 'hub' / 'checkpoints' / 'good.pth').is_file()

    marker = tmp_path / 'PWNED'
    _write_ckpt(root / 'evil.pth', OpenPayload(str(marker)))
    with pytest.raises(UnsafeCheckpointError, match='open') as err:
        CheckpointLoader.load_checkpoint(f'{url}/evil.pth')
    assert f'{url}/evil.pth' in str(err.value)
    assert not marker.exists()


def test_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match='can not be found'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


def test_bytes_io_source():
    buf = io.BytesIO()
    torch.save({'x': np.zeros(2)}, buf)
    buf.seek(0)
    out = safe_torch_load(buf)
    np.testing.assert_array_equal(out['x'], np.zeros(2))
