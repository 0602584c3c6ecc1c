# Copyright (c) interwild_mm contributors.
"""HandRoI: crop both hands, flip-normalise the left one, run the hand
backbone (``docs/official_conventions.md`` §1.4-1.5)."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptMultiConfig
from torch import Tensor

from interwild_mm.geometry.crop import (check_affine_inverse,
                                        crop_affine_composed, invert_affine,
                                        warp_affine)
from interwild_mm.geometry.sizes import InterWildSizes, SizesLike


@MODELS.register_module()
class HandRoI(BaseModule):
    """Hand region of interest with flip normalisation.

    Crop boxes are restored from the DetectNet centre/size (square,
    doubled: ``aspect_ratio=1.0``, ``extension=2.0``) and DETACHED, mapped
    from the body-input space to the network-input space, cropped with
    :func:`crop_affine_composed` / :func:`warp_affine` (under ``no_grad``),
    the left crop is mirrored along W, and ``concat(right, left)`` goes
    through the hand backbone. Every step uses the official float32
    operation order, so converted official weights give the official crops
    bit for bit (§1.4-1.5).

    Args:
        backbone (dict): hand backbone config (ResNet-50 in InterWild).
        sizes (InterWildSizes | dict, optional): the model's sizes (body
            grid, body input, input, crop). Defaults to the official sizes.
        aspect_ratio (float): crop box ``w/h``. Default 1.0.
        extension (float): crop box enlargement. Default 2.0.
        inverse (str): how the affine inverses (``hand2orig`` and the
            warp's sampling matrix) are computed: ``'official'``
            (``torch.linalg.inv`` of the 3x3 matrices, bit for bit the
            official crops, §1.5) or ``'closed_form'``
            (:func:`~interwild_mm.geometry.crop.invert_affine_closed_form`:
            the same matrices up to float32 rounding, exportable to ONNX;
            the ONNX exporter switches it on). Default ``'official'``.
        crop_size, body_hm_size, body_input_size, input_size
            (Sequence[int], optional): ``(H, W)`` sizes of a HandRoI built
            on its own (crop, body grid, body input, input); each must agree
            with ``sizes`` when both are given.
        init_cfg (dict, optional): init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 sizes: SizesLike = None,
                 aspect_ratio: float = 1.0,
                 extension: float = 2.0,
                 crop_size: Optional[Sequence[int]] = None,
                 body_hm_size: Optional[Sequence[int]] = None,
                 body_input_size: Optional[Sequence[int]] = None,
                 input_size: Optional[Sequence[int]] = None,
                 inverse: str = 'official',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.inverse = check_affine_inverse(inverse)
        for name, value in (('crop_size', crop_size),
                            ('body_hm_size', body_hm_size),
                            ('body_input_size', body_input_size),
                            ('input_size', input_size)):
            if value is not None and len(value) != 2:
                raise ValueError(f'HandRoI: {name} must be (H, W), got '
                                 f'{tuple(value)}.')
        body_grid = None if body_hm_size is None else (
            InterWildSizes.build(sizes).body_grid_dhw[0], *body_hm_size)
        self.sizes = InterWildSizes.resolve(
            'HandRoI', sizes, crop_hw=crop_size, body_grid_dhw=body_grid,
            body_input_hw=body_input_size, input_hw=input_size)
        self.backbone = MODELS.build(backbone)
        self.aspect_ratio = aspect_ratio
        self.extension = extension

    def crop_boxes(self, center: Tensor, size: Tensor) -> Tensor:
        """Detached crop boxes in body-input pixels.

        Args:
            center (Tensor): ``(N, 2)`` DetectNet centres (grid units).
            size (Tensor): ``(N, 2)`` DetectNet sizes (grid units).

        Returns:
            Tensor: ``(N, 4)`` xyxy boxes, body-input (192x256) pixels.
        """
        with torch.no_grad():
            return self.sizes.restore_bbox(center.detach(), size.detach(),
                                           self.aspect_ratio, self.extension)

    def crop(self, img: Tensor,
             boxes: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Crop ``boxes`` (input-image pixels) out of ``img``.

        Args:
            img (Tensor): ``(N, C, H, W)`` images.
            boxes (Tensor): ``(N, 4)`` xyxy boxes, input-image pixels.

        Returns:
            tuple: crops ``(N, C, h, w)``, ``orig2hand`` ``(N, 2, 3)`` and
            ``hand2orig`` ``(N, 2, 3)`` (top 2x3 of the inverse of the 3x3
            crop affine, as the official code computes it; in closed form
            with ``inverse='closed_form'``).
        """
        with torch.no_grad():
            mat = crop_affine_composed(
                boxes.detach().to(img.dtype), self.sizes.crop_hw)
            orig2hand = mat[:, :2]
            crops = warp_affine(img, orig2hand, self.sizes.crop_hw,
                                self.inverse)
            return crops, orig2hand, invert_affine(mat, self.inverse)

    def forward(self, img: Tensor, rhand_center: Tensor, rhand_size: Tensor,
                lhand_center: Tensor,
                lhand_size: Tensor) -> Dict[str, Tensor]:
        """Crop both hands and extract their features.

        Args:
            img (Tensor): ``(N, 3, H, W)`` network input, RGB in [0, 1].
            rhand_center, rhand_size, lhand_center, lhand_size (Tensor):
                ``(N, 2)`` DetectNet outputs, grid units.

        Returns:
            dict[str, Tensor]:

            - ``hand_feat``: ``(2N, C, h, w)`` backbone features, rows
              ``[:N]`` right, ``[N:]`` mirrored left.
            - ``hand_img``: ``(2N, 3, 256, 256)`` the crops fed to it.
            - ``rhand_bbox``, ``lhand_bbox``: ``(N, 4)`` detached crop boxes,
              body-input pixels.
            - ``rhand_orig2hand``, ``lhand_orig2hand``, ``rhand_hand2orig``,
              ``lhand_hand2orig``: ``(N, 2, 3)`` input-image <-> crop pixel
              affines (the left ones do NOT include the mirror).
        """
        rbox = self.crop_boxes(rhand_center, rhand_size)
        lbox = self.crop_boxes(lhand_center, lhand_size)
        to_input = self.sizes.body_input_box_to_input
        r_img, r_o2h, r_h2o = self.crop(img, to_input(rbox))
        l_img, l_o2h, l_h2o = self.crop(img, to_input(lbox))
        hand_img = torch.cat([r_img, l_img.flip(-1)], dim=0)
        feats = self.backbone(hand_img)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return dict(
            hand_feat=feats,
            hand_img=hand_img,
            rhand_bbox=rbox,
            lhand_bbox=lbox,
            rhand_orig2hand=r_o2h,
            lhand_orig2hand=l_o2h,
            rhand_hand2orig=r_h2o,
            lhand_hand2orig=l_h2o)
