"""Tests for interwild_mm.geometry.heatmap."""
import itertools

import numpy as np
import pytest
import torch

from interwild_mm.geometry.heatmap import (sample_features, soft_argmax_2d,
                                           soft_argmax_3d)
from .._float64_reference import bilinear_np


def _np_softmax_expectation_2d(logits):
    n, k, h, w = logits.shape
    out = np.zeros((n, k, 2))
    for a, b in itertools.product(range(n), range(k)):
        e = np.exp(logits[a, b] - logits[a, b].max())
        p = e / e.sum()
        for y in range(h):
            for x in range(w):
                out[a, b, 0] += p[y, x] * x
                out[a, b, 1] += p[y, x] * y
    return out


def test_soft_argmax_2d_vs_numpy_loops():
    g = np.random.default_rng(0)
    logits = g.normal(size=(2, 3, 5, 7)) * 3  # H=5 != W=7
    coords, prob = soft_argmax_2d(torch.from_numpy(logits))
    assert coords.shape == (2, 3, 2) and prob.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(
        coords.numpy(), _np_softmax_expectation_2d(logits), atol=1e-12)
    np.testing.assert_allclose(prob.sum((2, 3)).numpy(), 1.0, atol=1e-12)


def test_soft_argmax_2d_peak():
    logits = torch.full((1, 2, 64, 48), -1e4)
    logits[0, 0, 10, 40] = 0  # y=10, x=40
    logits[0, 1, 63, 0] = 0
    coords, _ = soft_argmax_2d(logits)
    torch.testing.assert_close(coords[0], torch.tensor([[40., 10.], [0.,
                                                                     63.]]))


def test_soft_argmax_3d_vs_numpy_loops():
    g = np.random.default_rng(1)
    logits = g.normal(size=(2, 2, 3, 4, 5)) * 2  # D=3, H=4, W=5
    out = soft_argmax_3d(torch.from_numpy(logits)).numpy()
    ref = np.zeros((2, 2, 3))
    for a, b in itertools.product(range(2), range(2)):
        e = np.exp(logits[a, b])
        p = e / e.sum()
        for z, y, x in itertools.product(range(3), range(4), range(5)):
            ref[a, b] += p[z, y, x] * np.array([x, y, z])
    np.testing.assert_allclose(out, ref, atol=1e-12)
    # a single peak at (z=2, y=1, x=4)
    peak = torch.full((1, 1, 3, 4, 5), -1e4, dtype=torch.float64)
    peak[0, 0, 2, 1, 4] = 0
    torch.testing.assert_close(
        soft_argmax_3d(peak)[0, 0],
        torch.tensor([4., 1., 2.], dtype=torch.float64))


def test_sample_features_vsbilinear_np():
    g = np.random.default_rng(2)
    feat = g.normal(size=(2, 3, 4, 6))  # H=4, W=6
    pts = np.array([
        [[0, 0], [5, 3], [2, 1], [1.5, 0.25], [5, 2.5], [4.75, 3]],
        [[3.2, 2.7], [0, 3], [5, 0], [-0.5, 1], [0.1, 0.9], [2.5, 1.5]],
    ])
    out = sample_features(torch.from_numpy(feat), torch.from_numpy(pts))
    assert out.shape == (2, 6, 3)
    for n in range(2):
        for p in range(6):
            ref = bilinear_np(feat[n], *pts[n, p])
            np.testing.assert_allclose(out[n, p].numpy(), ref, atol=1e-12)
    # exact grid points return the stored value exactly (x=col, y=row)
    np.testing.assert_allclose(out[0, 2].numpy(), feat[0, :, 1, 2])
    np.testing.assert_allclose(out[1, 3].numpy(), 0.5 * feat[1, :, 1, 0])


def test_sample_features_gradients():
    feat = torch.randn(1, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    pts = torch.tensor([[[3.25, 4.5]]],
                       dtype=torch.float64,
                       requires_grad=True)
    out = sample_features(feat, pts)
    out.sum().backward()
    assert feat.grad.abs().sum() > 0 and pts.grad.abs().sum() > 0


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'\(N, K, H, W\)'):
        soft_argmax_2d(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r'\(N, K, D, H, W\)'):
        soft_argmax_3d(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match='matching feat'):
        sample_features(torch.zeros(2, 3, 4, 4), torch.zeros(3, 5, 2))
