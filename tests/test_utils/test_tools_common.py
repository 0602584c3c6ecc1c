# Copyright (c) interwild_mm contributors.
"""The options and the exits every tool shares
(interwild_mm/utils/tools_common.py)."""
import argparse
import os

import pytest
from mmengine.config import Config

from interwild_mm.utils.config import ConfigOverrideError
from interwild_mm.utils.tools_common import (exit_on, merge_runner_tool_args,
                                             parse_runner_tool_args,
                                             runner_tool_parser)


def _parse(argv, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = runner_tool_parser('d', 'cfg', 'wd', 'sd')
    parser.add_argument('checkpoint')
    parser.add_argument('--flag', action='store_true')
    return parse_runner_tool_args(parser, argv)


def test_shared_options_around_the_tools_own(monkeypatch):
    args = _parse(['c.py', 'k.pth', '--flag', '--local-rank', '3',
                   '--cfg-options', 'load_from=x.pth'], monkeypatch)
    assert (args.config, args.checkpoint, args.flag) == ('c.py', 'k.pth',
                                                         True)
    assert args.launcher == 'none' and args.work_dir is None
    assert args.cfg_options == {'load_from': 'x.pth'}
    assert os.environ['LOCAL_RANK'] == '3'
    with pytest.raises(SystemExit):
        _parse(['c.py', 'k.pth', '--launcher', 'ssh'], monkeypatch)


def test_tool_options_then_cfg_options_last(monkeypatch):
    args = _parse(['configs/a_b.py', 'k.pth', '--cfg-options',
                   'load_from=user.pth'], monkeypatch)
    cfg = Config(dict(load_from=None, default_hooks=dict()))
    seen = []

    def tool_args(c: Config, a: argparse.Namespace) -> None:
        seen.append((c.launcher, c.work_dir))
        c.load_from = a.checkpoint

    merge_runner_tool_args(cfg, args, tool_args)
    # launcher and work dir before the tool's own options
    assert seen == [('none', './work_dirs/a_b')]
    # --cfg-options win over what the tool set
    assert cfg.load_from == 'user.pth'


def test_exit_on_names_the_tool_and_lets_other_errors_through(capsys):
    with pytest.raises(SystemExit) as info:
        with exit_on('tools/x.py', ConfigOverrideError, KeyError):
            raise ConfigOverrideError('no effect')
    assert info.value.code == 'tools/x.py: no effect'
    with pytest.raises(ValueError):
        with exit_on('tools/x.py', ConfigOverrideError):
            raise ValueError('other')
