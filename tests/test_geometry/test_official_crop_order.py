"""Hand-crop arithmetic in the official float32 order, bit for bit.

The references (``tests/_official_reference.py``) are written step by step
from ``docs/official_conventions.md`` §1.4-1.5 (in-place column updates and
masked assignments, as a reader of that text would write them), and the
library must agree with them exactly (max |diff| == 0) on random boxes,
including boxes partly outside the image, degenerate tiny ones and huge
ones. When kornia 0.6 is installed (a test-only dependency, see
``requirements/tests.txt``) the crop affine and the warp are also compared
with kornia itself.
"""
import pytest
import torch

from interwild_mm.geometry.bbox import restore_bbox
from interwild_mm.geometry.crop import (compose_affine2d,
                                        crop_affine_composed, invert_affine,
                                        warp_affine)
from .._official_reference import (BODY_HW, CROP_HW, GRID_HW, INPUT_HW,
                                   ref_crop_affine, ref_restore_bbox,
                                   ref_to_input, ref_warp)


# ----------------------------------------------------------------------
def random_center_size(n, seed):
    """Centres in and around the grid; sizes tiny, typical and huge."""
    g = torch.Generator().manual_seed(seed)
    center = torch.rand(n, 2, generator=g) * torch.tensor([68.0, 88.0]) - \
        torch.tensor([10.0, 12.0])
    size = torch.rand(n, 2, generator=g) * 20
    k = n // 4
    size[:k] = torch.rand(k, 2, generator=g) * 1e-4  # degenerate
    size[k:2 * k] = torch.rand(k, 2, generator=g) * 200 + 40  # huge
    size[2 * k] = 0.0  # zero-size box
    size[2 * k + 1] = torch.tensor([3.0, 3.0])  # already square
    return center, size


def assert_bits(a, b, what):
    assert a.dtype == b.dtype == torch.float32, what
    diff = (a - b).abs().max().item()
    assert diff == 0 and torch.equal(a, b), f'{what}: max |diff| {diff}'


@pytest.mark.parametrize('aspect,ext', [(1.0, 2.0), (None, 1.0), (0.75, 1.25)])
def test_restore_bbox_bit_identical(aspect, ext):
    center, size = random_center_size(512, seed=0)
    out = restore_bbox(center, size, aspect, ext, GRID_HW, BODY_HW)
    assert_bits(out, ref_restore_bbox(center, size, aspect, ext),
                f'restore_bbox({aspect}, {ext})')
    # leading batch dimensions are elementwise the same computation
    out2 = restore_bbox(center.reshape(4, 128, 2), size.reshape(4, 128, 2),
                        aspect, ext, GRID_HW, BODY_HW)
    assert torch.equal(out2.reshape(-1, 4), out)


def test_restore_bbox_differs_from_closed_form():
    """The official order is not the algebraic closed form: both differ in
    the last bits for many boxes (so the test above can fail)."""
    center, size = random_center_size(512, seed=1)
    out = restore_bbox(center, size, 1.0, 2.0, GRID_HW, BODY_HW)
    s = torch.tensor([4.0, 4.0])
    c, wh = center * s, size * s
    wh = torch.maximum(wh, wh.flip(-1)) * 2
    closed = torch.cat([c - wh / 2, c + wh / 2], dim=-1)
    assert torch.allclose(out, closed, rtol=1e-5, atol=1e-3)
    assert not torch.equal(out, closed)


def test_crop_affine_and_warp_bit_identical():
    center, size = random_center_size(64, seed=2)
    boxes = ref_to_input(ref_restore_bbox(center, size, 1.0, 2.0))
    mat = crop_affine_composed(boxes, CROP_HW)
    ref = ref_crop_affine(boxes)
    assert_bits(mat, ref, 'crop affine')
    assert_bits(invert_affine(mat), torch.inverse(ref)[:, :2, :], 'hand2orig')
    img = torch.rand(64, 3, *INPUT_HW, generator=torch.Generator()
                     .manual_seed(3))
    assert_bits(warp_affine(img, mat[:, :2], CROP_HW), ref_warp(img, ref),
                'crops')
    # and it is the map of the doc: the box centre lands on pixel 128
    typical = boxes[34:48]  # after the zero-size and the square box
    ctr = torch.stack([(typical[:, 0] + typical[:, 2]) / 2,
                       (typical[:, 1] + typical[:, 3]) / 2, torch.ones(14)],
                      dim=-1)
    mapped = (mat[34:48].double() @ ctr.double()[..., None])[..., 0]
    assert torch.allclose(mapped[:, :2], torch.full((14, 2), 128.0,
                                                    dtype=torch.float64),
                          atol=1e-3)


def test_compose_affine2d_rotation_convention():
    """+90 degrees turns +x into +y (kornia's sign convention)."""
    one = torch.ones(1, 2)
    m = compose_affine2d(torch.zeros(1, 2), torch.zeros(1, 2), one,
                         torch.tensor([90.0]))
    p = m[0] @ torch.tensor([1.0, 0.0, 1.0])
    assert torch.allclose(p, torch.tensor([0.0, 1.0, 1.0]), atol=1e-6)
    with pytest.raises(ValueError, match='angle'):
        compose_affine2d(torch.zeros(2, 2), torch.zeros(2, 2),
                         torch.ones(2, 2), torch.zeros(3))


def _kornia06():
    kornia = pytest.importorskip('kornia')
    if not kornia.__version__.startswith('0.6.'):
        pytest.skip(f'kornia {kornia.__version__} is not the 0.6 series '
                    'the official code used')
    return kornia


def test_against_kornia_06():
    kornia = _kornia06()
    tf = kornia.geometry.transform
    center, size = random_center_size(64, seed=4)
    boxes = ref_to_input(ref_restore_bbox(center, size, 1.0, 2.0))
    x1, y1, x2, y2 = boxes.unbind(-1)
    ctr = torch.stack([(x1 + x2) / 2, (y1 + y2) / 2], dim=-1)
    k_mat = tf.get_affine_matrix2d(
        torch.tensor([128.0, 128.0]) - ctr, ctr,
        torch.stack([256 / (x2 - x1 + 1e-8), 256 / (y2 - y1 + 1e-8)], -1),
        torch.zeros(64))
    mat = crop_affine_composed(boxes, CROP_HW)
    assert_bits(mat, k_mat, 'affine vs kornia')
    img = torch.rand(64, 3, *INPUT_HW, generator=torch.Generator()
                     .manual_seed(5))
    k_crop = tf.warp_affine(img, k_mat[:, :2, :], CROP_HW, mode='bilinear',
                            padding_mode='zeros', align_corners=True)
    assert_bits(warp_affine(img, mat[:, :2], CROP_HW), k_crop,
                'warp vs kornia')
    # a rotated, anisotropic case of the general composition
    ang = torch.rand(64) * 360 - 180
    sc = torch.rand(64, 2) + 0.5
    assert_bits(compose_affine2d(ctr, ctr * 0.5, sc, ang),
                tf.get_affine_matrix2d(ctr, ctr * 0.5, sc, ang),
                'rotated affine vs kornia')
