# Copyright (c) interwild_mm contributors.
import numpy as np
import pytest

from interwild_mm.apis.inferencer import official_int_box
from interwild_mm.apis.placement import (crop_camera_in_image,
                                         crop_to_image_affine,
                                         default_intrinsics, fit_translation,
                                         hand_crop_box_in_patch,
                                         place_root_scale,
                                         project_perspective)
from interwild_mm.geometry.bbox import process_bbox


def test_default_intrinsics():
    f, c = default_intrinsics(480, 640)
    np.testing.assert_allclose(f, [800.0, 800.0])  # 3-4-5 triangle
    np.testing.assert_allclose(c, [319.5, 239.5])


def test_crop_camera_from_hand_box_independent():
    # patch (384x512) -> original: scale 2.5, offset (-100, 30)
    bb2img = np.array([[2.5, 0.0, -100.0], [0.0, 2.5, 30.0]])
    hand_img = np.array([300.0, 400.0, 380.0, 450.0])  # 80 x 50 px
    crop = hand_crop_box_in_patch(hand_img, bb2img)
    # by hand in patch px: box (160, 148)-(192, 168); centre (176, 158),
    # longer side 32 -> crop side 64
    np.testing.assert_allclose(crop, [144, 126, 208, 190], atol=1e-9)
    fv, cv = crop_camera_in_image(crop_to_image_affine(crop, bb2img))
    # in original px the crop is centred on the hand box, side 2 * 80 = 160
    np.testing.assert_allclose(cv, [340.0, 425.0], atol=1e-9)
    np.testing.assert_allclose(fv, [5000 * 160 / 256] * 2, rtol=1e-12)
    # crop pixel (0, 0) is the crop corner (centre -> 128 convention)
    m = crop_to_image_affine(crop, bb2img)
    np.testing.assert_allclose(m @ [128, 128, 1], cv, atol=1e-9)
    np.testing.assert_allclose(m @ [0, 0, 1], [340 - 80, 425 - 80], atol=1e-9)
    with pytest.raises(ValueError, match='axis-aligned'):
        crop_camera_in_image(np.array([[1.0, 0.1, 0], [0.0, 1.0, 0]]))


def test_place_root_scale_hand_derivation():
    fv, cv = np.array([3000.0, 3000.0]), np.array([400.0, 300.0])
    root = np.array([0.05, -0.02, 6.0])
    f, c = np.array([900.0, 900.0]), np.array([320.0, 240.0])
    out = place_root_scale(root, fv, cv, f, c)
    # wrist pixel in the virtual camera: (425, 290); depth 6 * 900/3000
    z = 1.8
    np.testing.assert_allclose(out, [(425 - 320) * z / 900,
                                     (290 - 240) * z / 900, z], rtol=1e-12)
    # it projects onto the same pixel in the real camera
    np.testing.assert_allclose(project_perspective(out, f, c), [425, 290],
                               atol=1e-9)


def test_fit_translation_recovers_known_translation():
    rng = np.random.RandomState(1)
    pts = rng.uniform(-0.08, 0.08, (21, 3))
    t_true = np.array([0.15, -0.1, 0.9])
    f, c = np.array([1000.0, 980.0]), np.array([330.0, 250.0])
    uv = (pts + t_true)[:, :2] / (pts + t_true)[:, 2:] * f + c
    t = fit_translation(pts, uv, f, c)
    np.testing.assert_allclose(t, t_true, atol=1e-9)
    t = fit_translation(pts, uv, f, c, init=[0, 0, 2.0])
    np.testing.assert_allclose(t, t_true, atol=1e-9)
    with pytest.raises(ValueError, match='matching'):
        fit_translation(pts, uv[:5], f, c)


def test_fit_translation_degenerate_returns_init():
    pts = np.zeros((5, 3))
    pts[:, 2] = np.linspace(0, 1, 5)
    # targets that force a solution behind the camera -> falls back to init
    uv = np.tile([[0.0, 0.0]], (5, 1))
    init = np.array([1.0, 2.0, 3.0])
    out = fit_translation(pts, uv, [1.0, 1.0], [0.0, 0.0], init=init,
                          min_depth=10.0)
    np.testing.assert_allclose(out, init)


def test_official_int_box_matches_spec():
    # docs §5: 384x512 image -> box [-48, -63, 479, 638] (float box
    # [-48.03125, -63.875, 479.0625, 638.75])
    box = process_bbox([0, 0, 384, 512], 384, 512, extend=1.25)
    np.testing.assert_allclose(box, [-48.03125, -63.875, 479.0625, 638.75],
                               atol=1e-4)
    np.testing.assert_array_equal(official_int_box([0, 0, 384, 512], 384, 512),
                                  [-48, -63, 479, 638])


def test_official_int_box_truncates_in_the_official_order():
    """57x50 image, by hand: sanitised (0, 0, 56, 49), centre (28, 24.5);
    56 > 0.75 * 49 -> h = 56 / 0.75 = 74.67; x1.25: w = 70, h = 93.33 -> 93;
    x = trunc(28 - 35) = -7, y = trunc(24.5 - 46.5) = -22. (Rebuilding the
    centre from the float32 processed box gives -21.99999 -> -21.)"""
    np.testing.assert_array_equal(official_int_box([0, 0, 57, 50], 57, 50),
                                  [-7, -22, 70, 93])
    # float person boxes are truncated toward zero first: (10.9, 20.7,
    # 40.2, 60.99) -> (10, 20, 40, 60), xywh (10, 20, 30, 40) -> sanitised
    # (10, 20, 29, 39), centre (24.5, 39.5); 29 < 0.75 * 39 = 29.25 ->
    # w = 29.25; x1.25: w = 36.5625 -> 36, h = 48.75 -> 48;
    # x = trunc(24.5 - 18) = 6, y = trunc(39.5 - 24) = 15
    np.testing.assert_array_equal(
        official_int_box([10.9, 20.7, 40.2, 60.99], 100, 100),
        [6, 15, 36, 48])
    assert official_int_box([10, 10, 10, 40], 100, 100) is None


