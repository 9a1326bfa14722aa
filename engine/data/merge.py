"""Merge COCO annotation files into one, so several datasets train one model.

Each source keeps its images where they are: `file_name` (and the dual-energy `channels` paths
the simulator records) are rewritten relative to the merged file's folder. Image and annotation
ids are renumbered from 1 in source order; categories are matched by name, so sources may number
them differently but must name the same classes. An image file listed twice is an error rather
than a silent duplicate that would leak between splits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from engine.data.split import image_root, load_coco, resolve_annotations
from engine.errors import DatasetError
from engine.io.write import atomic_write_bytes


def merge_coco(sources: Sequence[str | Path], out: str | Path) -> Path:
    """Write the union of the COCO files or dataset folders in `sources` to `out`."""
    if len(sources) < 2:
        raise DatasetError("merging needs at least two COCO files or dataset folders")
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise DatasetError(f"{out}: the merged annotations must be a .json file")
    merged: dict = {"images": [], "annotations": [], "categories": []}
    names: list[str] = []
    seen: dict[str, Path] = {}
    for source in sources:
        path = resolve_annotations(source)
        coco = load_coco(path)
        root = image_root(path, coco)
        ids = {c["id"]: c.get("name") for c in coco["categories"]}
        if not names:
            names = [c.get("name") for c in coco["categories"]]
            merged["categories"] = [dict(c, id=i) for i, c in enumerate(coco["categories"], 1)]
            merged["info"] = dict(coco.get("info") or {}, merged_from=[])
            merged["info"].pop("image_root", None)
        elif sorted(ids.values()) != sorted(names):
            raise DatasetError(
                f"{path}: categories {sorted(ids.values())} differ from {sorted(names)} "
                f"(the first file's); merge datasets of the same classes"
            )
        merged["info"]["merged_from"].append(str(path))
        image_ids: dict = {}
        for image in coco["images"]:
            if not isinstance(image.get("file_name"), str):
                raise DatasetError(f"{path}: image {image['id']!r} has no file_name")
            where = (root / image["file_name"]).resolve()
            if str(where) in seen:
                raise DatasetError(f"{path}: image {where} is already in {seen[str(where)]}")
            seen[str(where)] = path
            new = dict(image, id=len(merged["images"]) + 1, file_name=_relative(where, out))
            if isinstance(image.get("channels"), dict):
                new["channels"] = {
                    k: _relative((root / v).resolve(), out) for k, v in image["channels"].items()
                }
            image_ids[image["id"]] = new["id"]
            merged["images"].append(new)
        for ann in coco["annotations"]:
            merged["annotations"].append(
                dict(
                    ann,
                    id=len(merged["annotations"]) + 1,
                    image_id=image_ids[ann["image_id"]],
                    category_id=names.index(ids[ann["category_id"]]) + 1,
                )
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, json.dumps(merged).encode())
    return out


def _relative(where: Path, out: Path) -> str:
    """`where` relative to the merged file's folder (absolute if on another drive)."""
    try:
        return Path(os.path.relpath(where, out.parent.resolve())).as_posix()
    except ValueError:
        return where.as_posix()
