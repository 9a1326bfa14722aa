"""Issue 17: every bad scan is one clear line, in bounded time and memory, and never ends a run.

The corpus is generated here, in a temporary folder (nothing binary is committed): damaged and
chatty PNGs, decompression bombs whose headers claim hundreds of megapixels, truncated and odd
TIFFs, special files (FIFO, /dev/zero, folder, symlink loop, dangling link), and a name with a
newline. Each goes through the real CLI (`engine.cli.main`), `screen` among good scans, and
`xray-gui --screenshot`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from engine.cli import main
from engine.io import ScanLoadError, load_scan, quote_path

REPO = Path(__file__).resolve().parents[2]
SECONDS = 10  # every bad input is answered within this


# ----- the corpus ------------------------------------------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes, *, colour_type: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _good_png(h: int = 40, w: int = 50) -> bytes:
    return cv2.imencode(".png", (np.arange(h * w) % 251).astype(np.uint8).reshape(h, w))[
        1
    ].tobytes()


def _png_bomb(side: int = 12_000) -> bytes:
    """A real bomb: a few hundred kB that inflate to side² bytes of zeros."""
    z = zlib.compressobj(9)
    row = bytes(side + 1)
    return _png(side, side, b"".join(z.compress(row) for _ in range(side)) + z.flush())


def _bad_filter_png() -> bytes:
    """Good CRCs, but each row uses filter type 7: only libpng notices (and says so on fd 2)."""
    return _png(50, 40, zlib.compress(b"".join(b"\x07" + bytes(50) for _ in range(40))))


def _bad_crc_png() -> bytes:
    data = bytearray(_good_png())
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


def _huge_chunk_png() -> bytes:
    """An IDAT that claims 2 GB in a 1 kB file (the decoder used to allocate it)."""
    good = _good_png()
    return good[:33] + struct.pack(">I", 0x7FFFFFFF) + good[37:]


def _jpeg_bomb() -> bytes:
    """A small JPEG whose frame header claims 15000×15000 px."""
    data = bytearray(cv2.imencode(".jpg", np.full((40, 50, 3), 90, np.uint8))[1].tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 15_000, 15_000)
    return bytes(data)


def _bmp_bomb() -> bytes:
    data = bytearray(cv2.imencode(".bmp", np.zeros((4, 4), np.uint8))[1].tobytes())
    data[18:26] = struct.pack("<ii", 15_000, 15_000)
    return bytes(data)


def _tiff(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def _tiff_bomb() -> bytes:
    """A 40×50 TIFF whose tags were changed to say 15000×15000 px."""
    data = bytearray(_tiff(np.zeros((40, 50), np.uint8)))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        tags = tif.pages[0].tags
        offsets = [tags[name].valueoffset for name in ("ImageWidth", "ImageLength")]
        sizes = [tags[name].dtype for name in ("ImageWidth", "ImageLength")]
    for offset, dtype in zip(offsets, sizes, strict=True):
        fmt = "<H" if int(dtype) == 3 else "<I"
        data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, 15_000)
    return bytes(data)


def _cut(data: bytes, keep: float | int) -> bytes:
    return data[: int(len(data) * keep) if isinstance(keep, float) else keep]


def _write(make: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(make())


def _special(kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "zero":
            path.symlink_to("/dev/zero")
        elif kind == "loop":
            path.symlink_to(path.name)
        elif kind == "dangling":
            path.symlink_to(path.with_name("gone.png"))

    return make


def _jpeg(pixels: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", pixels)[1].tobytes()


def _text(_path: Path | None = None) -> bytes:
    return b"a text file, not a scan\n"


# name -> (what writes the file at a path, words the one-line message must hold)
BAD_SCANS: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty.png": (_write(lambda: b""), "empty"),
    "notes.png": (_write(_text), "text"),
    "bad_crc.png": (_write(_bad_crc_png), "checksum"),
    "bad_filter.png": (_write(_bad_filter_png), "libpng: bad adaptive filter value"),
    "huge_chunk.png": (_write(_huge_chunk_png), "truncated"),
    "cut.png": (_write(lambda: _cut(_good_png(), 0.5)), "truncated"),
    "bomb_header.png": (_write(lambda: _png(20_000, 20_000, b"")), "400 megapixels"),
    "bomb.png": (_write(_png_bomb), "144 megapixels"),
    "cut.jpg": (_write(lambda: _cut(_jpeg(np.full((40, 50, 3), 9, np.uint8)), 0.6)), "JPEG"),
    "bomb.jpg": (_write(_jpeg_bomb), "225 megapixels"),
    "bomb.bmp": (_write(_bmp_bomb), "225 megapixels"),
    "bomb.tif": (_write(_tiff_bomb), "225 megapixels"),
    "seven_pages.tif": (_write(lambda: _tiff(np.zeros((7, 40, 50), np.uint16))), "7 pages"),
    "complex.tif": (_write(lambda: _tiff(np.zeros((40, 50), np.complex64))), "complex64"),
    "cut.tif": (
        _write(lambda: _cut(_tiff(np.zeros((40, 50), np.uint16)), 0.5)),
        "truncated or corrupt TIFF",
    ),
    "header_only.tif": (
        _write(lambda: _cut(_tiff(np.zeros((40, 50), np.uint16)), 12)),
        "truncated or corrupt TIFF",
    ),
    "stack_of_rgb.tif": (
        _write(lambda: _tiff(np.zeros((2, 40, 50, 3), np.uint8))),
        "expected 1 page",
    ),
    "new\nline.png": (_write(_text), "text"),
    "fifo.png": (_special("fifo"), "FIFO"),
    "zero.png": (_special("zero"), "not a regular file"),
    "folder.png": (_special("folder"), "folder"),
    "loop.png": (_special("loop"), "symbolic link loop"),
    "dangling.png": (_special("dangling"), "dangling symbolic link"),
}


def make_bad(folder: Path, name: str) -> Path:
    path = folder / name
    BAD_SCANS[name][0](path)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad_scans")
    for name in BAD_SCANS:
        make_bad(folder, name)
    return folder


@contextmanager
def deadline(seconds: int = SECONDS) -> Iterator[None]:
    """Fail (instead of hanging) when the block takes longer than `seconds`: SIGALRM interrupts
    even a blocking open() of a FIFO."""

    def expire(*_args) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < seconds


def one_line(err: str, path: Path) -> str:
    """The only stderr line; it names `path` (quoted when the name needs it)."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert quote_path(path) in lines[0], err
    return lines[0]


