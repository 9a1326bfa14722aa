"""The `load_scan` contract: any file in, a Scan or one one-line ScanLoadError out."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

import engine.io.load as load_module
from engine.io import ScanLoadError, list_scans, load_scan
from engine.phantom import render_test_piece

# ----- helpers ---------------------------------------------------------------------------------


def _write(path: Path, pixels: np.ndarray, ext: str = ".png", params=()) -> Path:
    """Encode RGB or grey `pixels` with OpenCV (which wants BGR) and write them to `path`."""
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, pixels, list(params))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def _rgb(h: int = 12, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _grey(h: int = 12, w: int = 16, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    top = int(np.iinfo(dtype).max)
    return np.random.default_rng(seed).integers(0, top + 1, (h, w), dtype=dtype)


def _save_dicom(ds, path: Path) -> None:
    try:  # pydicom >= 3
        ds.save_as(path, enforce_file_format=True)
    except TypeError:  # pydicom 2.x
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)


def _dicom(
    path: Path,
    pixels: np.ndarray,
    photometric: str = "MONOCHROME2",
    *,
    pixel_data: bytes | None = None,
    with_pixels: bool = True,
) -> Path:
    """A minimal DX DICOM file of `pixels` (uint16 grey or uint8 RGB)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # DX for presentation
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3 if pixels.ndim == 3 else 1
    if pixels.ndim == 3:
        ds.PlanarConfiguration = 0
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    if with_pixels:
        ds.PixelData = pixels.tobytes() if pixel_data is None else pixel_data
    _save_dicom(ds, path)
    return path


def _png_header(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    """The 33 bytes of a PNG signature and IHDR chunk, CRC included."""
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


def _assert_one_line_error(path: Path, **kwargs) -> ScanLoadError:
    with pytest.raises(ScanLoadError) as info:
        load_scan(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    assert info.value.path == str(path)
    assert "\n" not in message and "\r" not in message
    return info.value


# ----- real samples ----------------------------------------------------------------------------


def _sample_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "sixray").iterdir()) + sorted((shared_data / "gdxray").iterdir())
    return [p for p in files if p.suffix.lower() in (".png", ".jpg", ".jpeg")]


def test_every_real_sample_loads_as_uint8_rgb_with_format_from_content(shared_data):
    files = _sample_files(shared_data)
    assert len(files) >= 30
    for path in files:
        scan = load_scan(path)
        head = path.read_bytes()[:8]
        expected = "png" if head.startswith(b"\x89PNG") else "jpeg"
        assert scan.meta.format == expected, path
        stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        h, w = stored.shape[:2]
        assert scan.image.dtype == np.uint8 and scan.image.shape == (h, w, 3), path
        assert (scan.width, scan.height) == (w, h)
        if stored.ndim == 2:
            assert np.array_equal(scan.image, np.repeat(stored[:, :, None], 3, axis=2)), path
        else:
            assert np.array_equal(scan.image, cv2.cvtColor(stored, cv2.COLOR_BGR2RGB)), path


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("gdxray/B0049_0019.png", "jpeg"),  # a JPEG with a .png name
        ("sixray/N0000001.jpg", "jpeg"),
        ("sixray/P00117.png", "png"),
    ],
)
def test_real_sample_format_is_sniffed_not_taken_from_the_name(shared_data, name, fmt):
    assert load_scan(shared_data / name).meta.format == fmt


def test_gdxray_jpeg_named_png_is_1059_by_715_grey(shared_data):
    scan = load_scan(shared_data / "gdxray" / "B0049_0019.png")
    assert (scan.width, scan.height) == (1059, 715)
    assert scan.image.shape == (715, 1059, 3)
    assert np.array_equal(scan.image[..., 0], scan.image[..., 2])  # one channel, repeated
    assert not scan.has_dual_energy


# ----- formats written by the test -------------------------------------------------------------


def test_png_8_bit_rgb_round_trips_in_rgb_order(tmp_path):
    rgb = _rgb()
    rgb[0, 0] = (255, 0, 0)  # pure red stays red, not blue
    scan = load_scan(_write(tmp_path / "rgb.png", rgb))
    assert scan.meta.format == "png" and scan.meta.dtype == "uint8"
    assert np.array_equal(scan.image, rgb)
    assert tuple(scan.image[0, 0]) == (255, 0, 0)


