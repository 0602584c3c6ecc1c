# Copyright (c) interwild_mm contributors.
"""One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) and a MANO smoother.

The One-Euro filter is a first-order low-pass filter whose cutoff frequency
adapts to the speed of the signal: slow motion is smoothed strongly (little
jitter), fast motion weakly (little lag). For a sample ``x_i`` at time
``t_i`` with period ``T_e = t_i - t_{i-1}``:

* smoothing factor of a cutoff ``f_c``: ``alpha(f_c) = 1 / (1 + tau / T_e)``
  with ``tau = 1 / (2 pi f_c)``;
* derivative: ``dx_i = (x_i - x̂_{i-1}) / T_e``, low-passed with the fixed
  cutoff ``d_cutoff``: ``dx̂_i = alpha_d dx_i + (1 - alpha_d) dx̂_{i-1}``;
* adaptive cutoff ``f_c = min_cutoff + beta |dx̂_i|``;
* output ``x̂_i = alpha(f_c) x_i + (1 - alpha(f_c)) x̂_{i-1}``.

The first sample is passed through (``x̂_0 = x_0``, ``dx̂_0 = 0``). Arrays are
filtered element-wise (each element has its own adaptive cutoff).

:class:`ManoOneEuroSmoother` applies the filter to InterWild hand outputs:
rotations (axis-angle, which wraps at π and is not a vector space) are
filtered in the continuous 6D representation (first two rows of the rotation
matrix) and mapped back to a proper rotation with Gram-Schmidt
(:func:`interwild_mm.geometry.rotation.rot6d_to_matrix`); translations,
shapes and 2D joints are filtered directly.
"""
import math
from typing import Dict, Optional

import numpy as np
import torch

from interwild_mm.geometry.rotation import (axis_angle_to_matrix,
                                            matrix_to_axis_angle,
                                            rot6d_to_matrix)

__all__ = ['OneEuroFilter', 'ManoOneEuroSmoother']


def _alpha(cutoff: np.ndarray, period: float) -> np.ndarray:
    """Smoothing factor ``1 / (1 + tau / T_e)``, ``tau = 1 / (2 pi f_c)``."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / period)


class OneEuroFilter:
    """Element-wise One-Euro filter for arrays of a fixed shape.

    Args:
        min_cutoff (float): minimum cutoff frequency in Hz (lower = smoother
            at rest, more lag). Defaults to 1.0.
        beta (float): speed coefficient (higher = less lag on fast motion).
            Defaults to 0.0.
        d_cutoff (float): cutoff frequency (Hz) of the derivative low-pass.
            Defaults to 1.0.
        freq (float): sampling rate in Hz, used when :meth:`__call__` gets
            no timestamp. Defaults to 30.0.
    """

    def __init__(self,
                 min_cutoff: float = 1.0,
                 beta: float = 0.0,
                 d_cutoff: float = 1.0,
                 freq: float = 30.0) -> None:
        for name, value in (('min_cutoff', min_cutoff),
                            ('d_cutoff', d_cutoff), ('freq', freq)):
            if not value > 0:
                raise ValueError(f'{name} must be > 0, got {value}.')
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}.')
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.freq = float(freq)
        self.reset()

    def reset(self) -> None:
        """Forget the filter state (e.g. at a shot cut or a lost track)."""
        self._x: Optional[np.ndarray] = None
        self._dx: Optional[np.ndarray] = None
        self._t: Optional[float] = None

    def __call__(self, x, t: Optional[float] = None) -> np.ndarray:
        """Filter one sample.

        Args:
            x (array-like): the sample; every call must have the same shape.
            t (float, optional): timestamp in seconds. Without it the period
                is ``1 / freq``.

        Returns:
            np.ndarray: the filtered sample (float64, shape of ``x``).
        """
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        if x.shape != self._x.shape:
            raise ValueError(f'OneEuroFilter got shape {x.shape} after '
                             f'{self._x.shape}; call reset() first.')
        if t is not None and self._t is not None:
            period = t - self._t
            if not period > 0:
                raise ValueError('timestamps must increase, got '
                                 f'{self._t} then {t}.')
        else:
            period = 1.0 / self.freq
        dx = (x - self._x) / period
        a_d = _alpha(np.full_like(x, self.d_cutoff), period)
        dx_hat = a_d * dx + (1.0 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = _alpha(cutoff, period)
        x_hat = a * x + (1.0 - a) * self._x
        self._x, self._dx, self._t = x_hat, dx_hat, t
        return x_hat.copy()


class ManoOneEuroSmoother:
    """One-Euro smoothing of per-hand InterWild outputs over video frames.

    Keys handled (each optional, per call):

    * ``root_pose`` (3,) and ``hand_pose`` (45,) axis-angle: filtered as 6D
      rotations (16 joints x 6), re-orthonormalised, converted back
      (norm <= π);
    * anything else (``betas`` (10,), ``wrist_cam`` (3,), ``joints_2d``
      (21, 2), boxes, ...): filtered directly.

    One filter per key; a key that is missing in a frame (hand not detected)
    resets its filter so that the next detection starts fresh.

    Args:
        min_cutoff (float): see :class:`OneEuroFilter`. Defaults to 1.0.
        beta (float): see :class:`OneEuroFilter`. Defaults to 0.0.
        d_cutoff (float): see :class:`OneEuroFilter`. Defaults to 1.0.
        freq (float): frame rate in Hz. Defaults to 30.0.
    """

    ROTATION_KEYS = ('root_pose', 'hand_pose')

    def __init__(self,
                 min_cutoff: float = 1.0,
                 beta: float = 0.0,
                 d_cutoff: float = 1.0,
                 freq: float = 30.0) -> None:
        self._kwargs = dict(
            min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, freq=freq)
        self._filters: Dict[str, OneEuroFilter] = {}
        OneEuroFilter(**self._kwargs)  # validate the arguments early

    def reset(self) -> None:
        """Forget every filter state."""
        self._filters.clear()

    def _filter(self, key: str, value, t: Optional[float]) -> np.ndarray:
        if key not in self._filters:
            self._filters[key] = OneEuroFilter(**self._kwargs)
        return self._filters[key](value, t)

    def __call__(self,
                 values: Dict[str, np.ndarray],
                 t: Optional[float] = None) -> Dict[str, np.ndarray]:
        """Smooth one frame.

        Args:
            values (dict): key -> array for this frame; ``None`` values (or
                absent keys) reset that key's filter.
            t (float, optional): timestamp in seconds.

        Returns:
            dict: same keys, smoothed float64 arrays (``None`` kept).
        """
        for key in list(self._filters):
            if values.get(key) is None:
                del self._filters[key]
        out = {}
        for key, value in values.items():
            if value is None:
                out[key] = None
                continue
            value = np.asarray(value, dtype=np.float64)
            if key in self.ROTATION_KEYS:
                if value.size % 3:
                    raise ValueError(f'{key} must hold axis-angle triplets, '
                                     f'got shape {value.shape}.')
                aa = torch.from_numpy(value.reshape(-1, 3))
                rot = axis_angle_to_matrix(aa)
                six = rot[:, :2, :].reshape(-1, 6).numpy()
                six = self._filter(key, six, t)
                rot = rot6d_to_matrix(torch.from_numpy(six))
                out[key] = matrix_to_axis_angle(rot).numpy().reshape(
                    value.shape)
            else:
                out[key] = self._filter(key, value, t)
        return out
