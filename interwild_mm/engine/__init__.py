"""Training/testing engine parts: hooks, thread settings, ImageNet weights."""
from .hooks import InterWildVisualizationHook
from .pretrained import (PretrainedWeightsError, load_torchvision_checkpoint,
                         register_torchvision_loader)
from .threads import (configure_threads, interwild_worker_init_fn,
                      main_process_threads)

register_torchvision_loader()

__all__ = [
    'InterWildVisualizationHook', 'PretrainedWeightsError',
    'load_torchvision_checkpoint', 'register_torchvision_loader',
    'configure_threads', 'interwild_worker_init_fn', 'main_process_threads'
]