# ----- info ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(BAD_SCANS), ids=lambda n: n.replace("\n", "_"))
def test_info_answers_each_bad_scan_in_one_line(corpus, name, capfd):
    path = corpus / name
    with deadline():
        assert main(["info", str(path)]) == 2
    out, err = capfd.readouterr()  # fd level: libpng and OpenCV chatter would show here
    assert out == ""
    line = one_line(err, path)
    assert line.startswith(f"error: {quote_path(path)}: ")
    assert BAD_SCANS[name][1] in line


def test_a_newline_in_a_file_name_stays_on_one_line(corpus, capfd):
    path = corpus / "new\nline.png"
    main(["info", str(path)])
    line = one_line(capfd.readouterr().err, path)
    assert line == f"error: {str(path)!r}: file is text, not an image"


def test_the_pixel_limit_is_settable(tmp_path, capfd, monkeypatch):
    path = tmp_path / "small.png"
    path.write_bytes(_good_png())  # 50×40 = 2000 px
    assert main(["info", "--max-pixels", "1999", str(path)]) == 2
    assert "over the limit of 0.001999 megapixels" in one_line(capfd.readouterr().err, path)
    monkeypatch.setenv("XRAY_MAX_PIXELS", "1999")
    with pytest.raises(ScanLoadError, match="megapixels"):
        load_scan(path)
    monkeypatch.setenv("XRAY_MAX_PIXELS", "2000")
    assert load_scan(path).width == 50


@pytest.mark.parametrize(
    ("array", "kwargs", "shape", "dual"),
    [
        (np.zeros((40, 50), np.uint16), {}, (40, 50, 3), False),
        (np.zeros((40, 50, 3), np.uint8), {}, (40, 50, 3), False),
        (
            np.zeros((3, 40, 50), np.uint8),
            {"planarconfig": "separate", "photometric": "rgb"},
            (40, 50, 3),
            False,
        ),
        (np.zeros((3, 40, 50), np.uint16), {"photometric": "minisblack"}, (40, 50, 3), False),
        (np.zeros((2, 40, 50), np.uint16), {}, (40, 50, 3), True),
        (np.zeros((1, 500), np.uint8), {}, (1, 500, 3), False),
    ],
    ids=["grey", "rgb", "rgb_planes", "three_pages", "low_high", "one_row"],
)
def test_the_documented_tiff_layouts_still_load(tmp_path, array, kwargs, shape, dual):
    path = tmp_path / "ok.tif"
    path.write_bytes(_tiff(array, **kwargs))
    scan = load_scan(path)
    assert scan.image.shape == shape and scan.has_dual_energy == dual


