"""How much of each hidden item other contents cover: recomposes a simulated dataset's bags.

Datasets written before simulator v2.31 carry no `anomaly_cover` attribute (the share of an
anomaly's pixels under at least 0.1 g/cm² of Zeff ≥ 12 material from the bag's other contents,
`engine.synth.bag.anomaly_cover`). This recomposes every bag that holds an anomaly from its
seed and the dataset's recorded config (or `--config`), checks that it is the bag in the files
(each object's box, and each anomaly's visibility, as stored), and writes the annotations with
the covers filled in, so `xray-engine eval-classifier` can group a judge's scores by cover.

    .venv/bin/python benchmarks/anomaly_cover.py DATA/annotations.json [--config YAML] \
        [--out DATA/annotations_cover.json] [--workers 2] [KEY=VALUE ...]

A recorded config holds the settings of its day; a setting added since takes today's default,
so data made before it needs the old value given (`bag.swivel_wheels=false` before v2.32,
`bag.rail_fittings=false` before v2.34, `bag.belt_across_image=false bag.clothes_to_walls=0
bag.crop_along_belt=false` before v2.66; docs/learnability.md lists them, and each pin in
configs/synth/ names them all for its version).

Any COCO file of simulated bags works (a split's train.json, test.json, ...): images need their
`seed` ([dataset seed, index]). A bag that is not the stored one (another simulator version or
config made it) is named, and its covers are left as they were; the exit status is then 1.
Bad input (no such file, not a simulated dataset, a config that does not load) exits with 2.
Prints the covers' quartiles and the share of anomalies under each quarter, by anomaly type.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.config import ConfigError, from_dict, load_config, merge_config, parse_override
from engine.evaluation.anomaly import COVER_BANDS, cover_band
from engine.io.write import atomic_write_bytes
from engine.synth.dataset import SynthConfig, mask_bbox, recompose, worker_map

VISIBILITY_RTOL = 1e-4  # a recomposed anomaly's visibility against the stored one


def _recomposed(job: tuple[int, int, int, SynthConfig]) -> tuple[int, list[tuple]]:
    """(image id, [(category index, box, visibility, cover) per object]) of one bag."""
    image_id, seed, index, config = job
    bag = recompose(seed, index, config)[0]
    return image_id, [
        (obj.category, mask_bbox(obj.mask), obj.anomaly_visibility, obj.anomaly_cover)
        for obj in bag.objects
    ]  # fmt: skip


def _same(stored: list[dict], objects: list[tuple], categories: dict[int, str]) -> bool:
    """The recomposed objects are the stored ones: the same classes and boxes, in order, and
    each anomaly as visible."""
    if len(stored) != len(objects):
        return False
    for ann, (category, box, visibility, _) in zip(stored, objects, strict=True):
        if categories.get(ann["category_id"]) != category or ann["bbox"] != box:
            return False
        kept = (ann.get("attributes") or {}).get("anomaly_visibility")
        if (kept is None) != (visibility is None):
            return False
        if kept is not None and not np.isclose(kept, visibility, rtol=VISIBILITY_RTOL):
            return False
    return True


def _config(coco: dict, path: str | None, overrides: list[str]) -> SynthConfig:
    """The config that made the bags: `path`'s, or the one the file records (its settings as
    they were; a setting added since takes today's default unless an override sets it)."""
    if path:
        return load_config(SynthConfig, path, overrides)
    recorded = (coco.get("info") or {}).get("config")
    if not isinstance(recorded, dict):
        raise ConfigError("the file records no simulator config (info.config): give --config")
    for text in overrides:
        recorded = merge_config(recorded, parse_override(text))
    return from_dict(SynthConfig, recorded, "info.config")


def quarter_table(covers: dict[str, list[float]]) -> str:
    """Markdown: per anomaly type, how many, the covers' quartiles and the share in each of
    `eval-classifier`'s cover bands (`evaluation.anomaly.COVER_BANDS`)."""
    names = [name for _, name in COVER_BANDS]
    rows = [
        f"| anomaly | n | cover q25 / median / q75 | {' | '.join(names)} |",
        "|---|---:|---|" + "---:|" * len(names),
    ]
    everything = [c for values in covers.values() for c in values]
    for name, values in [*sorted(covers.items()), ("all", everything)]:
        if not values:
            continue
        q = np.quantile(values, [0.25, 0.5, 0.75])
        bands = [cover_band(v) for v in values]
        shares = " | ".join(f"{bands.count(band) / len(values):.2f}" for band in names)
        rows.append(f"| {name} | {len(values)} | {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} | {shares} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "annotations", type=Path, help="a simulated dataset's COCO file (or its folder)"
    )
    parser.add_argument("--config", help="the simulator config that made it (default: recorded)")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="changes to that config, e.g. bag.swivel_wheels=false for data made before v2.32",
    )
    parser.add_argument("--out", type=Path, help="where to write (default: <name>_cover.json)")
    parser.add_argument("--workers", type=int, default=1, help="processes")
    args = parser.parse_intermixed_args(argv)

    path = args.annotations
    if path.is_dir():
        path = path / "annotations.json"
    try:
        coco = json.loads(path.read_text(encoding="utf-8"))
        images = {im["id"]: im for im in coco["images"]}
        categories = {c["id"]: c["name"] for c in coco["categories"]}
        config = _config(coco, args.config, args.overrides)
    except (OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
        print(f"error: cannot read {path} as a simulated dataset: {exc}", file=sys.stderr)
        return 2
    by_image: dict[int, list[dict]] = defaultdict(list)
    for ann in coco.get("annotations", []):
        by_image[ann["image_id"]].append(ann)
    wanted = sorted(
        i
        for i, anns in by_image.items()
        if any(a.get("attributes", {}).get("anomalous") for a in anns)
    )
    missing = [i for i in wanted if not isinstance(images.get(i, {}).get("seed"), list)]
    if missing:
        print(f"error: {len(missing)} images have no seed (e.g. id {missing[0]}): "
              "not a simulated dataset", file=sys.stderr)  # fmt: skip
        return 2

    jobs = [(i, *images[i]["seed"], config) for i in wanted]
    differ, covers = [], defaultdict(list)
    with worker_map(args.workers) as imap:
        for image_id, objects in tqdm(imap(_recomposed, jobs), total=len(jobs), unit="bag"):
            stored = by_image[image_id]
            if not _same(stored, objects, categories):
                differ.append(images[image_id]["file_name"])
                continue
            for ann, (_, _, _, cover) in zip(stored, objects, strict=True):
                attributes = ann.setdefault("attributes", {})
                if attributes.get("anomalous"):
                    attributes["anomaly_cover"] = cover
                    if cover is not None:
                        covers[str(attributes.get("anomaly_type"))].append(cover)

    out = args.out or path.with_name(f"{path.stem}_cover.json")
    atomic_write_bytes(out, json.dumps(coco).encode("utf-8"))
    print(f"# anomaly covers of {path} ({len(wanted)} bags with an anomaly recomposed)")
    print()
    print(quarter_table(covers))
    print()
    print(f"written: {out}")
    if differ:
        print(f"{len(differ)} of {len(wanted)} bags are not the stored ones (another simulator "
              f"version or config?), covers left as they were: {', '.join(differ[:5])}"
              + (" ..." if len(differ) > 5 else ""), file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
