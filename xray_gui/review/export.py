"""Exports of a review: COCO (our training schema), Pascal VOC and YOLO, written atomically.

With `reviewed_only=True` (the default: a training set the analyst vouches for) only decided
scans are exported, and in them only the objects the analyst accepted, corrected or drew; a
decided scan with nothing kept is exported as a negative image. With `reviewed_only=False`
every scan with a prediction or analyst work is exported with what the analyst was shown: every
object the analyst judged or drew, and the pending findings at or above the detection threshold
in force, each marked with its review status; `include_hidden=True` adds the pending findings
under it (everything the model kept, down to its score floor). The thresholds in force are the
`score_threshold` and `anomaly_threshold` given, else the project's (`ReviewStore.thresholds_for`);
anomaly flags are decided at them as the overlay decides them. Boxes are clipped to the image;
an object left without area is skipped.

An export is all or nothing: every exported scan must still be a file (else ReviewError names
the missing ones and nothing is written), everything is made before anything is written, and a
folder export is written into a temporary folder beside the destination, then renamed into
place (moved in file by file when the destination already holds files).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pycocotools import mask as mask_utils

from engine.io.write import atomic_write_bytes
from xray_gui.review.objects import Entry
from xray_gui.review.store import ReviewError, ReviewStore

KEPT = ("accepted", "corrected", "added")  # what an analyst vouches for


def export_coco(
    store: ReviewStore,
    out_path: Path,
    *,
    reviewed_only: bool = True,
    include_hidden: bool = False,
    score_threshold: float | None = None,
    anomaly_threshold: float | None = None,
) -> Path:
    """A COCO JSON that `engine.data.CocoDetection` trains on, saying who said what.

    `info.image_root` is the scan folder, `file_name` the store key. Each annotation keeps the
    model's mask (RLE) while its box is the model's, or the analyst's polygon as a COCO polygon
    segmentation (its area as pycocotools rasterises it); `attributes` holds `anomalous`,
    `review_status`, `source`, `score`, `anomaly_score`, `reviewed_by` and `model`; each image
    carries `review: {decision, note, reviewed_by}`.
    """
    out_path = Path(out_path)
    view = _View(reviewed_only, include_hidden, score_threshold, anomaly_threshold)
    scans = _scans(store, view)
    _check_scans(store, scans)
    categories = _categories(store, scans)
    images, annotations = [], []
    for image_id, (key, entries) in enumerate(scans.items(), start=1):
        w, h = _image_size(store, key)
        analyst = store._analyst(key)
        review = {
            "decision": analyst["decision"],
            "note": analyst["note"],
            "reviewed_by": analyst["decision_by"],
        }
        images.append({"id": image_id, "file_name": key, "width": w, "height": h, "review": review})
        info = store.prediction_info(key)
        for e in entries:
            box = _clip(e.obj.box_xyxy, w, h)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            ann = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": categories.index(e.obj.label) + 1,
                "bbox": [round(v, 2) for v in (x0, y0, x1 - x0, y1 - y0)],
                "area": round((x1 - x0) * (y1 - y0), 2),
                "iscrowd": 0,
            }
            rle = _mask_rle(e)
            polygon = _polygon(e, w, h)
            if rle is not None:
                ann["segmentation"] = rle
                encoded = {"size": rle["size"], "counts": rle["counts"].encode()}
                ann["area"] = float(mask_utils.area(encoded))
            elif polygon is not None:
                ann["segmentation"] = [polygon]
                ann["area"] = float(mask_utils.area(mask_utils.frPyObjects([polygon], h, w))[0])
            ann["attributes"] = {
                "anomalous": bool(e.obj.anomalous),
                "review_status": e.obj.status,
                "source": e.obj.source,
                "score": e.obj.score,
                "anomaly_score": e.obj.anomaly_score,
                "reviewed_by": e.record.get("by") if e.record else None,
                "model": info["model"] if info and e.obj.source == "model" else None,
            }
            annotations.append(ann)
    coco = {
        "info": {
            "description": f"X-ray review of {store.folder}",
            "date_created": datetime.now(UTC).isoformat(timespec="seconds"),
            "image_root": str(store.folder),
            "exported_by": store.analyst,
            "reviewed_only": reviewed_only,
            "include_hidden": include_hidden,
            **view.in_force(store),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": i, "name": name, "supercategory": "object"}
            for i, name in enumerate(categories, start=1)
        ],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_path, json.dumps(coco, separators=(",", ":")).encode())
    return out_path


def export_voc(
    store: ReviewStore,
    out_dir: Path,
    *,
    reviewed_only: bool = True,
    include_hidden: bool = False,
    score_threshold: float | None = None,
    anomaly_threshold: float | None = None,
) -> Path:
    """One Pascal VOC XML per scan in `out_dir`, named by the flattened key (see `flat_stem`).

    VOC boxes are 1-based inclusive pixel indices: xmin = round(x0) + 1, xmax = round(x1) for
    our continuous XYXY boxes. Each object adds `<anomalous>0|1</anomalous>`, `<status>` and
    `<source>`; each file adds `<review>` with the decision, analyst and note.
    """
    out_dir = Path(out_dir)
    view = _View(reviewed_only, include_hidden, score_threshold, anomaly_threshold)
    scans = _scans(store, view)
    _check_scans(store, scans, out_dir)
    files: dict[str, bytes] = {}
    for key, stem in _stems(scans).items():
        w, h = _image_size(store, key)
        analyst = store._analyst(key)
        root = ET.Element("annotation")
        _sub(root, "folder", store.folder.name)
        _sub(root, "filename", key)
        _sub(root, "path", str(store.path(key)))
        _sub(_sub(root, "source"), "database", "xray-review")
        size = _sub(root, "size")
        for tag, value in (("width", w), ("height", h), ("depth", 3)):
            _sub(size, tag, value)
        _sub(root, "segmented", 0)
        review = _sub(root, "review")
        _sub(review, "decision", analyst["decision"] or "")
        _sub(review, "reviewed_by", analyst["decision_by"] or "")
        _sub(review, "note", analyst["note"])
        for e in scans[key]:
            box = _clip(e.obj.box_xyxy, w, h)
            if box is None:
                continue
            obj = _sub(root, "object")
            _sub(obj, "name", e.obj.label)
            _sub(obj, "pose", "Unspecified")
            _sub(obj, "truncated", 0)
            _sub(obj, "difficult", 0)
            xmin, ymin = min(round(box[0]) + 1, w), min(round(box[1]) + 1, h)
            xmax, ymax = max(round(box[2]), xmin), max(round(box[3]), ymin)
            bndbox = _sub(obj, "bndbox")
            for tag, value in {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}.items():
                _sub(bndbox, tag, value)
            _sub(obj, "anomalous", int(e.obj.anomalous))
            _sub(obj, "status", e.obj.status)
            _sub(obj, "source", e.obj.source)
        ET.indent(root)
        files[f"{stem}.xml"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    _write_folder(out_dir, files)
    return out_dir


def export_yolo(
    store: ReviewStore,
    out_dir: Path,
    *,
    reviewed_only: bool = True,
    include_hidden: bool = False,
    score_threshold: float | None = None,
    anomaly_threshold: float | None = None,
) -> Path:
    """A YOLO dataset in `out_dir`: `labels/<stem>.txt`, `images/`, `classes.txt`, `data.yaml`.

    Label lines are the standard five columns "class cx cy w h" (class 0-based in
    `classes.txt` order, coordinates normalised to the image). YOLO lines have no attribute
    field, so the anomaly flags go in the sidecar `anomalies.json`: {stem: [bool per line]}.
    `images/<stem><suffix>` links to each scan (a copy where links are not allowed), so the
    usual images/ → labels/ pairing of YOLO trainers finds the labels; `data.yaml` uses it
    for train and val alike.
    """
    out_dir = Path(out_dir)
    view = _View(reviewed_only, include_hidden, score_threshold, anomaly_threshold)
    scans = _scans(store, view)
    _check_scans(store, scans, out_dir)
    categories = _categories(store, scans)
    files: dict[str, bytes] = {}
    links: dict[str, Path] = {}
    anomalies: dict[str, list[bool]] = {}
    for key, stem in _stems(scans).items():
        w, h = _image_size(store, key)
        lines, flags = [], []
        for e in scans[key]:
            box = _clip(e.obj.box_xyxy, w, h)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            cx, cy, bw, bh = (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h
            lines.append(f"{categories.index(e.obj.label)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")
            flags.append(bool(e.obj.anomalous))
        files[f"labels/{stem}.txt"] = "".join(lines).encode()
        anomalies[stem] = flags
        links[f"images/{stem}{Path(key).suffix}"] = store.path(key)
    files["classes.txt"] = "".join(f"{c}\n" for c in categories).encode()
    files["anomalies.json"] = json.dumps(anomalies, indent=1).encode()
    data = {
        "path": str(out_dir.resolve()),
        "train": "images",
        "val": "images",
        "nc": len(categories),
        "names": dict(enumerate(categories)),
    }
    files["data.yaml"] = yaml.safe_dump(data, sort_keys=False).encode()
    _write_folder(out_dir, files, links)
    return out_dir


def flat_stem(key: str) -> str:
    """A file stem for a scan key: folders joined by "__", so keys in subfolders stay apart."""
    return Path(key).with_suffix("").as_posix().lstrip("/").replace("/", "__")


@dataclass(frozen=True)
class _View:
    """What an export holds: reviewed objects only, or what was shown (or everything)."""

    reviewed_only: bool
    include_hidden: bool
    score_threshold: float | None
    anomaly_threshold: float | None

    def thresholds(self, store: ReviewStore, key: str) -> tuple[float, float | None]:
        """The thresholds in force for a scan: the ones given, else the project's."""
        kept = store.thresholds_for(key) or (0.0, None)
        score = self.score_threshold if self.score_threshold is not None else kept[0]
        anomaly = self.anomaly_threshold if self.anomaly_threshold is not None else kept[1]
        return score, anomaly

    def in_force(self, store: ReviewStore) -> dict:
        """{"score_threshold", "anomaly_threshold"} for the export's info: the ones given, else
        the project's (None where neither says; then each scan's screening model's apply)."""
        kept = store.thresholds or {}
        return {
            "score_threshold": _first(self.score_threshold, kept.get("score")),
            "anomaly_threshold": _first(self.anomaly_threshold, kept.get("anomaly")),
        }


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _scans(store: ReviewStore, view: _View) -> dict[str, list[Entry]]:
    """The exported scans' keys, each with the objects to write, in natural order."""
    out = {}
    for key in store.scan_keys():
        if view.reviewed_only and not store.is_reviewed(key):
            continue
        if store.status(key) == "new":
            continue
        score, anomaly = view.thresholds(store, key)
        entries = store._entries(key, 0.0 if view.include_hidden else score, anomaly)
        if view.reviewed_only:
            out[key] = [e for e in entries if e.obj.status in KEPT]
        else:
            out[key] = [e for e in entries if e.obj.visible]
    return out


