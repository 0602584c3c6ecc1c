"""Draw validation/test predictions (boxes, skeletons, meshes) to disk."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from mmpose.registry import HOOKS
from mmpose.structures import PoseDataSample


@HOOKS.register_module()
class InterWildVisualizationHook(Hook):
    """Save overlays of InterWild predictions during validation and testing.

    Every ``interval``-th batch, the first sample of the batch is drawn by the
    runner's visualizer (``InterWildVisualizer``: hand boxes, 21-joint
    skeletons and the rendered MANO meshes over the original image) and
    written to ``<log_dir>/<out_dir>/<phase>_<img name>.png`` and to the
    visualizer's backends.

    Args:
        enable (bool): Switch the hook on. ``tools/train.py --show-dir`` and
            ``tools/test.py --show-dir`` enable it. Defaults to ``False``.
        interval (int): Draw every ``interval``-th batch. Defaults to 50.
        out_dir (str, optional): Folder (relative to the run's log dir, or
            absolute) for the PNG files. Defaults to ``'vis'``.
        backend_args (dict, optional): mmengine file backend arguments used to
            read the images. Defaults to ``None``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 50,
                 out_dir: Optional[str] = 'vis',
                 backend_args: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.enable = enable
        self.interval = interval
        self.out_dir = out_dir
        self.backend_args = backend_args
        self._visualizer: Optional[Visualizer] = None

    def _draw(self, runner: Runner, phase: str, batch_idx: int,
              outputs: Sequence[PoseDataSample]) -> None:
        if not self.enable or batch_idx % self.interval != 0 or not outputs:
            return
        if self._visualizer is None:
            self._visualizer = Visualizer.get_current_instance()
        sample = outputs[0]
        img_path = sample.metainfo.get('img_path')
        if img_path is None:
            return
        img = mmcv.imread(img_path, channel_order='rgb',
                          backend_args=self.backend_args)
        out_dir = self.out_dir or 'vis'
        if not osp.isabs(out_dir):
            out_dir = osp.join(runner.log_dir, out_dir)
        os.makedirs(out_dir, exist_ok=True)
        name = f'{phase}_{batch_idx:06d}_{osp.basename(img_path)}'
        out_file = osp.join(out_dir, osp.splitext(name)[0] + '.png')
        self._visualizer.add_datasample(
            name,
            img,
            data_sample=sample,
            draw_gt=False,
            show=False,
            out_file=out_file,
            step=runner.iter)

    def after_val_iter(self, runner: Runner, batch_idx: int,
                       data_batch: dict,
                       outputs: Sequence[PoseDataSample]) -> None:
        self._draw(runner, 'val', batch_idx, outputs)

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: dict,
                        outputs: Sequence[PoseDataSample]) -> None:
        self._draw(runner, 'test', batch_idx, outputs)