def test_png_with_alpha_drops_alpha_and_keeps_rgb(tmp_path):
    rgb = _rgb()
    bgra = np.dstack([cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), np.full(rgb.shape[:2], 7, np.uint8)])
    (tmp_path / "a.png").write_bytes(cv2.imencode(".png", bgra)[1].tobytes())
    assert np.array_equal(load_scan(tmp_path / "a.png").image, rgb)


def test_png_8_bit_grey_repeats_into_three_equal_channels(tmp_path):
    grey = _grey()
    scan = load_scan(_write(tmp_path / "g8.png", grey))
    assert scan.image.shape == (12, 16, 3)
    for c in range(3):
        assert np.array_equal(scan.image[..., c], grey)


def test_png_16_bit_grey_scales_to_8_bit(tmp_path):
    deep = _grey(dtype=np.uint16)
    deep[0, 0] = 65535
    scan = load_scan(_write(tmp_path / "g16.png", deep))
    assert scan.meta.dtype == "uint16" and scan.meta.format == "png"
    expected = np.round(deep.astype(np.float64) * 255 / 65535)
    assert np.abs(scan.image[..., 0].astype(np.float64) - expected).max() <= 1
    assert not scan.has_dual_energy


def test_jpeg_round_trips_within_compression_error(tmp_path):
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, :8] = (220, 40, 30)
    rgb[:, 8:] = (20, 60, 200)
    scan = load_scan(_write(tmp_path / "x.jpg", rgb, ".jpg", (cv2.IMWRITE_JPEG_QUALITY, 95)))
    assert scan.meta.format == "jpeg"
    assert np.abs(scan.image.astype(int) - rgb.astype(int))[2:-2, 2:6].max() < 12
    assert scan.image[8, 2, 0] > scan.image[8, 2, 2]  # red stays red
    assert scan.image[8, 12, 2] > scan.image[8, 12, 0]  # blue stays blue


def test_bmp_round_trips_exactly(tmp_path):
    rgb = _rgb(9, 11)  # odd width: BMP rows are padded
    scan = load_scan(_write(tmp_path / "x.bmp", rgb, ".bmp"))
    assert scan.meta.format == "bmp"
    assert np.array_equal(scan.image, rgb)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_grey_tiff_loads(tmp_path, dtype):
    data = _grey(dtype=dtype)
    data[0, 0] = np.iinfo(dtype).max
    tifffile.imwrite(tmp_path / "g.tif", data)
    scan = load_scan(tmp_path / "g.tif")
    assert scan.meta.format == "tiff" and scan.meta.dtype == np.dtype(dtype).name
    assert scan.image.shape == (12, 16, 3) and scan.image.dtype == np.uint8
    scale = 255 / np.iinfo(dtype).max
    expected = np.round(data.astype(np.float64) * scale)
    assert np.abs(scan.image[..., 1].astype(np.float64) - expected).max() <= 1


def test_rgb_tiff_loads_exactly(tmp_path):
    rgb = _rgb()
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    assert np.array_equal(load_scan(tmp_path / "rgb.tif").image, rgb)


def test_planar_tiff_is_made_interleaved(tmp_path):
    rgb = _rgb()
    planar = np.ascontiguousarray(np.moveaxis(rgb, -1, 0))  # (3, H, W)
    tifffile.imwrite(tmp_path / "p.tif", planar, photometric="rgb", planarconfig="separate")
    scan = load_scan(tmp_path / "p.tif")
    assert scan.image.shape == (12, 16, 3)
    assert np.array_equal(scan.image, rgb)


def test_two_page_uint16_tiff_stack_is_dual_energy(tmp_path):
    low, high = _grey(dtype=np.uint16, seed=1), _grey(dtype=np.uint16, seed=2)
    low[0, 0] = 0
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([low, high]))
    scan = load_scan(tmp_path / "stack.tif")
    assert scan.meta.format == "tiff-stack" and scan.has_dual_energy
    assert (scan.width, scan.height) == (16, 12) and scan.image.shape == (12, 16, 3)
    assert scan.low.dtype == np.float32 and scan.high.dtype == np.float32
    np.testing.assert_allclose(scan.low, np.maximum(low, 1) / 65535.0, rtol=1e-6)
    np.testing.assert_allclose(scan.high, np.maximum(high, 1) / 65535.0, rtol=1e-6)