def test_bombs_and_special_files_stay_within_memory_and_time(corpus):
    """In a fresh process (so that its peak memory is its own): every bomb and special file."""
    names = [n for n in BAD_SCANS if "bomb" in n or "chunk" in n or n in ("zero.png", "fifo.png")]
    # VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and
    # exec, and pytest itself may have grown past 1 GB by the time this test runs.
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        "status = main(['info', *sys.argv[1:]])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "print(hwm[0].split()[1])\n"
        "sys.exit(status)\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *(str(corpus / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 2, done.stderr
    assert time.perf_counter() - start < 30  # start-up included; each file well under 10 s
    peak_kb = int(done.stdout.split()[-1])
    assert peak_kb < 1_000_000, f"peak memory {peak_kb / 1e6:.1f} GB"
    lines = done.stderr.splitlines()
    assert len(lines) == len(names) and "Traceback" not in done.stderr
    for name, line in zip(names, lines, strict=True):
        assert line.startswith(f"error: {corpus / name}: ")


# ----- screen ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_detector_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A detector-only bundle with random weights, written in seconds (no training): enough
    for `screen` to run a real detector on 40×50 scans."""
    import torch

    from engine.bundle import KIND, _half
    from engine.checkpoint import save_checkpoint
    from engine.detection.models import build_from_architecture

    torch.manual_seed(0)
    arch = {
        "name": "fasterrcnn_resnet18_fpn",
        "num_classes": 3,
        "norm": "gn",
        "min_size": 64,
        "max_size": 96,
        "box_detections_per_img": 5,
        "rpn_batch_size_per_image": 32,
        "box_batch_size_per_image": 32,
    }
    bundle = {
        "kind": KIND,
        "name": "tiny",
        "categories": ["bottle", "laptop"],
        "detector": {"architecture": arch},
        "classifiers": [],
        "model": {"detector": _half(build_from_architecture(arch).state_dict()), "classifiers": []},
        "thresholds": {"detection": 0.0, "anomaly": 0.5},
        "crops": {"size": 32, "margin": 0.15, "mode": "rgb", "masks": False},
        "metrics": {},
    }
    return save_checkpoint(tmp_path_factory.mktemp("bundle") / "tiny.xsb", bundle)


def _good_scans(folder: Path) -> list[Path]:
    """a.png, a.jpg (the same stem) and b.png: 40×50 RGB."""
    folder.mkdir(exist_ok=True)
    paths = [folder / "a.png", folder / "a.jpg", folder / "b.png"]
    for i, path in enumerate(paths):
        assert cv2.imwrite(str(path), np.full((40, 50, 3), 60 + 40 * i, np.uint8))
    return paths


def _results(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


SCREEN_BAD = [
    "bad_filter.png",
    "bomb.png",
    "bomb_header.png",
    "seven_pages.tif",
    "cut.tif",
    "new\nline.png",
    "fifo.png",
    "zero.png",
    "loop.png",
    "dangling.png",
]


@pytest.mark.slow
def test_screen_skips_every_bad_scan_and_screens_the_good_ones_around_them(
    tiny_detector_bundle, tmp_path, capfd
):
    folder = tmp_path / "scans"
    good = _good_scans(folder)
    bad = [make_bad(folder, name) for name in SCREEN_BAD]
    thin = folder / "thin.png"
    assert cv2.imwrite(str(thin), np.zeros((1, 5000), np.uint8))  # loads, breaks the detector
    inputs = [good[0], *bad[:5], thin, good[1], *bad[5:], good[2]]
    out = tmp_path / "out"
    start = time.perf_counter()
    with deadline(120):
        model = ["--model", str(tiny_detector_bundle), "--out", str(out), "--quiet"]
        code = main(["screen", *map(str, inputs), *model])
    assert code == 0
    assert time.perf_counter() - start < 10 * len(inputs)
    records = _results(out)
    assert [r["path"] for r in records] == [str(p) for p in inputs]
    screened = [r for r in records if "error" not in r]
    assert [r["path"] for r in screened] == [str(p) for p in good]
    names = ["annotated/a.png", "annotated/a.jpg.png", "annotated/b.png"]
    assert [r["annotated"] for r in screened] == names
    assert sorted(p.name for p in (out / "annotated").iterdir()) == ["a.jpg.png", "a.png", "b.png"]
    out_text, err = capfd.readouterr()
    assert "Traceback" not in err
    lines = err.splitlines()
    failed = [*bad, thin]
    assert len(lines) == len(failed), err
    for line in lines:
        assert line.startswith("skipped: ")
    for path in failed:
        assert sum(line.startswith(f"skipped: {quote_path(path)}: ") for line in lines) == 1
    assert "too thin to screen" in next(r["error"] for r in records if r["path"] == str(thin))
    assert f"3 screened, {len(failed)} skipped" in out_text


@pytest.mark.slow
def test_screen_goes_on_whatever_one_scan_raises(
    tiny_detector_bundle, tmp_path, capfd, monkeypatch
):
    from engine.pipeline import Screener

    good = _good_scans(tmp_path / "scans")
    real = Screener.screen

    def flaky(self, scan):
        if scan.meta.path.endswith("a.jpg"):
            raise RuntimeError("CUDA error: an illegal memory access\nwas encountered")
        return real(self, scan)

    monkeypatch.setattr(Screener, "screen", flaky)
    out = tmp_path / "out"
    argv = ["screen", *map(str, good), "--model", str(tiny_detector_bundle), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    records = _results(out)
    assert [("error" in r) for r in records] == [False, True, False]
    assert records[1]["error"] == (
        "screening failed (RuntimeError: CUDA error: an illegal memory access was encountered)"
    )
    one_line(capfd.readouterr().err, good[1])


def test_a_crash_keeps_the_results_written_so_far(tiny_detector_bundle, tmp_path, monkeypatch):
    from engine.pipeline import Screener

    good = _good_scans(tmp_path / "scans")
    real = Screener.screen

    def killed(self, scan):
        if scan.meta.path.endswith("b.png"):
            raise KeyboardInterrupt  # not one scan's failure: the run stops here
        return real(self, scan)

    monkeypatch.setattr(Screener, "screen", killed)
    out = tmp_path / "out"
    argv = ["screen", *map(str, good), "--model", str(tiny_detector_bundle), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 130
    assert [r["path"] for r in _results(out)] == [str(good[0]), str(good[1])]  # whole lines


@pytest.mark.parametrize("where", ["under_a_file", "is_a_file", "read_only"])
def test_an_unwritable_out_is_one_line_and_exit_2(tiny_detector_bundle, tmp_path, capfd, where):
    scan = _good_scans(tmp_path / "scans")[0]
    if where == "under_a_file":
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "out"
    elif where == "is_a_file":
        out = tmp_path / "out"
        out.write_text("")
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (tmp_path / "ro").mkdir(mode=0o555)
        out = tmp_path / "ro" / "out"
    argv = ["screen", str(scan), "--model", str(tiny_detector_bundle), "--out", str(out)]
    assert main(argv) == 2
    line = one_line(capfd.readouterr().err, out)
    assert line.startswith("xray-engine screen: cannot write to ")


def test_screen_of_a_folder_without_scans_is_one_line(tmp_path, capfd):
    folder = tmp_path / "x.png"
    folder.mkdir()
    argv = ["screen", str(folder), "--model", str(tmp_path / "none.xsb"), "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "no scans in" in one_line(capfd.readouterr().err, folder)


# ----- xray-gui --screenshot ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("folder.png", "no scans"),
        ("loop.png", "symbolic link loop"),
        ("dangling.png", "dangling symbolic link"),
        ("fifo.png", "FIFO"),
        ("zero.png", "not a regular file"),
        ("bad_filter.png", "libpng"),  # refused by the loader in the window's worker
    ],
)
def test_screenshot_of_a_bad_path_exits_2_at_once(corpus, tmp_path, name, words):
    env = {
        **os.environ,
        "XRAY_GUI_SETTINGS": str(tmp_path / "s.ini"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    path = corpus / name
    shot = ["--screenshot", str(tmp_path / "x.png"), str(path)]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "xray_gui.app", "--no-model", *shot],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert time.perf_counter() - start < 20  # Qt start-up included; the old wait was 121 s
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr, path)
    assert line.startswith("xray-gui: ") and words in line
    assert not (tmp_path / "x.png").exists()
