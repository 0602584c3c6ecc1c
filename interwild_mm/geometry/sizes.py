# Copyright (c) interwild_mm contributors.
"""The sizes of an InterWild model and every conversion between its spaces.

One :class:`InterWildSizes` describes the network input, the body input,
the body grid, the hand crop, the hand grid and the TransNet volume
(``docs/official_conventions.md §0``). Every part of the model and the
target transform take the sizes from it, and every grid <-> pixel rescaling
is one of its methods, written in the official float32 order: divide by the
source size, then multiply by the destination size (``x / 48 * 384``, not a
precomputed factor; §1.4-1.11, §2).

Axis order, everywhere: images and crops ``(H, W)``, grids ``(D, H, W)``;
points are ``(..., 2)`` ``(x, y)`` (or ``(..., 3)`` with the depth last).
The conversions work on torch tensors and numpy arrays alike.
"""
import dataclasses
import math
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .bbox import restore_bbox
from .crop import transform_points

ArrayLike = Union[np.ndarray, Tensor]

__all__ = ['InterWildSizes', 'SizesLike', 'mirror_grid_x']

#: names of the fields and the number of axes of each
_FIELDS = dict(input_hw=2, body_input_hw=2, body_grid_dhw=3, crop_hw=2,
               hand_grid_dhw=3, trans_grid_dhw=3)


