"""Stratified train/val/test splits of a COCO dataset, balanced on classes and anomalies.

Each image carries the labels of its objects, `"<category_id>/anomalous"` or
`"<category_id>/normal"` (plain COCO without `attributes` counts as normal), or `"empty"` when it
has no objects. Images are dealt out by iterative stratification (Sechidis, Tsoumakas & Vlahavas,
"On the stratification of multi-label data", ECML PKDD 2011): the rarest label goes first, so rare
classes and rare anomalies reach every split in proportion. The paper lets split sizes drift by a
few images; here a last pass moves the images whose move hurts label balance least until each
split has its integer size (fractions × N by largest remainder, so within ±1 image).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

from engine.errors import DatasetError
from engine.io.write import atomic_write_bytes

SPLITS = ("train", "val", "test")
UNSEEN = "test_unseen_designs"  # the split of held-out product designs
ANNOTATIONS = "annotations.json"  # the file name engine.synth.dataset writes in a dataset folder
EMPTY = "empty"
_FRACTION_TOLERANCE = 1e-6


def split_files(folder: str | Path) -> dict[str, Path]:
    """The COCO files a dataset folder holds, by role: `"annotations"` (every image, as the
    simulator writes it) and each split `split_coco` wrote (`"train"`, `"val"`, `"test"`,
    `"test_unseen_designs"`); roles without a file are left out."""
    folder = Path(folder)
    names = {"annotations": ANNOTATIONS, **{s: f"{s}.json" for s in (*SPLITS, UNSEEN)}}
    return {role: folder / name for role, name in names.items() if (folder / name).is_file()}


def resolve_split(path: str | Path, split: str | None = None) -> Path:
    """The COCO JSON for `split` of `path`: a file is itself; a dataset folder gives its
    `<split>.json`, else (or with no `split`) its `annotations.json`; a one-line ValueError
    when there is neither."""
    path = Path(path)
    if path.is_dir():
        files = split_files(path)
        chosen = files.get(split) if split else None
        if chosen is None:
            chosen = files.get("annotations")
        if chosen is not None:
            return chosen
        wanted = f"{split}.json or {ANNOTATIONS}" if split else ANNOTATIONS
        raise DatasetError(f"{path}: dataset folder has no {wanted}")
    if path.is_file():
        return path
    raise DatasetError(f"{path}: no such dataset folder or COCO JSON file")


def resolve_annotations(path: str | Path) -> Path:
    """The COCO JSON for `path`: a dataset folder's `annotations.json`, or the file itself."""
    return resolve_split(path)


def training_files(
    path: str | Path, val: str | Path | None = None, *, seed: int = 0, out_dir: str | Path
) -> tuple[Path, Path | None]:
    """Train and validation COCO files for a training run on `path` (`val`, if given, wins).

    A file trains as is. A dataset folder trains on its `train.json` and validates on its
    `val.json`; one holding only `annotations.json` is first split 60/20/20 with `seed` into
    `out_dir`, so training never sees the validation or test images. One-line ValueErrors.
    """
    path, val = Path(path), Path(val) if val else None
    if not path.is_dir():
        return resolve_split(path), val
    files = split_files(path)
    if "train" in files:
        return files["train"], val or files.get("val")
    if "annotations" in files:
        paths = split_coco(files["annotations"], seed=seed, out_dir=out_dir)
        return paths["train"], val or paths["val"]
    raise DatasetError(f"{path}: no train.json or {ANNOTATIONS} in this dataset folder")


def _check_fractions(fractions: Sequence[float], source: Path) -> tuple[float, ...]:
    """`fractions` as three positive finite floats summing to 1, or a ValueError."""
    try:
        values = tuple(fractions)
    except TypeError:
        values = ()
    ok = len(values) == len(SPLITS) and all(
        isinstance(f, int | float) and not isinstance(f, bool) and math.isfinite(f) and f > 0
        for f in values
    )
    if not ok or abs(sum(values) - 1.0) > _FRACTION_TOLERANCE:
        raise DatasetError(
            f"{source}: fractions must be {len(SPLITS)} positive numbers summing to 1 "
            f"(train, val, test), got {fractions!r}"
        )
    return tuple(float(f) for f in values)


