# Copyright (c) interwild_mm contributors.
"""The inferencer's run loops over images and videos.

Images are read, batched (persons of several images share a forward pass),
predicted, post-processed and written one by one. A file that cannot be
read, or whose prediction or outputs fail, yields an error record, is named
in :attr:`InterWildInferencer.summary` and the run goes on with the next
file; hands with a degenerate placement are listed there too. Videos are
streamed frame by frame (never all in memory); a failing frame is written
unchanged to the overlay video and named in the summary.
"""
import os.path as osp
from dataclasses import dataclass
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple)

import numpy as np
from mmengine.logging import print_log

from .inputs import (InputError, InputItem, iter_video_frames, read_image,
                     to_bgr_uint8, video_info)
from .one_euro import ManoOneEuroSmoother
from .placement import image_intrinsics
from .postprocess import HANDS, pred_to_numpy
from .writers import VideoOutputs, image_record, write_image_outputs

__all__ = ['RunOptions', 'run_images', 'run_video', 'process_images']

#: One-Euro settings of the video smoother unless ``smooth_cfg`` says
#: otherwise.
DEFAULT_SMOOTH_CFG = dict(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)


@dataclass
class RunOptions:
    """Options of one inferencer call (see ``InterWildInferencer.__call__``).
    """
    batch_size: int = 1
    out_dir: Optional[str] = None
    focal: Optional[Sequence[float]] = None
    princpt: Optional[Sequence[float]] = None
    rgb: bool = False
    draw: bool = True
    save_meshes: bool = True
    smooth: bool = False
    smooth_cfg: Optional[dict] = None
    return_datasamples: bool = False
    return_overlay: bool = False


class PersonSmoothers:
    """One :class:`ManoOneEuroSmoother` per person slot of a video (slots
    follow the left-to-right person order).

    Args:
        smooth_cfg (dict, optional): ``min_cutoff``, ``beta``, ``d_cutoff``.
        fps (float): frame rate of the video.
    """

    def __init__(self, smooth_cfg: Optional[dict], fps: float) -> None:
        self.cfg = dict(DEFAULT_SMOOTH_CFG, **(smooth_cfg or {}), freq=fps)
        self.filters: Dict[int, ManoOneEuroSmoother] = {}
        self.t: Optional[float] = None

    def for_person(self, k: int) -> Dict[str, Any]:
        """``dict(filter, t)`` for person slot ``k`` at the current time."""
        if k not in self.filters:
            self.filters[k] = ManoOneEuroSmoother(**self.cfg)
        return dict(filter=self.filters[k], t=self.t)


def _source(item: InputItem) -> str:
    """How an input is named in records and the summary."""
    return item.source if isinstance(item.source, str) else item.name


def _fail(engine, item: InputItem, err: Exception) -> Dict[str, Any]:
    """Record a failed input in the summary; its error record."""
    why = str(err) if isinstance(err, InputError) else \
        f'{type(err).__name__}: {err}'
    engine.summary.failed.append((_source(item), why))
    print_log(f'skipping {_source(item)}: {why}', logger='current', level=30)
    return dict(name=item.name, input=_source(item), error=why)


def _note_degenerate(engine, item: InputItem,
                     persons: List[Dict[str, Any]]) -> None:
    for k, person in enumerate(persons):
        for side in HANDS:
            hand = person['hands'][side]
            if hand.get('placement') == 'degenerate':
                engine.summary.degenerate.append(
                    (_source(item),
                     f'person {k} {side} hand: {hand["placement_error"]}'))


def _image_record(engine, item: InputItem, img: np.ndarray,
                  entries: List[Tuple[Dict, Any]], opts: RunOptions,
                  smoothers: Optional[PersonSmoothers], write_files: bool,
                  need_overlay: bool) -> Dict[str, Any]:
    """Post-process, draw and write one image."""
    f, c, cam_src = image_intrinsics(img.shape[0], img.shape[1], opts.focal,
                                     opts.princpt)
    persons = [
        engine.postprocess_person(
            pred_to_numpy(ds), person, f, c,
            smoother=None if smoothers is None else smoothers.for_person(k))
        for k, (person, ds) in enumerate(entries)
    ]
    record = image_record(item.name, _source(item), img.shape[:2], f, c,
                          cam_src, engine.hand_score_thr, persons)
    _note_degenerate(engine, item, persons)
    overlay = None
    if opts.draw and (need_overlay or opts.return_overlay or
                      (write_files and opts.out_dir is not None)):
        overlay = engine.visualize(img, persons, f, c)
    record['files'] = []
    if opts.out_dir is not None and write_files:
        write_image_outputs(opts.out_dir, record, overlay,
                            engine.faces if opts.save_meshes else None)
    if opts.return_datasamples:
        record['data_samples'] = [ds for _, ds in entries]
    if overlay is not None:
        record['overlay'] = overlay
    return record


