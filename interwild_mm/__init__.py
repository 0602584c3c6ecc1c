"""interwild_mm: InterWild (Moon, CVPR 2023) as an OpenMMLab plugin.

Importing this package registers every component directly into mmpose's
registries (configs use ``default_scope='mmpose'`` and
``custom_imports=dict(imports=['interwild_mm', ...])``), so stock mmpose
components and ``mmdet.``-prefixed mmdet components mix freely with ours.
Registration is its only side effect: mmengine's checkpoint loaders stay as
they are until safe loading is switched on explicitly
(``interwild_mm.utils.enable_safe_checkpoint_loading()``, or
``interwild_mm.utils.safe_loading`` in a config's ``custom_imports``; see
``utils/checkpoint.py``). The synthetic-data generators
(``interwild_mm.synthetic``) are not imported either.
"""
from .version import __version__

# Registration side effects: every sub-package registers its components.
from . import utils  # noqa: F401
from . import mano  # noqa: F401
from . import models  # noqa: F401
from . import datasets  # noqa: F401
from . import evaluation  # noqa: F401
from . import visualization  # noqa: F401
from . import engine  # noqa: F401
from . import apis  # noqa: F401

__all__ = ['__version__']