def load_coco(path: Path) -> dict:
    """The parsed COCO dict at `path`, checked for what a split needs; one-line ValueErrors."""
    try:
        coco = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: cannot read COCO JSON: {e}") from e
    if not isinstance(coco, dict):
        raise DatasetError(f"{path}: not a COCO JSON object (top level is {type(coco).__name__})")
    missing = [k for k in ("images", "annotations", "categories") if k not in coco]
    if missing:
        raise DatasetError(f"{path}: not a COCO file, missing key(s) {', '.join(missing)}")
    for key in ("images", "annotations", "categories"):
        if not isinstance(coco[key], list) or not all(isinstance(x, dict) for x in coco[key]):
            raise DatasetError(f"{path}: '{key}' must be a list of objects")
    if not isinstance(coco.get("info", {}), dict):
        raise DatasetError(f"{path}: 'info' must be an object")
    image_ids: set = set()
    for image in coco["images"]:
        image_id = image.get("id")
        if not isinstance(image_id, int | str) or isinstance(image_id, bool):
            raise DatasetError(f"{path}: image without a valid id: {_short(image)}")
        if image_id in image_ids:
            raise DatasetError(f"{path}: duplicate image id {image_id!r}")
        image_ids.add(image_id)
    category_ids = set()
    for cat in coco["categories"]:
        if not isinstance(cat.get("id"), int | str) or isinstance(cat.get("id"), bool):
            raise DatasetError(f"{path}: category without a valid id: {_short(cat)}")
        category_ids.add(cat["id"])
    for ann in coco["annotations"]:
        image_id = ann.get("image_id")
        if not isinstance(image_id, int | str) or image_id not in image_ids:
            raise DatasetError(
                f"{path}: annotation {ann.get('id')!r} points at unknown image id {image_id!r}"
            )
        if not isinstance(ann.get("category_id"), int | str) or (
            ann["category_id"] not in category_ids
        ):
            raise DatasetError(
                f"{path}: annotation {ann.get('id')!r} has unknown category id "
                f"{ann.get('category_id')!r}"
            )
    return coco


def image_root(path: Path, coco: dict) -> Path:
    """Where a COCO file's `file_name`s are relative to: its folder, or `info.image_root`."""
    root = (coco.get("info") or {}).get("image_root")
    return path.parent / root if root else path.parent