# --- degenerate placements (issue #13 item 5) -------------------------------
# patch (384x512) -> original: scale 2.5, offset (-100, 30), as above
BB2IMG = np.array([[2.5, 0.0, -100.0], [0.0, 2.5, 30.0]])
F_REAL, C_REAL = np.array([900.0, 900.0]), np.array([320.0, 240.0])


def _joints_rel():
    rng = np.random.RandomState(3)
    rel = rng.uniform(-0.05, 0.05, (21, 3))
    rel[0] = 0.0
    return rel


def test_place_hand_scale_matches_the_hand_derivation():
    """Hand box 80x50 px at (300, 400): virtual camera f_v = 5000 * 160 /
    256 = 3125 px, c_v = (340, 425) (test above); wrist (0.05, -0.02, 6):
    pixel (340 + 3125 * 0.05 / 6, 425 - 3125 * 0.02 / 6), depth
    6 * 900 / 3125 = 1.728 m, back-projected through the real camera."""
    from interwild_mm.apis.placement import place_hand
    out = place_hand([300.0, 400.0, 380.0, 450.0], [0.05, -0.02, 6.0],
                     _joints_rel(), BB2IMG, F_REAL, C_REAL, method='scale')
    u = 340 + 3125 * 0.05 / 6
    v = 425 - 3125 * 0.02 / 6
    z = 6 * 900 / 3125
    np.testing.assert_allclose(out['wrist_cam'],
                               [(u - 320) * z / 900, (v - 240) * z / 900, z],
                               rtol=1e-12)
    np.testing.assert_allclose(out['virtual_camera']['focal'], [3125] * 2)
    np.testing.assert_allclose(out['virtual_camera']['princpt'], [340, 425])
    fit = place_hand([300.0, 400.0, 380.0, 450.0], [0.05, -0.02, 6.0],
                     _joints_rel(), BB2IMG, F_REAL, C_REAL, method='fit')
    assert fit['wrist_cam'][2] > 0 and np.all(np.isfinite(fit['wrist_cam']))


@pytest.mark.parametrize('box', [
    [200.0, 300.0, 200.0, 300.0],  # a point: zero width and height
    [-5.0, 7.0, -5.0, 7.0],
])
def test_place_hand_zero_size_box(box):
    from interwild_mm.apis.placement import PlacementError, place_hand
    with pytest.raises(PlacementError, match='spans no pixels'):
        place_hand(box, [0.0, 0.0, 5.0], _joints_rel(), BB2IMG, F_REAL,
                   C_REAL)
    # the crop camera itself refuses a zero-size crop
    with pytest.raises(PlacementError, match='spans no pixels'):
        crop_camera_in_image(np.zeros((2, 3)))


def test_place_hand_zero_width_box_is_still_placeable():
    """One zero side is fine: the crop is square on the longer side."""
    from interwild_mm.apis.placement import place_hand
    out = place_hand([300.0, 400.0, 300.0, 450.0], [0.0, 0.0, 6.0],
                     _joints_rel(), BB2IMG, F_REAL, C_REAL)
    np.testing.assert_allclose(out['virtual_camera']['focal'],
                               [5000 * 100 / 256] * 2)


@pytest.mark.parametrize('root,rel_z,what', [
    ([0.0, 0.0, -2.0], 0.0, 'virtual crop camera'),  # wrist behind
    ([0.0, 0.0, 0.0], 0.0, 'virtual crop camera'),  # wrist on the camera
    ([0.0, 0.0, 0.02], -0.05, 'virtual crop camera'),  # fingers behind
])
def test_place_hand_joints_behind_the_camera(root, rel_z, what):
    from interwild_mm.apis.placement import PlacementError, place_hand
    rel = _joints_rel()
    rel[5, 2] = rel_z
    with pytest.raises(PlacementError, match=f'{what}.*behind the camera'):
        place_hand([300.0, 400.0, 380.0, 450.0], root, rel, BB2IMG, F_REAL,
                   C_REAL)


@pytest.mark.parametrize('field', ['box', 'root', 'joints'])
def test_place_hand_nan(field):
    from interwild_mm.apis.placement import PlacementError, place_hand
    box = np.array([300.0, 400.0, 380.0, 450.0])
    root = np.array([0.0, 0.0, 6.0])
    rel = _joints_rel()
    {'box': box, 'root': root, 'joints': rel[7]}[field][1] = np.nan
    with pytest.raises(PlacementError, match='non-finite'):
        place_hand(box, root, rel, BB2IMG, F_REAL, C_REAL)


def test_fit_translation_degenerate_without_init_is_a_placement_error():
    from interwild_mm.apis.placement import PlacementError
    pts = np.zeros((5, 3))
    pts[:, 2] = np.linspace(0, 1, 5)
    with pytest.raises(PlacementError, match='degenerate fit'):
        fit_translation(pts, np.zeros((5, 2)), [1.0, 1.0], [0.0, 0.0])
    assert issubclass(PlacementError, ValueError)
