"""Training/testing engine parts: hooks, thread settings, ImageNet weights.

Importing it registers the hook and the worker-init function; the
``torchvision://`` loader is registered only by the explicit safe-loading
step (:func:`interwild_mm.utils.enable_safe_checkpoint_loading`).
"""
from .hooks import InterWildVisualizationHook
from .pretrained import (PretrainedWeightsError, load_torchvision_checkpoint,
                         register_torchvision_loader)
from .threads import (configure_threads, interwild_worker_init_fn,
                      main_process_threads)

__all__ = [
    'InterWildVisualizationHook', 'PretrainedWeightsError',
    'load_torchvision_checkpoint', 'register_torchvision_loader',
    'configure_threads', 'interwild_worker_init_fn', 'main_process_threads'
]