def _stack_xy(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    if isinstance(x, Tensor):
        return torch.stack([x, y], dim=-1)
    return np.stack([x, y], axis=-1)


def _rescale_xy(xy: ArrayLike, src_hw: Sequence[int],
                dst_hw: Sequence[int]) -> ArrayLike:
    """``x / W_src * W_dst``, ``y / H_src * H_dst`` (official order)."""
    x = xy[..., 0] / src_hw[1] * dst_hw[1]
    y = xy[..., 1] / src_hw[0] * dst_hw[0]
    return _stack_xy(x, y)


def mirror_grid_x(x: ArrayLike, grid_width: int,
                  image_width: int) -> ArrayLike:
    """Mirror grid x coordinates of a horizontally flipped image.

    In the official order (``docs/official_conventions.md §1.8``): to pixels
    ``x / W_grid * W_img``, mirror ``W_img - 1 - x`` (pixel centres), back
    ``x / W_img * W_grid``. For the 8-grid of a 256 crop this is
    ``7.96875 - x``.

    Args:
        x (ArrayLike): grid x coordinates, any shape.
        grid_width (int): grid width in cells.
        image_width (int): image width in pixels.

    Returns:
        ArrayLike: mirrored x, same shape.
    """
    px = x / grid_width * image_width
    px = image_width - 1 - px
    return px / image_width * grid_width


@dataclasses.dataclass(frozen=True)
class InterWildSizes:
    """Sizes of the InterWild spaces, defaults = the official model (§0).

    Args:
        input_hw (Sequence[int]): network input ``(H, W)``, (512, 384).
        body_input_hw (Sequence[int]): DetectNet input ``(H, W)``,
            (256, 192); DetectNet boxes are reported in its pixels.
        body_grid_dhw (Sequence[int]): body grid ``(D, H, W)``, (8, 64, 48):
            DetectNet's output grid (8x the body feature) and the grid of the
            2.5D training targets.
        crop_hw (Sequence[int]): hand crop ``(H, W)``, (256, 256).
        hand_grid_dhw (Sequence[int]): SHNet joint grid ``(D, H, W)``,
            (8, 8, 8); ``H, W`` = the hand feature size.
        trans_grid_dhw (Sequence[int]): TransNet Gaussian volume
            ``(D, H, W)``, (64, 64, 64).
    """

    input_hw: Tuple[int, int] = (512, 384)
    body_input_hw: Tuple[int, int] = (256, 192)
    body_grid_dhw: Tuple[int, int, int] = (8, 64, 48)
    crop_hw: Tuple[int, int] = (256, 256)
    hand_grid_dhw: Tuple[int, int, int] = (8, 8, 8)
    trans_grid_dhw: Tuple[int, int, int] = (64, 64, 64)

    def __post_init__(self) -> None:
        for name, axes in _FIELDS.items():
            value = getattr(self, name)
            order = '(H, W)' if axes == 2 else '(D, H, W)'
            try:
                value = tuple(int(v) for v in value)
            except (TypeError, ValueError) as err:
                raise ValueError(f'InterWildSizes.{name} must be {order} '
                                 f'integers, got {value!r}.') from err
            if len(value) != axes or min(value) < 1:
                raise ValueError(f'InterWildSizes.{name} must be {order} '
                                 f'positive integers, got {value}.')
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------
    # construction
    @classmethod
    def build(cls, sizes: 'SizesLike' = None) -> 'InterWildSizes':
        """An :class:`InterWildSizes` from ``None`` (the defaults), a dict of
        its fields or an instance (returned as is)."""
        if sizes is None:
            return cls()
        if isinstance(sizes, cls):
            return sizes
        if isinstance(sizes, Mapping):
            unknown = sorted(set(sizes) - set(_FIELDS))
            if unknown:
                raise ValueError(f'InterWildSizes: unknown field(s) {unknown}'
                                 f'; the fields are {list(_FIELDS)}.')
            return cls(**dict(sizes))
        raise TypeError('sizes must be None, a dict of InterWildSizes fields '
                        f'or an InterWildSizes, got {type(sizes).__name__}.')

    @classmethod
    def resolve(cls, owner: str, sizes: 'SizesLike',
                **legacy: Optional[Sequence[int]]) -> 'InterWildSizes':
        """Sizes of a part from ``sizes`` and its own (older) size arguments.

        A part can be built on its own with its size arguments (e.g.
        ``HandRoI(crop_size=...)``), or inside :class:`InterWild`, which
        passes the model's ``sizes``. A size argument that is given must then
        agree with ``sizes``: the model's size description is the one source
        of truth.

        Args:
            owner (str): the part's name, for error messages.
            sizes (SizesLike): the model's sizes, or None.
            **legacy: ``field=value`` of the part's own size arguments,
                already converted to the field's axis order; None = not
                given.

        Returns:
            InterWildSizes: the resolved sizes.

        Raises:
            ValueError: if a given size argument contradicts ``sizes``.
        """
        given = {k: v for k, v in legacy.items() if v is not None}
        if sizes is None:
            return cls(**given)
        out = cls.build(sizes)
        for name, value in given.items():
            value = tuple(int(v) for v in value)
            if value != getattr(out, name):
                raise ValueError(
                    f'{owner}: its own size argument gives {name}={value}, '
                    f'the model\'s sizes give {getattr(out, name)}. Set the '
                    'size once, in the InterWild model (input_size, '
                    'body_input_size, body_hm_shape, crop_size, '
                    'hand_hm_shape, trans_net.hm_shape), and drop it here.')
        return out

    def replace(self, **changes: Any) -> 'InterWildSizes':
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def into(self, cfg: Mapping[str, Any], owner: str) -> dict:
        """A copy of a part's config dict with these sizes as ``sizes``.

        Raises:
            ValueError: if the config already gives other sizes.
        """
        cfg = dict(cfg)
        given = cfg.get('sizes')
        if given is not None and InterWildSizes.build(given) != self:
            raise ValueError(
                f'{owner}: the part config gives sizes={given}, the model '
                f'gives {self}; set the sizes once, on the model.')
        cfg['sizes'] = self
        return cfg

    # ------------------------------------------------------------------
    # derived sizes
    @property
    def body_grid_hw(self) -> Tuple[int, int]:
        """``(H, W)`` of the body grid."""
        return self.body_grid_dhw[1:]

    @property
    def hand_grid_hw(self) -> Tuple[int, int]:
        """``(H, W)`` of the hand grid."""
        return self.hand_grid_dhw[1:]

    @property
    def trans_grid_hw(self) -> Tuple[int, int]:
        """``(H, W)`` of the TransNet volume."""
        return self.trans_grid_dhw[1:]

    def depth_scale(self, focal: Sequence[float],
                    camera_3d_size: float) -> float:
        """``k = sqrt(fx·fy·s²/(H_crop·W_crop))`` of the root depth (§1.7),
        metres (11.71875 for the official crop camera)."""
        h, w = self.crop_hw
        return math.sqrt(focal[0] * focal[1] * camera_3d_size**2 / (h * w))

    # ------------------------------------------------------------------
    # grid <-> pixels (official float32 order)
    def restore_bbox(self, center: Tensor, size: Tensor,
                     aspect_ratio: Optional[float],
                     extension: float) -> Tensor:
        """DetectNet centre/size (body grid) -> xyxy box in body-input
        pixels (:func:`~interwild_mm.geometry.bbox.restore_bbox`, §1.4)."""
        return restore_bbox(center, size, aspect_ratio, extension,
                            self.body_grid_hw, self.body_input_hw)

    def body_input_box_to_input(self, boxes: ArrayLike) -> ArrayLike:
        """``(..., 4)`` xyxy boxes, body-input -> input pixels
        (``x / 192 * 384``, ``y / 256 * 512``, §1.5)."""
        corners = _rescale_xy(boxes.reshape(boxes.shape[:-1] + (2, 2)),
                              self.body_input_hw, self.input_hw)
        return corners.reshape(boxes.shape)

    def body_grid_to_input(self, xy: ArrayLike) -> ArrayLike:
        """Body grid -> input pixels (``x / 48 * 384``, §2)."""
        return _rescale_xy(xy, self.body_grid_hw, self.input_hw)

    def input_to_body_grid(self, xy: ArrayLike) -> ArrayLike:
        """Input pixels -> body grid (``x / 384 * 48``, §3.1)."""
        return _rescale_xy(xy, self.input_hw, self.body_grid_hw)

    def hand_grid_to_crop(self, xy: ArrayLike) -> ArrayLike:
        """Hand grid -> crop pixels (``x / 8 * 256``, §1.10-1.11)."""
        return _rescale_xy(xy, self.hand_grid_hw, self.crop_hw)

    def crop_to_hand_grid(self, xy: ArrayLike) -> ArrayLike:
        """Crop pixels -> hand grid (``x / 256 * 8``, §1.9, §2)."""
        return _rescale_xy(xy, self.crop_hw, self.hand_grid_hw)

    def body_depth_to_hand_depth(self, z: ArrayLike) -> ArrayLike:
        """Body-grid depth bins -> hand-grid depth bins (``z / 8 * 8``)."""
        return z / self.body_grid_dhw[0] * self.hand_grid_dhw[0]

    def hand_depth_to_trans_depth(self, z: ArrayLike) -> ArrayLike:
        """Hand-grid depth bins -> TransNet volume (``z / 8 * 64``,
        §1.10)."""
        return z / self.hand_grid_dhw[0] * self.trans_grid_dhw[0]

    def mirror_hand_grid_x(self, x: ArrayLike) -> ArrayLike:
        """Un-mirror hand-grid x of a mirrored crop (:func:`mirror_grid_x`
        with the crop and hand-grid widths, §1.8)."""
        return mirror_grid_x(x, self.hand_grid_dhw[2], self.crop_hw[1])

    def hand_grid_to_image(self, xy: Tensor, hand2orig: Tensor) -> Tensor:
        """Hand grid ``(N, P, 2)`` -> input-image pixels: ``x / 8 * 256``
        then the crop -> image affine ``(N, 2, 3)`` (§1.10 step 1, §1.11)."""
        return transform_points(self.hand_grid_to_crop(xy), hand2orig)

    def body_grid_to_hand_grid(self, xyz: Tensor,
                               orig2hand: Tensor) -> Tensor:
        """Body-grid targets ``(N, P, 3)`` -> one hand's crop grid (§2):
        ``x / 48 * 384``, the image -> crop affine ``(N, 2, 3)``,
        ``x / 256 * 8``; depth ``z / 8 * 8``."""
        xy = transform_points(self.body_grid_to_input(xyz[..., :2]),
                              orig2hand)
        z = self.body_depth_to_hand_depth(xyz[..., 2:])
        return torch.cat([self.crop_to_hand_grid(xy), z], dim=-1)

    def inside_hand_grid(self, xy: ArrayLike) -> ArrayLike:
        """Boolean mask of ``(..., 2)`` points inside ``[0, W) x [0, H)`` of
        the hand grid."""
        h, w = self.hand_grid_hw
        return ((xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) &
                (xy[..., 1] < h))

    def inside_body_grid(self, xyz: ArrayLike) -> ArrayLike:
        """Boolean mask of ``(..., 3)`` points inside the body grid
        ``[0, W) x [0, H) x [0, D)``."""
        d, h, w = self.body_grid_dhw
        return ((xyz[..., 0] >= 0) & (xyz[..., 0] < w) & (xyz[..., 1] >= 0) &
                (xyz[..., 1] < h) & (xyz[..., 2] >= 0) & (xyz[..., 2] < d))


#: what parts accept as a size description
SizesLike = Union[None, Mapping[str, Sequence[int]], InterWildSizes]
