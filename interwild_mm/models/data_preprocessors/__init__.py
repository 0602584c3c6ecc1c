# Copyright (c) interwild_mm contributors.
from .interwild_data_preprocessor import InterWildDataPreprocessor

__all__ = ['InterWildDataPreprocessor']