def _short(obj: object, limit: int = 80) -> str:
    text = json.dumps(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_anomalous(ann: dict) -> bool:
    """Whether a COCO annotation is labelled anomalous (`attributes.anomalous`)."""
    attributes = ann.get("attributes")
    return isinstance(attributes, dict) and bool(attributes.get("anomalous"))


def image_labels(coco: dict) -> list[frozenset[str]]:
    """The stratification labels of each image, in the order of `coco["images"]`."""
    labels: dict = {image["id"]: set() for image in coco["images"]}
    for ann in coco["annotations"]:
        state = "anomalous" if is_anomalous(ann) else "normal"
        labels[ann["image_id"]].add(f"{ann['category_id']}/{state}")
    return [frozenset(labels[image["id"]] or {EMPTY}) for image in coco["images"]]


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Integer split sizes summing to `n`: fractions × n by largest remainder, none empty."""
    total = sum(fractions)  # tolerate fractions that sum to 1 only up to float error
    exact = [n * f / total for f in fractions]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda j: (sizes[j] - exact[j], j))
    for j in by_remainder[: n - sum(sizes)]:
        sizes[j] += 1
    for j in range(len(sizes)):  # a tiny fraction of a small set still gets one image
        if sizes[j] == 0:
            donor = max(range(len(sizes)), key=lambda i: (sizes[i], -i))
            sizes[donor] -= 1
            sizes[j] = 1
    return sizes


def stratify(
    labels: Sequence[frozenset[str]], fractions: Sequence[float], seed: int = 0
) -> list[int]:
    """The split index of each item, by iterative stratification over its label set.

    Every item needs at least one label. The seed orders the items and breaks ties, so the same
    labels, fractions and seed always give the same assignment. Split sizes are `split_sizes`.
    """
    rng = random.Random(seed)
    n, k = len(labels), len(fractions)
    sizes = split_sizes(n, fractions)
    room = list(sizes)  # overall demand; goes negative where a split is over-full
    order = list(range(n))
    rng.shuffle(order)
    members: dict[str, list[int]] = {}
    for i in order:
        for label in sorted(labels[i]):
            members.setdefault(label, []).append(i)
    demand = {label: [len(items) * f for f in fractions] for label, items in members.items()}
    remaining = {label: len(items) for label, items in members.items()}
    assignment = [-1] * n
    while remaining:
        fewest = min(remaining.values())
        rarest = sorted(label for label, count in remaining.items() if count == fewest)
        label = rarest[0] if len(rarest) == 1 else rng.choice(rarest)
        for i in members[label]:
            if assignment[i] >= 0:
                continue
            most = max(demand[label])
            best = [j for j in range(k) if demand[label][j] == most]
            if len(best) > 1:
                roomiest = max(room[j] for j in best)
                best = [j for j in best if room[j] == roomiest]
            j = best[0] if len(best) == 1 else rng.choice(best)
            assignment[i] = j
            room[j] -= 1
            for other in labels[i]:
                demand[other][j] -= 1
                remaining[other] -= 1
                if remaining[other] == 0:
                    del remaining[other]
    _trim_to_size(assignment, labels, order, demand, room, sizes)
    return assignment


def _trim_to_size(
    assignment: list[int],
    labels: Sequence[frozenset[str]],
    order: list[int],
    demand: dict[str, list[float]],
    room: list[int],
    sizes: list[int],
) -> None:
    """Move items from over-full to under-full splits until every split has its size.

    The greedy pass balances labels but lets sizes drift by a few items; each move takes the
    label set whose move least raises the sum of squared label shortfalls (as shares of the
    split), so the common labels are not left to absorb the drift. Updates all in place.
    """
    groups: dict[tuple[int, frozenset[str]], list[int]] = {}
    for i in order:
        groups.setdefault((assignment[i], labels[i]), []).append(i)
    while any(r < 0 for r in room):
        best = None
        for (src, label_set), items in groups.items():
            if room[src] >= 0 or not items:
                continue
            for dst in range(len(sizes)):
                if room[dst] <= 0:
                    continue
                cost = sum(
                    (2 * demand[label][src] + 1) / sizes[src] ** 2
                    + (1 - 2 * demand[label][dst]) / sizes[dst] ** 2
                    for label in label_set
                )
                key = (cost, src, dst, sorted(label_set))
                if best is None or key < best[0]:
                    best = (key, src, dst, label_set)
        assert best is not None  # an over-full split implies an under-full one
        _, src, dst, label_set = best
        i = groups[src, label_set].pop()
        groups.setdefault((dst, label_set), []).append(i)
        assignment[i] = dst
        room[src] += 1
        room[dst] -= 1
        for label in label_set:
            demand[label][src] += 1
            demand[label][dst] -= 1


def split_coco(
    annotations: str | Path,
    *,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    out_dir: str | Path | None = None,
    hold_out_designs: int = 0,
    group_by: str | None = None,
) -> dict[str, Path]:
    """Write stratified `train.json`, `val.json`, `test.json` of a COCO file; returns their paths.

    With `group_by` (an image field, e.g. `background` of projected images), images that share
    its value stay in one split, so a real background seen in training never reappears in test;
    fractions then count groups, not images.

    With `hold_out_designs` N > 0, N product designs of each class (drawn with `seed`) are kept
    out of train, val and test: every image holding one goes to `test_unseen_designs.json`, a
    "new product model" test (annotations need the simulator's `design` attribute).

    `annotations` is a COCO JSON or a dataset folder holding `annotations.json`. Outputs go
    beside the input by default, so `file_name` paths stay valid; elsewhere, `info.image_root`
    records the input's folder. Image and annotation ids are kept. Same file and seed give
    byte-identical outputs. Raises ValueError (one line, naming the file) on bad input.
    """
    source = resolve_annotations(annotations)
    fractions = _check_fractions(fractions, source)
    coco = load_coco(source)
    images = coco["images"]
    if len(images) < len(SPLITS):
        raise DatasetError(
            f"{source}: {len(images)} image(s) cannot fill {len(SPLITS)} splits "
            f"({', '.join(SPLITS)})"
        )
    image_root = source.parent.resolve()
    out = Path(out_dir) if out_dir is not None else source.parent
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.json" for name in SPLITS}
    if any(p.resolve() == source.resolve() for p in paths.values()):
        raise DatasetError(f"{source}: splitting would overwrite the input; choose another out_dir")

    held = held_out_designs(coco, hold_out_designs, seed, source) if hold_out_designs else set()
    unseen = {a["image_id"] for a in coco["annotations"] if _design(a) in held}
    if held:
        paths[UNSEEN] = out / f"{UNSEEN}.json"
    seen = [im for im in images if im["id"] not in unseen]
    if len(seen) < len(SPLITS):
        raise DatasetError(f"{source}: {len(seen)} image(s) left without held-out designs")
    kept = [a for a in coco["annotations"] if a["image_id"] not in unseen]
    labels = image_labels({"images": seen, "annotations": kept})
    if group_by is None:
        assignment = stratify(labels, fractions, seed)
    else:
        assignment = _stratify_groups(seen, labels, group_by, fractions, seed, source)
    split_of = {image["id"]: j for image, j in zip(seen, assignment, strict=True)}
    split_of.update(dict.fromkeys(unseen, len(SPLITS)))
    rest = {k: v for k, v in coco.items() if k not in ("info", "images", "annotations")}
    for j, name in enumerate(paths):
        info = {
            **coco.get("info", {}),
            "split": name,
            "fractions": list(fractions),
            "seed": seed,
            "source": source.name,
        }
        if held:
            info["held_out_designs"] = sorted(held)
        if out.resolve() != image_root:
            info["image_root"] = str(image_root)
        part = {
            "info": info,
            **rest,
            "images": [im for im in images if split_of[im["id"]] == j],
            "annotations": [a for a in coco["annotations"] if split_of[a["image_id"]] == j],
        }
        atomic_write_bytes(paths[name], json.dumps(part, indent=1).encode())
    return paths


def _stratify_groups(
    images: list[dict],
    labels: list[frozenset[str]],
    key: str,
    fractions: Sequence[float],
    seed: int,
    source: Path,
) -> list[int]:
    """`stratify` over groups of images sharing `image[key]`; each image gets its group's split."""
    groups: dict[str, set[str]] = {}
    for image, image_labels_ in zip(images, labels, strict=True):
        if key not in image:
            what = f"image {image.get('id')} has no field {key!r}"
            raise DatasetError(f"{source}: {what} to group by")
        groups.setdefault(str(image[key]), set()).update(image_labels_)
    if len(groups) < len(SPLITS):
        raise DatasetError(
            f"{source}: {len(groups)} value(s) of {key!r} cannot fill {len(SPLITS)} splits"
        )
    names = list(groups)
    group_labels = [frozenset(groups[g] - {EMPTY} or {EMPTY}) for g in names]
    split_of = dict(zip(names, stratify(group_labels, fractions, seed), strict=True))
    return [split_of[str(image[key])] for image in images]


def _design(ann: dict) -> str | None:
    attributes = ann.get("attributes")
    return attributes.get("design") if isinstance(attributes, dict) else None


def held_out_designs(coco: dict, n: int, seed: int, source: Path) -> set[str]:
    """`n` designs of each class (drawn with `seed`) to keep out of training, e.g. `laptop/07`."""
    if n < 0:
        raise DatasetError(f"{source}: --hold-out-designs must be >= 0, got {n}")
    by_class: dict[str, set[str]] = {}
    for ann in coco["annotations"]:
        design = _design(ann)
        if isinstance(design, str) and "/" in design:
            by_class.setdefault(design.split("/")[0], set()).add(design)
    if not by_class:
        raise DatasetError(
            f"{source}: no annotation records a product design (attributes.design); "
            "only datasets of the simulator v2 can hold designs out"
        )
    rng = random.Random(seed)
    held: set[str] = set()
    for name, designs in sorted(by_class.items()):
        if len(designs) <= n:
            raise DatasetError(
                f"{source}: {name} has {len(designs)} design(s) in this dataset; holding out {n} "
                "would leave none to train on"
            )
        held.update(rng.sample(sorted(designs), n))
    return held


def split_summary(paths: dict[str, Path]) -> str:
    """A plain-text table of each split: images, empty images, objects, per class, anomalous."""
    names: dict = {}
    rows = []
    totals = {"images": 0, "empty": 0, "objects": 0, "anomalous": 0, "flagged": 0}
    class_totals: dict = {}
    for split, path in paths.items():
        coco = json.loads(Path(path).read_bytes())
        for cat in coco.get("categories", []):
            names.setdefault(cat["id"], str(cat.get("name", cat["id"])))
        anns = coco.get("annotations", [])
        with_objects = {a["image_id"] for a in anns}
        counts: dict = {}
        for a in anns:
            counts[a["category_id"]] = counts.get(a["category_id"], 0) + 1
            class_totals[a["category_id"]] = class_totals.get(a["category_id"], 0) + 1
        row = {
            "images": len(coco.get("images", [])),
            "empty": sum(im["id"] not in with_objects for im in coco.get("images", [])),
            "objects": len(anns),
            "anomalous": sum(is_anomalous(a) for a in anns),
            "flagged": sum(isinstance(a.get("attributes"), dict) for a in anns),
        }
        for key in totals:
            totals[key] += row[key]
        rows.append((split, row, counts))
    rows.append(("total", totals, class_totals))

    header = ["split", "images", "empty", "objects", *names.values(), "anomalous"]
    table = [header]
    for split, row, counts in rows:
        share = f"{row['anomalous'] / row['objects']:.1%}" if row["flagged"] else "n/a"
        table.append(
            [
                split,
                str(row["images"]),
                str(row["empty"]),
                str(row["objects"]),
                *(str(counts.get(cid, 0)) for cid in names),
                share,
            ]
        )
    widths = [max(len(r[c]) for r in table) for c in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in table
    ]
    return "\n".join(lines)
