# Copyright (c) interwild_mm contributors.
"""Inference API: :class:`InterWildInferencer` and its steps, one module per
concern: inputs (``inputs``), person detector (``detector``), body box and
patch (``preprocess``), config and checkpoint (``model_loading``),
prediction -> records (``postprocess``), real-camera placement
(``placement``), MANO meshes (``hand_mesh``), One-Euro smoothing
(``one_euro``), overlay (``overlay``), output files (``writers``) and the
image / video run loops (``loops``)."""
from .inferencer import CONVENTIONS, InterWildInferencer, official_int_box
from .inputs import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, InferenceSummary,
                     InputError, collect_inputs, read_image, to_bgr_uint8)
from .one_euro import ManoOneEuroSmoother, OneEuroFilter
from .placement import (PlacementError, crop_camera_in_image,
                        crop_to_image_affine, default_intrinsics,
                        fit_translation, hand_crop_box_in_patch, place_hand,
                        place_root_scale, project_perspective)

__all__ = [
    'InterWildInferencer', 'CONVENTIONS', 'official_int_box',
    'IMAGE_EXTENSIONS', 'VIDEO_EXTENSIONS', 'InferenceSummary', 'InputError',
    'collect_inputs', 'read_image', 'to_bgr_uint8', 'OneEuroFilter',
    'ManoOneEuroSmoother', 'default_intrinsics', 'hand_crop_box_in_patch',
    'crop_to_image_affine', 'crop_camera_in_image', 'project_perspective',
    'place_root_scale', 'fit_translation', 'place_hand', 'PlacementError'
]