def _check_scans(
    store: ReviewStore, scans: dict[str, list[Entry]], out_dir: Path | None = None
) -> None:
    """ReviewError naming the exported scans that are no longer files, before anything is made."""
    missing = []
    for key in scans:
        try:
            if not stat.S_ISREG(os.stat(store.path(key)).st_mode):
                missing.append(key)
        except (OSError, ValueError):
            missing.append(key)
    if missing:
        names = ", ".join(json.dumps(k, ensure_ascii=False) for k in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        were = "scan is" if len(missing) == 1 else "scans are"
        raise ReviewError(
            f"Nothing exported: {len(missing)} {were} no longer in {store.folder}: "
            f"{names}{more}; put them back and export again."
        )
    if out_dir is not None and (out_dir.exists() or out_dir.is_symlink()) and not out_dir.is_dir():
        raise ReviewError(f"Nothing exported: {out_dir} is not a folder")


def _write_folder(
    out_dir: Path, files: dict[str, bytes], links: dict[str, Path] | None = None
) -> None:
    """Write `files` (and `links` to scans) under `out_dir` at once: a temporary folder beside
    it, renamed into place, or moved in file by file when `out_dir` already holds files."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        for name, data in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        for name, source in (links or {}).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            _link(source, tmp / name)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700: give the folder the usual mode
        try:
            os.rename(tmp, out_dir)  # out_dir absent or an empty folder: one atomic step
        except OSError:
            _check_room(tmp, out_dir)
            _move_into(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_room(source: Path, target: Path) -> None:
    """ReviewError when a file of the export would land on a folder in `target`, or the reverse."""
    for entry in source.rglob("*"):
        there = target / entry.relative_to(source)
        is_dir = entry.is_dir() and not entry.is_symlink()
        if (there.exists() or there.is_symlink()) and there.is_dir() != is_dir:
            kind = "a folder" if there.is_dir() else "a file"
            raise ReviewError(f"Nothing exported: {there} is {kind} already")


def _move_into(source: Path, target: Path) -> None:
    """Move the tree `source` into the folder `target`, replacing files of the same name."""
    target.mkdir(exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            _move_into(entry, target / entry.name)
        else:
            os.replace(entry, target / entry.name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _categories(store: ReviewStore, scans: dict[str, list[Entry]]) -> list[str]:
    """The store's categories, then any label a model used that is not among them."""
    names = list(store.categories)
    for entries in scans.values():
        names += [e.obj.label for e in entries if e.obj.label not in names]
    return names


def _stems(scans: dict[str, list[Entry]]) -> dict[str, str]:
    """A distinct file stem per key; "bag.png" and "bag.tif" become "bag" and "bag_tif"."""
    stems: dict[str, str] = {}
    used: set[str] = set()
    for key in scans:
        stem = flat_stem(key)
        if stem in used:
            stem = f"{stem}_{Path(key).suffix.lstrip('.')}"
        n = 1
        while stem in used:
            n += 1
            stem = f"{flat_stem(key)}_{n}"
        used.add(stem)
        stems[key] = stem
    return stems


def _image_size(store: ReviewStore, key: str) -> tuple[int, int]:
    """(width, height) from the latest prediction, else from the scan as the screener loads it."""
    latest = store._latest(key)
    if latest is not None:
        w, h = latest["result"]["image_size"]
        return int(w), int(h)
    from engine.io import ScanLoadError, load_scan

    try:
        scan = load_scan(store.path(key), companions=False)
    except ScanLoadError as exc:
        raise ReviewError(f"Cannot export {key}: {exc}") from exc
    return scan.width, scan.height


def _clip(box, w: int, h: int) -> tuple[float, float, float, float] | None:
    x0, x1 = (min(max(float(v), 0.0), w) for v in box[0::2])
    y0, y1 = (min(max(float(v), 0.0), h) for v in box[1::2])
    if x1 - x0 <= 0 or y1 - y0 <= 0 or not all(map(math.isfinite, (x0, y0, x1, y1))):
        return None
    return x0, y0, x1, y1


def _mask_rle(e: Entry) -> dict | None:
    """The model's mask as stored, while the analyst has not moved the box."""
    if e.finding is None or not e.finding.get("mask_rle") or (e.record and "box" in e.record):
        return None
    return {"size": list(e.finding["mask_rle"]["size"]), "counts": e.finding["mask_rle"]["counts"]}


def _polygon(e: Entry, w: int, h: int) -> list[float] | None:
    """An analyst's polygon clipped to the image, flat as COCO has it: x0, y0, x1, y1, …"""
    if e.obj.polygon is None:
        return None
    return [v for x, y in e.obj.polygon for v in (min(max(x, 0.0), w), min(max(y, 0.0), h))]


def _sub(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _link(source: Path, target: Path) -> None:
    """Point `target` at `source`: a symbolic link, or a copy where links are not allowed."""
    try:
        os.symlink(source, target)
    except OSError:
        shutil.copy2(source, target)
