# Copyright (c) interwild_mm contributors.
import math

import numpy as np
import pytest
import torch

from interwild_mm.apis.one_euro import ManoOneEuroSmoother, OneEuroFilter
from interwild_mm.geometry.rotation import axis_angle_to_matrix


def test_one_euro_three_steps_by_hand():
    # freq 1 Hz (T_e = 1 s), min_cutoff 1/(2 pi) Hz -> tau = 1 s, d_cutoff the
    # same, beta 2 pi: cutoff = 1/(2 pi) + 2 pi |dx̂|.
    f = OneEuroFilter(min_cutoff=1 / (2 * math.pi), beta=2 * math.pi,
                      d_cutoff=1 / (2 * math.pi), freq=1.0)
    # step 0: passed through
    assert f(0.0) == pytest.approx(0.0)
    # step 1: x=2. dx = 2, alpha_d = 1/(1+1) = 1/2 -> dx̂ = 1.
    # cutoff = 1/(2pi) + 2pi*1 -> tau = 1/(1 + 4pi^2) -> alpha =
    # 1/(1 + tau) = (1 + 4pi^2)/(2 + 4pi^2); x̂ = alpha * 2.
    a1 = (1 + 4 * math.pi**2) / (2 + 4 * math.pi**2)
    x1 = 2 * a1
    assert f(2.0) == pytest.approx(x1, rel=1e-12)
    # step 2: x=2 again. dx = 2 - x1; dx̂ = (dx + 1)/2;
    # cutoff = 1/(2pi) + 2pi dx̂ -> alpha = (1 + 4pi^2 dx̂)/(2 + 4pi^2 dx̂)
    d2 = ((2 - x1) + 1) / 2
    a2 = (1 + 4 * math.pi**2 * d2) / (2 + 4 * math.pi**2 * d2)
    x2 = a2 * 2 + (1 - a2) * x1
    assert f(2.0) == pytest.approx(x2, rel=1e-12)


def test_one_euro_beta_zero_is_fixed_lowpass_and_timestamps():
    # beta = 0: plain exponential smoothing with alpha = 1/(1+tau/T_e).
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0, freq=10.0)
    tau = 1 / (2 * math.pi)
    a = 1 / (1 + tau / 0.1)
    xs = [1.0, 5.0, -3.0]
    out = [f(x) for x in xs]
    expect = [1.0]
    expect.append(a * 5.0 + (1 - a) * expect[-1])
    expect.append(a * -3.0 + (1 - a) * expect[-1])
    np.testing.assert_allclose(out, expect, rtol=1e-12)
    # explicit timestamps 0.1 s apart give the same result
    g = OneEuroFilter(min_cutoff=1.0, beta=0.0, freq=999.0)
    out_t = [g(x, t) for x, t in zip(xs, (0.0, 0.1, 0.2))]
    np.testing.assert_allclose(out_t, expect, rtol=1e-9)
    with pytest.raises(ValueError, match='increase'):
        g(0.0, 0.2)


def test_one_euro_constant_signal_and_shape_check():
    f = OneEuroFilter(min_cutoff=0.5, beta=1.0)
    x = np.arange(6.0).reshape(2, 3)
    for _ in range(4):
        np.testing.assert_allclose(f(x), x)
    with pytest.raises(ValueError, match='shape'):
        f(np.zeros(3))
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)


def test_mano_smoother_rotations_stay_rotations():
    sm = ManoOneEuroSmoother(min_cutoff=0.5, beta=0.0, freq=30.0)
    rng = np.random.RandomState(0)
    for _ in range(5):
        aa = rng.randn(45) * 0.8
        out = sm({'hand_pose': aa, 'betas': rng.randn(10)})
        rot = axis_angle_to_matrix(torch.from_numpy(out['hand_pose']).view(
            15, 3)).numpy()
        eye = np.einsum('nij,nkj->nik', rot, rot)
        np.testing.assert_allclose(eye, np.broadcast_to(np.eye(3), eye.shape),
                                   atol=1e-9)
        assert np.all(np.linalg.norm(out['hand_pose'].reshape(15, 3), axis=1)
                      <= math.pi + 1e-9)


def test_mano_smoother_constant_rotation_and_reset():
    sm = ManoOneEuroSmoother(min_cutoff=0.5)
    # a rotation by 3.0 rad written with norm > pi (legacy form) must come
    # back as the same rotation
    aa = np.array([0.0, 0.0, 2 * math.pi - 3.0]) * -1.0  # same as +3.0 about z
    for _ in range(3):
        out = sm({'root_pose': aa})
    r_in = axis_angle_to_matrix(torch.from_numpy(aa)).numpy()
    r_out = axis_angle_to_matrix(torch.from_numpy(out['root_pose'])).numpy()
    np.testing.assert_allclose(r_out, r_in, atol=1e-9)
    # a missing value resets: the next sample passes through unfiltered
    sm({'root_pose': None})
    new = np.array([0.3, 0.0, 0.0])
    np.testing.assert_allclose(sm({'root_pose': new})['root_pose'], new,
                               atol=1e-12)
