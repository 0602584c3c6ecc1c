"""interwild_mm: InterWild (Moon, CVPR 2023) as an OpenMMLab plugin.

Importing this package registers every component directly into mmpose's
registries (configs use ``default_scope='mmpose'`` and
``custom_imports=dict(imports=['interwild_mm'])``), so stock mmpose components
and ``mmdet.``-prefixed mmdet components mix freely with ours. It also makes
mmengine's checkpoint loading work under torch >= 2.6 with
``weights_only=True`` and an exact allow-list (see ``utils/checkpoint.py``).
"""
from . import utils
from .utils.checkpoint import patch_mmengine_checkpoint_loading
from .version import __version__

patch_mmengine_checkpoint_loading()

# Registration side effects: every sub-package registers its components.
from . import mano  # noqa: E402,F401
from . import models  # noqa: E402,F401
from . import datasets  # noqa: E402,F401
from . import evaluation  # noqa: E402,F401
from . import visualization  # noqa: E402,F401
from . import engine  # noqa: E402,F401
from . import apis  # noqa: E402,F401

__all__ = ['__version__']
