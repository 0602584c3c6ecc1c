# Copyright (c) interwild_mm contributors.
"""What the command-line tools share (``tools/train.py``,
``tools/test.py``; :func:`exit_on` also ``tools/browse_dataset.py`` and
``tools/quickstart.py``).

* :func:`runner_tool_parser` and :func:`parse_runner_tool_args`: the
  options of every Runner tool (the config, ``--work-dir``, ``--show-dir``,
  ``--cfg-options``, ``--launcher``, ``--local-rank``) around the tool's own;
* :func:`merge_runner_tool_args`: those options applied to the config, the
  tool's own in between and ``--cfg-options`` last (so they win);
* :func:`build_runner`: safe checkpoint loading, the config, the CPU
  threads, the CPU process group and the Runner, in that order;
* :func:`exit_on`: an expected error ends the tool with one line
  ``<tool>: <message>`` (exit status 1) instead of a traceback.

The tools set ``OMP_WAIT_POLICY`` before importing this module (it imports
torch; ``interwild_mm/engine/threads.py`` explains the rule).
"""
import argparse
import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Tuple, Type

from mmengine.config import Config
from mmengine.runner import Runner

from interwild_mm.engine.threads import configure_threads
from .checkpoint import enable_safe_checkpoint_loading
from .config import (ConfigOverrideError, add_cfg_options_argument,
                     enable_visualization, merge_cfg_options, set_work_dir)
from .dist import (destroy_process_group, init_cpu_process_group,
                   use_cpu_backend)

__all__ = [
    'LAUNCHERS', 'runner_tool_parser', 'parse_runner_tool_args',
    'merge_runner_tool_args', 'thread_note', 'build_runner', 'exit_on'
]

#: the ``--launcher`` choices (mmengine's)
LAUNCHERS: Tuple[str, ...] = ('none', 'pytorch', 'slurm', 'mpi')


def runner_tool_parser(description: str, config_help: str,
                       work_dir_help: str,
                       show_dir_help: str) -> argparse.ArgumentParser:
    """A parser with the config path, ``--work-dir`` and ``--show-dir``;
    the tool adds its own arguments, then calls
    :func:`parse_runner_tool_args`.

    Args:
        description (str): The tool's ``--help`` description.
        config_help (str): Help of the positional config path.
        work_dir_help (str): Help of ``--work-dir``.
        show_dir_help (str): Help of ``--show-dir``.

    Returns:
        argparse.ArgumentParser: The parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument('--show-dir', help=show_dir_help)
    return parser


def parse_runner_tool_args(
        parser: argparse.ArgumentParser,
        argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank``, parse,
    and export ``LOCAL_RANK`` (from ``--local-rank``) unless it is set.

    ``torch.distributed.launch`` passes ``--local-rank``; torchrun sets
    ``LOCAL_RANK`` itself.

    Args:
        parser (argparse.ArgumentParser): From :func:`runner_tool_parser`,
            with the tool's own arguments.
        argv (list[str], optional): The arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    add_cfg_options_argument(parser)
    parser.add_argument(
        '--launcher', choices=list(LAUNCHERS), default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_runner_tool_args(
        cfg: Config, args: argparse.Namespace,
        merge_tool_args: Callable[[Config, argparse.Namespace], None]
) -> Config:
    """Apply the command-line options to ``cfg`` (in place).

    The launcher and the work dir (:func:`set_work_dir`) first, then the
    tool's own options (``merge_tool_args``), ``--show-dir``
    (:func:`enable_visualization`), ``--cfg-options``
    (:func:`merge_cfg_options`, last so they win) and gloo for a
    distributed run without a GPU (:func:`use_cpu_backend`).

    Args:
        cfg (Config): The config, changed in place.
        args (argparse.Namespace): From :func:`parse_runner_tool_args`.
        merge_tool_args (Callable): Applies the tool's own options.

    Returns:
        Config: ``cfg``.

    Raises:
        ConfigOverrideError: A ``--cfg-options`` entry would have no effect.
    """
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    merge_tool_args(cfg, args)
    enable_visualization(cfg, args.show_dir)
    merge_cfg_options(cfg, args.cfg_options)
    use_cpu_backend(cfg)
    return cfg


def thread_note(info: dict) -> str:
    """One line on the main process's CPU threads (for the log).

    Args:
        info (dict): What :func:`configure_threads` returns.

    Returns:
        str: The line.
    """
    why = ('from OMP_NUM_THREADS' if info['source'] == 'OMP_NUM_THREADS'
           else 'max(1, cores // ranks - num_workers - 1)')
    return (f"CPU threads: {info['threads']} in the main process ({why}; "
            f"{info['cpus']} cores, {info['local_world_size']} rank(s) "
            f"here, {info['num_workers']} data workers per rank)")


def build_runner(tool: str, args: argparse.Namespace,
                 merge_tool_args: Callable[[Config, argparse.Namespace],
                                           None],
                 phase: str, announce_threads: bool = False) -> Runner:
    """Safe checkpoint loading, the config with the command-line options
    (:func:`merge_runner_tool_args`), the CPU threads, the CPU process
    group, then the Runner.

    Args:
        tool (str): The tool's name for error lines (``tools/train.py``).
        args (argparse.Namespace): From :func:`parse_runner_tool_args`.
        merge_tool_args (Callable): Applies the tool's own options.
        phase (str): ``'train'`` or ``'test'`` (:func:`configure_threads`).
        announce_threads (bool): Print :func:`thread_note`.

    Returns:
        Runner: Built from the config (``runner.cfg``).
    """
    enable_safe_checkpoint_loading()
    with exit_on(tool, ConfigOverrideError):
        cfg = merge_runner_tool_args(
            Config.fromfile(args.config), args, merge_tool_args)
    threads = configure_threads(cfg, phase=phase)
    if announce_threads:
        print(thread_note(threads), flush=True)
    init_cpu_process_group(cfg)
    return Runner.from_cfg(cfg)


@contextmanager
def exit_on(tool: str, *errors: Type[BaseException]) -> Iterator[None]:
    """End the tool on one of ``errors`` with the line ``<tool>: <error>``
    (exit status 1), after closing the process group without waiting for
    the other ranks (each of them meets the same error).

    Args:
        tool (str): The tool's name, e.g. ``tools/test.py``.
        *errors (type): The expected errors; others propagate.
    """
    try:
        yield
    except errors as err:
        destroy_process_group(barrier=False)
        sys.exit(f'{tool}: {err}')
