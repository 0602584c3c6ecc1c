# Copyright (c) interwild_mm contributors.
import cv2
import numpy as np
import pytest

from interwild_mm.apis.inputs import (InputError, collect_inputs, read_image,
                                      to_bgr_uint8)


def test_collect_folder_sorted_images_only(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    for name in ('b.png', 'a.jpg', 'c.JPG'):
        cv2.imwrite(str(tmp_path / name), img) if not name.endswith(
            'JPG') else (tmp_path / name).write_bytes(
                cv2.imencode('.jpg', img)[1].tobytes())
    (tmp_path / 'notes.txt').write_text('x')
    (tmp_path / 'sub.png').mkdir()
    items = collect_inputs(str(tmp_path))
    assert [i.name for i in items] == ['a', 'b', 'c']
    assert all(i.kind == 'image' for i in items)


def test_collect_errors_and_name_clashes(tmp_path):
    with pytest.raises(InputError, match='no image files'):
        collect_inputs(str(tmp_path))
    with pytest.raises(InputError, match='does not exist'):
        collect_inputs(str(tmp_path / 'missing.jpg'))
    (tmp_path / 'x.txt').write_text('x')
    with pytest.raises(InputError, match='neither an image'):
        collect_inputs(str(tmp_path / 'x.txt'))
    for name in ('a.jpg', 'a.png'):
        cv2.imwrite(str(tmp_path / name), np.zeros((4, 4, 3), np.uint8))
    names = [i.name for i in collect_inputs(str(tmp_path))]
    assert names == ['a_jpg', 'a_png']
    arr = np.zeros((4, 4, 3), np.uint8)
    assert [i.name for i in collect_inputs([arr, arr])] == [
        'array_000', 'array_001'
    ]


def test_read_image_variants(tmp_path):
    gray = (np.arange(20 * 30) % 256).astype(np.uint8).reshape(20, 30)
    cv2.imwrite(str(tmp_path / 'g.png'), gray)
    out = read_image(str(tmp_path / 'g.png'))
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 1], gray)
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 7  # BGRA: blue 200, alpha 7
    cv2.imwrite(str(tmp_path / 'a.png'), rgba)
    out = read_image(str(tmp_path / 'a.png'))
    assert out.shape == (10, 12, 3)
    np.testing.assert_array_equal(out[0, 0], [200, 0, 0])
    deep = np.full((6, 6, 3), 65535, np.uint16)
    cv2.imwrite(str(tmp_path / 'd.png'), deep)
    assert read_image(str(tmp_path / 'd.png')).max() == 255
    (tmp_path / 'bad.jpg').write_bytes(b'\xff\xd8\xffthis is not a jpeg')
    with pytest.raises(InputError, match='corrupt'):
        read_image(str(tmp_path / 'bad.jpg'))
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(InputError, match='empty'):
        read_image(str(tmp_path / 'empty.png'))


def test_to_bgr_uint8_arrays():
    rgb = np.zeros((5, 5, 3), np.uint8)
    rgb[..., 0] = 255  # red in RGB
    np.testing.assert_array_equal(to_bgr_uint8(rgb, rgb=True)[0, 0],
                                  [0, 0, 255])
    np.testing.assert_array_equal(to_bgr_uint8(rgb)[0, 0], [255, 0, 0])
    assert to_bgr_uint8(np.full((3, 3, 1), 9.6)).max() == 10
    with pytest.raises(InputError, match='shape'):
        to_bgr_uint8(np.zeros((5, 5, 2), np.uint8))
    with pytest.raises(InputError, match='too small'):
        to_bgr_uint8(np.zeros((1, 5, 3), np.uint8))
