"""`xray-engine` commands on datasets: `synth`, `split`, `merge`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_synth(args: argparse.Namespace) -> int:
    """Write a simulated dataset: scans and a COCO JSON with anomaly attributes."""
    from dataclasses import replace

    from engine.config import load_config
    from engine.synth.dataset import SynthConfig, write_dataset

    config = load_config(SynthConfig, args.config, args.overrides)
    if args.backgrounds is not None:
        return _synth_tip(args, config)
    if args.exclude_backgrounds is not None:
        print("xray-engine synth: --exclude-backgrounds goes with --backgrounds", file=sys.stderr)
        return 2
    if args.size is not None:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"xray-engine synth: --size must be WxH, not {args.size!r}", file=sys.stderr)
            return 2
        # Keep the bag's physical size: a smaller image means a coarser pixel (either way up).
        long, short = max(width, height), min(width, height)
        pitch = config.bag.pitch_cm * max(640 / long, 480 / short, 1.0)
        bag = replace(config.bag, width=width, height=height, pitch_cm=pitch)
        config = replace(config, bag=bag)
    if args.n < 1 or config.bag.width < 32 or config.bag.height < 32:
        print("xray-engine synth: need --n >= 1 and a size of at least 32x32", file=sys.stderr)
        return 2
    try:
        path = write_dataset(
            args.out, args.n, args.seed, config=config, workers=max(1, args.workers)
        )
    except OSError as exc:
        print(f"xray-engine synth: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


_PALETTE = ("colour", "jitter_colour")  # settings projection does not take (its own palette)


def _synth_tip(args: argparse.Namespace, config) -> int:
    """`synth --backgrounds`: simulated objects projected into real scans."""
    from engine.synth.projection import BackgroundError, read_names, write_tip_dataset

    if args.size is not None or args.n < 1:
        print(
            "xray-engine synth: need --n >= 1; --size does not go with --backgrounds "
            "(the images keep their backgrounds' sizes)",
            file=sys.stderr,
        )
        return 2
    palette = [o for o in args.overrides or () if o.split("=", 1)[0].split(".")[0] in _PALETTE]
    if palette:
        print(
            f"xray-engine synth: {palette[0]} does not go with --backgrounds: projected objects "
            "are painted with the palette the real scans are read through (engine.synth.tip)",
            file=sys.stderr,
        )
        return 2

    def skipped(path: Path, why: str) -> None:
        print(f"xray-engine synth: skipped {path}: {why}", file=sys.stderr, flush=True)

    try:
        exclude = read_names(args.exclude_backgrounds) if args.exclude_backgrounds else ()
        path = write_tip_dataset(
            args.out,
            args.n,
            args.backgrounds,
            args.seed,
            config=config,
            workers=max(1, args.workers),
            on_skip=skipped,
            exclude=exclude,
        )
    except (BackgroundError, FileNotFoundError) as exc:
        print(f"xray-engine synth: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"xray-engine synth: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _fractions(text: str) -> tuple[float, ...]:
    """`--fractions 0.7,0.15,0.15` as numbers (split_coco checks that they make sense)."""
    try:
        return tuple(float(f) for f in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers such as 0.6,0.2,0.2, got {text!r}"
        ) from None


def _cmd_split(args: argparse.Namespace) -> int:
    """Write stratified train/val/test COCO files beside a dataset's annotations."""
    from engine.data import resolve_annotations, split_coco, split_summary

    paths = split_coco(
        resolve_annotations(args.dataset),
        fractions=args.fractions,
        seed=args.seed,
        out_dir=args.out,
        hold_out_designs=args.hold_out_designs,
        group_by=args.group_by,
    )
    print(split_summary(paths))
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    """Merge COCO files or dataset folders into one file (images stay where they are)."""
    from engine.data.merge import merge_coco
    from engine.data.split import split_summary

    print(split_summary({"merged": merge_coco(args.sources, args.out)}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the `xray-engine` parser."""
    synth = sub.add_parser(
        "synth",
        help="simulate dual-energy bag scans with COCO ground truth",
        description="Simulate bags: DIR/images/bag_NNNNNN.png with _low/_high/_zeff channels "
        "and DIR/annotations.json. The same seed and config give identical files.",
    )
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--n", type=int, required=True, help="number of bags")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed (default: 0)")
    synth.add_argument(
        "--size",
        help="image size WxH (default: 640x480, or the config's): each bag's frame has W·H "
        "pixels and the shape of the bag's image, as an export cropped to the bag has "
        "(bag.frame_to_bag; bag.frame_to_bag=null: WxH, or HxW where the bag travels lengthwise; "
        "turned for export, bag.belt_across_image, the other way round)",
    )
    synth.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    synth.add_argument("--config", help="YAML file of changes to the defaults (configs/synth/)")
    synth.add_argument(
        "--backgrounds",
        metavar="DIR_OR_LIST",
        help="project simulated objects into these real scans instead (threat image "
        "projection): a folder of images, or a list file of names (relative to the list's "
        "folder, else to sixray_benign/ beside it); writes DIR/images/tip_NNNNNN.png",
    )
    synth.add_argument(
        "--exclude-backgrounds",
        metavar="LIST",
        help="with --backgrounds: a list file of background file names to leave out (e.g. "
        "configs/data/sixray_backgrounds_excluded.txt: scans holding unlabelled bottles, "
        "which would teach the detector that a bottle is background)",
    )
    synth.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides applied after --config, e.g. bag.max_objects=2 kvp=[140]",
    )
    synth.set_defaults(func=_cmd_synth)

    split = sub.add_parser(
        "split",
        help="stratified train/val/test COCO files for a dataset",
        description="Write train.json, val.json and test.json beside DIR/annotations.json (or a "
        "COCO file), each with the same mix of classes and anomalies.",
    )
    split.add_argument("dataset", metavar="DIR", help="dataset folder or COCO JSON file")
    split.add_argument(
        "--fractions", type=_fractions, default="0.6,0.2,0.2", help="train,val,test shares"
    )
    split.add_argument("--seed", type=int, default=0, help="split seed (default: 0)")
    split.add_argument("--out", help="folder for the split files (default: beside the input)")
    split.add_argument(
        "--hold-out-designs",
        type=int,
        default=0,
        metavar="N",
        help="keep N product designs of each class out of train/val/test: their images go to "
        "test_unseen_designs.json, a new-product-model test (default: 0)",
    )
    split.add_argument(
        "--group-by",
        metavar="FIELD",
        help="keep images that share this image field in one split, e.g. `background` for "
        "objects projected into real scans (fractions then count groups)",
    )
    split.set_defaults(func=_cmd_split)

    merge = sub.add_parser(
        "merge",
        help="one COCO file from several datasets (images stay in place)",
        description="Renumber images and annotations, match categories by name and rewrite "
        "image paths relative to the merged file. Split each dataset first if you want to keep "
        "their test splits apart: merge the train files, and the val files.",
    )
    merge.add_argument("sources", nargs="+", metavar="SOURCE", help="COCO files or dataset dirs")
    merge.add_argument("--out", required=True, help="merged COCO JSON to write")
    merge.set_defaults(func=_cmd_merge)