# ----- side-by-side [low | high] exports -------------------------------------------------------


def test_1280_wide_uint16_grey_splits_into_low_and_high(tmp_path):
    both = _grey(6, 1280, np.uint16, seed=3)
    both[0, 0] = 0
    scan = load_scan(_write(tmp_path / "raw.png", both))
    assert scan.meta.format == "side-by-side" and scan.has_dual_energy
    assert (scan.width, scan.height) == (640, 6) and scan.image.shape == (6, 640, 3)
    assert scan.low.dtype == np.float32 and scan.high.dtype == np.float32
    np.testing.assert_allclose(scan.low, np.maximum(both[:, :640], 1) / 65535.0, rtol=1e-6)
    np.testing.assert_allclose(scan.high, np.maximum(both[:, 640:], 1) / 65535.0, rtol=1e-6)
    assert scan.low.min() > 0 and scan.high.max() <= 1


def test_layout_single_keeps_a_1280_wide_export_whole(tmp_path):
    path = _write(tmp_path / "raw.png", _grey(6, 1280, np.uint16))
    scan = load_scan(path, layout="single")
    assert scan.meta.format == "png" and scan.width == 1280 and not scan.has_dual_energy


@pytest.mark.parametrize(("width", "dtype"), [(1280, np.uint8), (1282, np.uint16)])
def test_auto_layout_does_not_split_other_images(tmp_path, width, dtype):
    scan = load_scan(_write(tmp_path / "x.png", _grey(4, width, dtype)))
    assert scan.width == width and not scan.has_dual_energy


def test_auto_layout_follows_channel_width(tmp_path):
    scan = load_scan(_write(tmp_path / "x.png", _grey(4, 200, np.uint16)), channel_width=100)
    assert scan.meta.format == "side-by-side" and scan.width == 100


def test_layout_side_by_side_splits_any_even_width(tmp_path):
    both = _grey(5, 200, np.uint16, seed=4)
    scan = load_scan(_write(tmp_path / "r.png", both), layout="side-by-side")
    assert scan.meta.format == "side-by-side" and (scan.width, scan.height) == (100, 5)
    np.testing.assert_allclose(scan.low, np.maximum(both[:, :100], 1) / 65535.0, rtol=1e-6)
    np.testing.assert_allclose(scan.high, np.maximum(both[:, 100:], 1) / 65535.0, rtol=1e-6)


def test_layout_side_by_side_with_odd_width_raises(tmp_path):
    path = _write(tmp_path / "odd.png", _grey(5, 201, np.uint16))
    error = _assert_one_line_error(path, layout="side-by-side")
    assert "201" in str(error)


def test_layout_side_by_side_refuses_a_colour_image(tmp_path):
    _assert_one_line_error(_write(tmp_path / "c.png", _rgb(4, 20)), layout="side-by-side")


def test_unknown_layout_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        load_scan(_write(tmp_path / "x.png", _grey()), layout="stacked")


# ----- dual-energy pairs -----------------------------------------------------------------------


def test_pair_of_files_loads_as_float32_transmissions(tmp_path):
    low = np.full((8, 9), 20000, np.uint16)
    low[0, 0] = 0  # no counts: the smallest transmission, never 0
    high = np.full((8, 9), 65535, np.uint16)
    scan = load_scan(_write(tmp_path / "l.png", low), _write(tmp_path / "h.png", high))
    assert scan.has_dual_energy and scan.meta.format == "dual-pair"
    assert scan.channels == ["rgb", "low", "high"]
    for t in (scan.low, scan.high):
        assert t.dtype == np.float32 and t.shape == (8, 9)
        assert t.min() > 0 and t.max() <= 1
    assert scan.low[0, 0] > 0
    np.testing.assert_allclose(scan.low[1, 1], 20000 / 65535, rtol=1e-6)
    assert scan.high.max() == 1.0
    assert scan.meta.sources == (str(tmp_path / "l.png"), str(tmp_path / "h.png"))