def process_images(engine, loaded: List[Tuple[InputItem, np.ndarray]],
                   opts: RunOptions,
                   smoothers: Optional[PersonSmoothers] = None,
                   write_files: bool = True,
                   need_overlay: bool = False
                   ) -> Iterator[Tuple[InputItem, np.ndarray, Dict]]:
    """Predict a list of loaded images together; yield ``(item, image,
    record)`` per image (an error record if it failed)."""
    try:
        per_image = engine.predict_images([img for _, img in loaded],
                                          opts.batch_size)
    except Exception as err:  # noqa: B902 - the batch fails, the run goes on
        for item, img in loaded:
            yield item, img, _fail(engine, item, err)
        return
    for (item, img), entries in zip(loaded, per_image):
        try:
            record = _image_record(engine, item, img, entries, opts,
                                   smoothers, write_files, need_overlay)
        except Exception as err:  # noqa: B902 - this file fails, not the run
            record = _fail(engine, item, err)
        yield item, img, record


def _progress(engine, total: int, desc: str):
    if not engine.show_progress or total <= 1:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, unit='img')


def _load(engine, item: InputItem, rgb: bool
          ) -> Tuple[Optional[np.ndarray], Optional[Dict[str, Any]]]:
    """``(image, None)``, or ``(None, error record)`` if unreadable."""
    try:
        img = (read_image(item.source) if item.kind == 'image' else
               to_bgr_uint8(item.source, rgb))
    except InputError as err:
        return None, _fail(engine, item, err)
    return img, None


def run_images(engine, items: List[InputItem],
               opts: RunOptions) -> Iterator[Dict[str, Any]]:
    """Yield one record per image item, ``opts.batch_size`` at a time."""
    bar = _progress(engine, len(items), 'InterWild')
    step = max(1, opts.batch_size)
    try:
        for start in range(0, len(items), step):
            loaded = []
            for item in items[start:start + step]:
                img, error = _load(engine, item, opts.rgb)
                if error is None:
                    loaded.append((item, img))
                    continue
                if bar is not None:
                    bar.update(1)
                yield error
            for item, _, record in process_images(engine, loaded, opts):
                if 'error' not in record:
                    engine.summary.ok.append(_source(item))
                if bar is not None:
                    bar.update(1)
                yield record
    finally:
        if bar is not None:
            bar.close()


def _frame_chunks(frames: Iterator[Tuple[int, np.ndarray]], size: int
                  ) -> Iterator[List[Tuple[int, np.ndarray]]]:
    """Consecutive ``(index, frame)`` lists of up to ``size`` frames."""
    chunk = []
    for idx, frame in frames:
        chunk.append((idx, frame))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _video_frames(engine, item: InputItem, opts: RunOptions, fps: float,
                  outputs: VideoOutputs, bar) -> Iterator[Dict[str, Any]]:
    """Predict, write and yield the frames of one video."""
    smoothers = PersonSmoothers(opts.smooth_cfg, fps) if opts.smooth \
        else None
    # with smoothing, frames must be filtered in order one by one
    size = 1 if opts.smooth else max(1, opts.batch_size)
    for chunk in _frame_chunks(iter_video_frames(item.source), size):
        if smoothers is not None:
            smoothers.t = chunk[0][0] / fps
        loaded = [(InputItem('array', frame, f'{item.name}_{idx:06d}'),
                   frame) for idx, frame in chunk]
        results = process_images(engine, loaded, opts, smoothers,
                                 write_files=False,
                                 need_overlay=outputs.draws)
        for (idx, frame), (_, _, record) in zip(chunk, results):
            record.update(frame_index=idx, input=item.source, name=item.name)
            overlay = record.get('overlay') if opts.return_overlay else \
                record.pop('overlay', None)
            outputs.write(record, frame, overlay, first=idx == 0)
            if bar is not None:
                bar.update(1)
            yield record


def run_video(engine, item: InputItem,
              opts: RunOptions) -> Iterator[Dict[str, Any]]:
    """Yield one record per frame of a video; write its outputs."""
    try:
        fps, count, vw, vh = video_info(item.source)
    except InputError as err:
        yield _fail(engine, item, err)
        return
    outputs = VideoOutputs(opts.out_dir, item.name, fps, (vw, vh), opts.draw)
    bar = _progress(engine, count, osp.basename(item.source))
    n_frames = 0
    try:
        for record in _video_frames(engine, item, opts, fps, outputs, bar):
            n_frames += 1
            yield record
        engine.summary.ok.append(item.source)
    except InputError as err:
        yield _fail(engine, item, err)
    finally:
        if bar is not None:
            bar.close()
        outputs.close()
    if opts.out_dir is not None:
        print_log(f'{item.source}: {n_frames} frames -> {opts.out_dir}',
                  logger='current')
