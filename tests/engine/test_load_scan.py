"""load_scan: formats from content, dual-energy layouts, one error type for bad input."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import tifffile

from engine.io import ScanLoadError, companion_files, list_scans, load_scan
from engine.phantom import render_test_piece


def _png(path, pixels):
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), pixels)
    return path


def _ramp(h=24, w=32, dtype=np.uint8):
    top = np.iinfo(dtype).max
    return (np.linspace(0, top, h * w).reshape(h, w)).astype(dtype)


# ----- real samples --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fmt", "size"),
    [
        ("gdxray/B0049_0019.png", "jpeg", (1059, 715)),  # a JPEG named .png
        ("sixray/N0000001.jpg", "jpeg", (1291, 1387)),
        ("sixray/P00117.png", "png", (768, 576)),
        ("sixray/N0293168.png", "png", (227, 550)),
    ],
)
def test_real_samples_load_with_format_from_content(shared_data, name, fmt, size):
    scan = load_scan(shared_data / name)
    assert scan.meta.format == fmt
    assert (scan.width, scan.height) == size
    assert scan.image.dtype == np.uint8 and scan.image.shape == (size[1], size[0], 3)
    assert not scan.has_dual_energy


def test_every_real_sample_loads(shared_data):
    paths = list_scans(shared_data / "sixray") + list_scans(shared_data / "gdxray")
    assert len(paths) == 17
    for path in paths:
        scan = load_scan(path)
        assert scan.image.ndim == 3 and scan.image.shape[2] == 3
        assert scan.image.std() > 5  # a real picture, not a blank


# ----- formats written by the test -----------------------------------------------------------
def test_png_rgb_round_trip_keeps_rgb_order(tmp_path):
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 200  # red
    scan = load_scan(_png(tmp_path / "a.png", rgb))
    assert np.array_equal(scan.image, rgb)
    assert scan.meta.format == "png" and scan.meta.dtype == "uint8"


def test_grey_png_8_and_16_bit(tmp_path):
    grey = _ramp()
    scan = load_scan(_png(tmp_path / "g8.png", grey))
    assert np.array_equal(scan.image[..., 1], grey)
    deep = _ramp(dtype=np.uint16)
    scan = load_scan(_png(tmp_path / "g16.png", deep))
    assert scan.meta.dtype == "uint16"
    expected = (deep.astype(np.float32) * 255 / 65535 + 0.5).astype(np.uint8)
    assert np.abs(scan.image[..., 0].astype(int) - expected).max() <= 1


def test_12_bit_data_in_16_bit_png_uses_its_own_range(tmp_path):
    data = (_ramp(dtype=np.uint16) >> 4).astype(np.uint16)  # 0..4095
    scan = load_scan(_png(tmp_path / "g12.png", data))
    assert scan.image.max() == 255


def test_jpeg_and_bmp(tmp_path):
    rgb = np.full((16, 16, 3), (10, 120, 240), np.uint8)
    _, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (tmp_path / "x.jpeg").write_bytes(data.tobytes())
    scan = load_scan(tmp_path / "x.jpeg")
    assert scan.meta.format == "jpeg"
    assert np.abs(scan.image.astype(int) - rgb).max() < 8
    _, data = cv2.imencode(".bmp", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (tmp_path / "x.bmp").write_bytes(data.tobytes())
    assert np.array_equal(load_scan(tmp_path / "x.bmp").image, rgb)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_grey(tmp_path, dtype):
    data = _ramp(dtype=dtype)
    tifffile.imwrite(tmp_path / "t.tif", data)
    scan = load_scan(tmp_path / "t.tif")
    assert scan.meta.format == "tiff" and scan.meta.dtype == np.dtype(dtype).name
    assert scan.image.shape == (24, 32, 3)


def test_tiff_rgb_interleaved_and_planar(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    assert np.array_equal(load_scan(tmp_path / "rgb.tif").image, rgb)
    tifffile.imwrite(
        tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate"
    )
    assert np.array_equal(load_scan(tmp_path / "planar.tif").image, rgb)


def test_tiff_two_page_stack_is_low_and_high(tmp_path):
    low, high = _ramp(dtype=np.uint16) // 2, _ramp(dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([low, high]))
    scan = load_scan(tmp_path / "stack.tif")
    assert scan.meta.format == "tiff-stack" and scan.has_dual_energy
    assert np.allclose(scan.high, np.maximum(high, 1) / 65535.0)


# ----- dual energy ---------------------------------------------------------------------------
def test_side_by_side_export_splits_automatically(tmp_path):
    rng = np.random.default_rng(1)
    both = rng.integers(0, 65535, (48, 1280), dtype=np.uint16)
    scan = load_scan(_png(tmp_path / "raw.png", both))
    assert scan.meta.format == "side-by-side" and (scan.width, scan.height) == (640, 48)
    assert np.allclose(scan.low, np.maximum(both[:, :640], 1) / 65535.0)
    assert np.allclose(scan.high, np.maximum(both[:, 640:], 1) / 65535.0)
    assert scan.low.dtype == np.float32 and scan.low.min() > 0 and scan.high.max() <= 1
    whole = load_scan(tmp_path / "raw.png", layout="single")
    assert whole.width == 1280 and not whole.has_dual_energy


def test_side_by_side_forced_and_odd_width(tmp_path):
    path = _png(tmp_path / "r.png", _ramp(10, 100, np.uint16))
    assert load_scan(path, layout="side-by-side").width == 50
    odd = _png(tmp_path / "odd.png", _ramp(10, 101, np.uint16))
    with pytest.raises(ScanLoadError, match="halves differ"):
        load_scan(odd, layout="side-by-side")


def test_pair_of_files(tmp_path):
    low = _png(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    high = _png(tmp_path / "h.png", np.full((8, 9), 30000, np.uint16))
    scan = load_scan(low, high)
    assert scan.meta.format == "dual-pair" and scan.has_dual_energy
    assert scan.low.min() > 0  # zero counts become the smallest transmission, not 0
    assert np.allclose(scan.high, 30000 / 65535)


def test_pair_of_different_sizes_names_file_and_sizes(tmp_path):
    low = _png(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    high = _png(tmp_path / "h.png", np.zeros((8, 10), np.uint16))
    with pytest.raises(ScanLoadError) as err:
        load_scan(low, high)
    assert str(high) in str(err.value) and "10×8" in str(err.value) and "9×8" in str(err.value)


def test_companion_channels_load_with_their_scan(test_piece_files):
    scan = load_scan(test_piece_files)
    assert scan.channels == ["rgb", "low", "high", "zeff"]
    truth = render_test_piece(160, 120, seed=1)
    assert np.abs(scan.zeff - truth.zeff).max() < 1e-3
    assert np.abs(scan.low - truth.low).max() < 2e-5
    via_low = load_scan(test_piece_files.with_name("piece_low.png"))
    assert via_low.has_dual_energy and np.array_equal(via_low.image, scan.image)
    assert set(companion_files(test_piece_files)) == {"display", "low", "high", "zeff"}
    assert load_scan(test_piece_files, companions=False).channels == ["rgb"]
    assert list_scans(test_piece_files.parent) == [test_piece_files]


def test_list_scans_leaves_out_masks_and_sorts_naturally(shared_data):
    names = [p.name for p in list_scans(shared_data / "sixray")]
    assert not any("_mask" in n for n in names)
    assert names[:4] == ["N0000001.jpg", "N0000002.jpg", "N0000003.jpg", "N0000004.jpg"]


# ----- bad input -----------------------------------------------------------------------------
def _bad_files(tmp_path):
    good_jpeg = cv2.imencode(".jpg", np.zeros((40, 40, 3), np.uint8))[1].tobytes()
    good_png = cv2.imencode(".png", _ramp())[1].tobytes()
    ihdr = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (30000).to_bytes(4, "big") * 2
    files = {
        "empty.png": (b"", "empty"),
        "cut.jpg": (good_jpeg[: len(good_jpeg) // 2], "truncated"),
        "cut.png": (good_png[: len(good_png) // 2], "PNG"),
        "notes.png": (b"hello, this is text\n", "text"),
        "noise.bin": (bytes(range(7, 250)) * 3, "unknown image format"),
        "bad.dcm": (b"\0" * 128 + b"DICM" + b"\xff" * 300, "DICOM|Dicom|dicom|Error|error"),
        "huge.png": (ihdr + b"\0" * 64, "30000×30000 px, over the limit"),
    }
    for name, (data, _) in files.items():
        (tmp_path / name).write_bytes(data)
    return {tmp_path / name: pattern for name, (_, pattern) in files.items()}


def test_bad_files_raise_one_line_scan_load_error(tmp_path):
    for path, pattern in _bad_files(tmp_path).items():
        with pytest.raises(ScanLoadError, match=pattern) as err:
            load_scan(path)
        message = str(err.value)
        assert message.startswith(str(path)) and "\n" not in message, message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScanLoadError, match="not found"):
        load_scan(tmp_path / "nope.png")
    with pytest.raises(ScanLoadError, match="folder"):
        load_scan(tmp_path)


def test_size_limit_is_configurable(tmp_path):
    path = _png(tmp_path / "wide.png", np.zeros((80, 100), np.uint8))
    with pytest.raises(ScanLoadError, match="over the limit of 64"):
        load_scan(path, max_side=64)
    tifffile.imwrite(tmp_path / "wide.tif", np.zeros((80, 100), np.uint8))
    with pytest.raises(ScanLoadError, match="over the limit of 64"):
        load_scan(tmp_path / "wide.tif", max_side=64)
    assert load_scan(path, max_side=100).width == 100


def test_describe_is_json():
    scan = render_test_piece(16, 12)
    data = json.loads(json.dumps(scan.describe()))
    assert data["channels"] == ["rgb", "low", "high", "zeff"] and data["dual_energy"] is True