def test_pair_of_different_sizes_names_the_file_and_both_sizes(tmp_path):
    low = _write(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    high = _write(tmp_path / "h.png", np.zeros((8, 10), np.uint16))
    with pytest.raises(ScanLoadError) as info:
        load_scan(low, high)
    message = str(info.value)
    assert info.value.path == str(high) and message.startswith(f"{high}: ")
    assert "10×8" in message and "9×8" in message and "\n" not in message


def test_pair_with_a_colour_channel_raises(tmp_path):
    low = _write(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    high = _write(tmp_path / "h.png", _rgb(8, 9))
    with pytest.raises(ScanLoadError, match="single-channel") as info:
        load_scan(low, high)
    assert info.value.path == str(high)


def test_pair_with_a_missing_high_file_names_the_high_file(tmp_path):
    low = _write(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    with pytest.raises(ScanLoadError, match="not found") as info:
        load_scan(low, tmp_path / "gone.png")
    assert info.value.path == str(tmp_path / "gone.png")


def test_pair_with_a_corrupt_high_tiff_names_the_high_file(tmp_path):
    low = _write(tmp_path / "l.png", np.zeros((8, 9), np.uint16))
    tifffile.imwrite(tmp_path / "h.tif", np.zeros((8, 9), np.uint16))
    data = (tmp_path / "h.tif").read_bytes()
    (tmp_path / "h.tif").write_bytes(data[:16])  # header kept, IFD cut: tifffile's own error
    with pytest.raises(ScanLoadError) as info:
        load_scan(low, tmp_path / "h.tif")
    assert info.value.path == str(tmp_path / "h.tif")
    assert str(low) not in str(info.value)


# ----- companions on disk ----------------------------------------------------------------------


def test_companion_channels_load_with_their_scan(test_piece_files):
    scan = load_scan(test_piece_files)
    assert scan.channels == ["rgb", "low", "high", "zeff"]
    truth = render_test_piece(160, 120, seed=1)
    assert np.abs(scan.zeff - truth.zeff).max() < 1e-3  # stored as Zeff × 1000
    assert np.abs(scan.low - truth.low).max() < 2e-5  # stored as 16-bit counts
    assert np.abs(scan.high - truth.high).max() < 2e-5
    assert np.array_equal(scan.image, truth.image)  # PNG display image is lossless


def test_companions_can_be_switched_off(test_piece_files):
    assert load_scan(test_piece_files, companions=False).channels == ["rgb"]


@pytest.mark.parametrize("role", ["low", "high", "zeff"])
def test_opening_a_channel_file_loads_the_whole_scan(test_piece_files, role):
    whole = load_scan(test_piece_files)
    via = load_scan(test_piece_files.with_name(f"piece_{role}.png"))
    assert via.channels == ["rgb", "low", "high", "zeff"]
    assert via.meta.sources[0] == str(test_piece_files)  # display image first
    assert np.array_equal(via.image, whole.image)
    assert np.array_equal(via.low, whole.low) and np.array_equal(via.zeff, whole.zeff)


def test_list_scans_gives_one_entry_per_scan(test_piece_files):
    assert list_scans(test_piece_files.parent) == [test_piece_files]


def test_list_scans_sorts_naturally_and_lists_a_bare_pair_once(tmp_path):
    for name in ("scan10.png", "scan2.png", "Scan1.png", "bare_low.png", "bare_high.png"):
        _write(tmp_path / name, _grey(4, 4))
    (tmp_path / "notes.txt").write_text("not a scan")
    (tmp_path / "sub.png").mkdir()
    names = [p.name for p in list_scans(tmp_path)]
    assert names == ["bare_low.png", "Scan1.png", "scan2.png", "scan10.png"]


def test_list_scans_on_real_samples_leaves_out_masks(shared_data):
    folder = shared_data / "sixray"
    names = [p.name for p in list_scans(folder)]
    images = {p.name for p in folder.iterdir() if p.suffix in (".png", ".jpg")}
    assert set(names) == {n for n in images if "_mask" not in n}
    assert not any("_mask" in n for n in names)

    def natural(name: str) -> tuple[str, int]:
        stem = name.split(".")[0]
        return stem[0], int(stem[1:])

    assert names == sorted(names, key=natural)


# ----- DICOM -----------------------------------------------------------------------------------


def test_dicom_monochrome2_16_bit_loads(tmp_path):
    data = _grey(10, 12, np.uint16, seed=5)
    data[0, 0] = 65535
    scan = load_scan(_dicom(tmp_path / "a.dcm", data))
    assert scan.meta.format == "dicom" and scan.meta.dtype == "uint16"
    assert scan.meta.extra["modality"] == "DX"
    assert scan.meta.extra["photometric"] == "MONOCHROME2"
    assert (scan.width, scan.height) == (12, 10)
    expected = np.round(data.astype(np.float64) * 255 / 65535)
    assert np.abs(scan.image[..., 0].astype(np.float64) - expected).max() <= 1


def test_dicom_monochrome1_is_inverted(tmp_path):
    data = _grey(10, 12, np.uint16, seed=6)
    m1 = load_scan(_dicom(tmp_path / "m1.dcm", data, "MONOCHROME1"))
    m2 = load_scan(_dicom(tmp_path / "m2.dcm", (65535 - data).astype(np.uint16)))
    assert np.array_equal(m1.image, m2.image)
    dark = np.unravel_index(np.argmax(data), data.shape)  # most counts: dark in MONOCHROME1
    bright = np.unravel_index(np.argmin(data), data.shape)
    assert m1.image[dark][0] < m1.image[bright][0]


def test_dicom_rgb_loads(tmp_path):
    rgb = _rgb(6, 7, seed=7)
    scan = load_scan(_dicom(tmp_path / "c.dcm", rgb, "RGB"))
    assert scan.meta.format == "dicom"
    assert np.array_equal(scan.image, rgb)


def test_dicom_named_png_is_sniffed_as_dicom(tmp_path):
    path = _dicom(tmp_path / "scan.png", _grey(8, 8, np.uint16))
    assert load_scan(path).meta.format == "dicom"


def test_dicom_with_short_pixel_data_raises(tmp_path):
    data = _grey(10, 12, np.uint16)
    path = _dicom(tmp_path / "short.dcm", data, pixel_data=data.tobytes()[:120])
    error = _assert_one_line_error(path)
    assert "pixel data" in str(error).lower()


def test_dicom_without_pixel_data_raises(tmp_path):
    path = _dicom(tmp_path / "none.dcm", _grey(10, 12, np.uint16), with_pixels=False)
    error = _assert_one_line_error(path)
    assert "no image" in str(error) or "Pixel Data" in str(error)


def test_dicom_file_cut_short_raises(tmp_path):
    data = _dicom(tmp_path / "ok.dcm", _grey(10, 12, np.uint16)).read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[:-100])
    _assert_one_line_error(tmp_path / "cut.dcm")


def test_dicom_over_the_size_limit_is_refused(tmp_path):
    path = _dicom(tmp_path / "big.dcm", _grey(10, 80, np.uint16))
    error = _assert_one_line_error(path, max_side=64)
    assert "limit of 64" in str(error)


# ----- bad input -------------------------------------------------------------------------------


def _good_png() -> bytes:
    ramp = (np.arange(40 * 50) % 251).astype(np.uint8).reshape(40, 50)
    return cv2.imencode(".png", ramp)[1].tobytes()


def _good_jpeg() -> bytes:
    return cv2.imencode(".jpg", _rgb(40, 50, seed=8))[1].tobytes()


BAD_BYTES = {
    "empty.png": (lambda: b"", "empty"),
    "cut.jpg": (lambda: _good_jpeg()[: len(_good_jpeg()) // 2], "JPEG"),
    "cut.png": (lambda: _good_png()[: len(_good_png()) // 2], "PNG"),
    "no_iend.png": (lambda: _good_png()[:-12], "PNG"),
    "header_only.png": (lambda: _good_png()[:33], "PNG"),
    "notes.png": (lambda: b"hello, this is a text file\nnot an image\n", "text"),
    "noise.bin": (
        lambda: b"\x01" + np.random.default_rng(9).bytes(600),
        "unknown image format",
    ),
    "garbage.dcm": (
        lambda: b"\0" * 128 + b"DICM" + np.random.default_rng(10).bytes(400),
        "",
    ),
    "ff_garbage.dcm": (lambda: b"\0" * 128 + b"DICM" + b"\xff" * 300, ""),
    "jpeg_magic_only.jpg": (lambda: b"\xff\xd8\xff", "JPEG"),
    "bmp_magic_only.bmp": (lambda: b"BM" + b"\0" * 30, ""),
    "tiff_magic_only.tif": (lambda: b"II*\x00" + b"\0" * 4, ""),
}


@pytest.mark.parametrize("name", sorted(BAD_BYTES))
def test_bad_bytes_raise_one_line_scan_load_error(tmp_path, name):
    make, expected = BAD_BYTES[name]
    path = tmp_path / name
    path.write_bytes(make())
    error = _assert_one_line_error(path)
    assert expected in str(error)
    assert str(error).startswith(f"{path}: ")


def test_zero_byte_file_says_it_is_empty(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    error = _assert_one_line_error(tmp_path / "empty.png")
    assert error.problem == "file is empty (0 bytes)"


def test_directory_raises(tmp_path):
    folder = tmp_path / "looks_like.png"
    folder.mkdir()
    error = _assert_one_line_error(folder)
    assert "folder" in str(error)


def test_missing_file_raises(tmp_path):
    error = _assert_one_line_error(tmp_path / "nope.png")
    assert "not found" in str(error)


def test_error_message_stays_on_one_line_when_the_decoder_says_more(tmp_path, monkeypatch):
    def chatty(*_args, **_kwargs):
        raise RuntimeError("first line\nsecond line\r\nthird")

    monkeypatch.setattr(load_module, "decode", chatty)
    path = _write(tmp_path / "x.png", _grey())
    error = _assert_one_line_error(path)
    assert "first line second line third" in str(error)


def test_memory_error_while_decoding_becomes_scan_load_error(tmp_path, monkeypatch):
    def hungry(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr(load_module, "decode", hungry)
    error = _assert_one_line_error(_write(tmp_path / "x.png", _grey()))
    assert "memory" in str(error)


@pytest.fixture
def decode_calls(monkeypatch) -> list:
    """Records every call of the decoder, so a test can show a file was refused before it."""
    calls: list = []
    real = load_module.decode

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(load_module, "decode", spy)
    return calls


@pytest.mark.parametrize(("ext", "fmt"), [(".png", "png"), (".jpg", "jpeg"), (".bmp", "bmp")])
def test_size_limit_is_checked_from_the_header_before_decoding(tmp_path, decode_calls, ext, fmt):
    path = _write(tmp_path / f"wide{ext}", _grey(80, 100), ext)
    error = _assert_one_line_error(path, max_side=64)
    assert "100×80 px, over the limit of 64" in str(error)
    assert decode_calls == []
    assert load_scan(path, max_side=100).meta.format == fmt
    assert decode_calls == [fmt]


def test_tiff_over_the_size_limit_is_refused(tmp_path):
    tifffile.imwrite(tmp_path / "wide.tif", np.zeros((80, 100), np.uint8))
    error = _assert_one_line_error(tmp_path / "wide.tif", max_side=64)
    assert "100×80 px" in str(error) and "limit of 64" in str(error)
    assert load_scan(tmp_path / "wide.tif", max_side=100).width == 100


def test_forged_30000_px_png_header_is_refused_without_decoding(tmp_path, decode_calls):
    header = _png_header(30000, 30000)
    assert len(header) == 33
    path = tmp_path / "bomb.png"
    path.write_bytes(header + np.random.default_rng(11).bytes(200))
    error = _assert_one_line_error(path)  # default limit: 20 000 px a side
    assert "30000×30000" in str(error) and "limit" in str(error)
    assert decode_calls == []


def test_png_header_with_zero_size_is_refused(tmp_path, decode_calls):
    path = tmp_path / "zero.png"
    path.write_bytes(_png_header(0, 10) + b"\0" * 40)
    error = _assert_one_line_error(path)
    assert "0×10" in str(error)
    assert decode_calls == []


# ----- Scan.describe ---------------------------------------------------------------------------


def test_describe_is_json_serialisable(tmp_path, test_piece_files):
    for scan in (
        load_scan(_write(tmp_path / "x.png", _rgb())),
        load_scan(test_piece_files),
        render_test_piece(16, 12),
    ):
        record = json.loads(json.dumps(scan.describe()))
        assert record["width"] == scan.width and record["height"] == scan.height
        assert record["channels"] == scan.channels
        assert record["dual_energy"] is scan.has_dual_energy
        assert {"path", "format", "dtype", "sources"} <= set(record)
    assert record["channels"] == ["rgb", "low", "high", "zeff"]
