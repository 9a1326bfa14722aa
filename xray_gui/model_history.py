"""Models made from reviews: the history folder, its lineage records and the improve command.

Qt-free, so it is tested without a window: the dialogs only show what is here. Each run of
`xray-engine improve` started from the GUI gets a folder of its own under the user data folder,
`<user data>/models/<YYYYmmdd-HHMMSS>/`, holding `model.xsb`, its lineage `model.json` (written by
the engine), `run.json` (what the GUI asked for: the review folders, the parent, the command) and
`work/` (the split and the reviews exported as COCO; the training runs are dropped on success).
A folder without both `model.xsb` and a readable `model.json` is a run in progress or one that
died: it is left alone and not listed.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from engine.io.write import atomic_write_bytes

APP_NAME = "xray-gui"  # the user data folder the review store's fallback projects use too
BUNDLE_NAME = "model.xsb"
LINEAGE_NAME = "model.json"  # the engine writes it beside the bundle: NEW.xsb -> NEW.json
RUN_NAME = "run.json"
WORK_NAME = "work"
STAMP = "%Y%m%d-%H%M%S"
ENGINE_PREFIX = "xray-engine improve:"  # how the engine's one-line failures begin
_PROGRESS = re.compile(r"^\[\s*(\d+(?:\.\d+)?)\s*%\]\s*(.*?)\s*$")
_FOLDER = re.compile(r"^\d{8}-\d{6}(-\d+)?$")


class LineageError(ValueError):
    """A lineage file that cannot be read or lacks the figures, in one line."""


# ----- the command ------------------------------------------------------------------------------
def models_root() -> Path:
    """Where models made from reviews are kept: `<user data>/models`."""
    return platformdirs.user_data_path(APP_NAME) / "models"


def engine_command(frozen: bool | None = None, executable: str | None = None) -> list[str]:
    """How to run `xray-engine`: the frozen executable beside this one, else this Python."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    executable = executable or sys.executable
    if frozen:  # packaging/: both executables live in one folder (/usr/bin has symlinks)
        suffix = ".exe" if executable.lower().endswith(".exe") else ""
        return [str(Path(executable).resolve().with_name(f"xray-engine{suffix}"))]
    return [executable, "-m", "engine.cli"]


def improve_command(
    engine: Sequence[str],
    bundle: str | Path,
    reviews: Sequence[str | Path],
    out: str | Path,
    *,
    work: str | Path | None = None,
    minutes: float | None = None,
    min_bags: int | None = None,
    min_judge_objects: int | None = None,
    device: str | None = None,
) -> list[str]:
    """The `improve` command line; an option left None is not given, so the engine's default
    holds (timm's trick)."""
    if not reviews:
        raise ValueError("no review folders given")
    command = [*engine, "improve", str(bundle)]
    for folder in reviews:
        command += ["--reviews", str(folder)]
    command += ["--out", str(out)]
    options = {
        "--minutes": None if minutes is None else f"{minutes:g}",
        "--min-bags": min_bags,
        "--min-judge-objects": min_judge_objects,
        "--work": work,
        "--device": device,
    }
    for option, value in options.items():
        if value is not None:
            command += [option, str(value)]
    return command


def queue_folders(paths: Iterable[str | Path]) -> list[Path]:
    """The folders of the queued scans, each once, in queue order, as the stores spell them."""
    return list(dict.fromkeys(Path(os.path.abspath(p)).parent for p in paths))


def reviewed_folders(folders: Iterable[Path]) -> list[Path]:
    """The folders that have a review project (beside the scans or in the fallback place)."""
    from xray_gui.review.store import PROJECT_NAME, ReviewStore

    return [
        f
        for f in folders
        if (f / PROJECT_NAME).is_file() or ReviewStore.fallback_project_path(f).is_file()
    ]


# ----- a run ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressLine:
    """One `[ NN %] stage` line of the engine: the share of the run done (0-1) and the stage."""

    share: float
    stage: str


def parse_progress(line: str) -> ProgressLine | None:
    """The progress a stderr line reports, or None when it is not a progress line."""
    match = _PROGRESS.match(line.strip())
    if match is None:
        return None
    return ProgressLine(min(max(float(match[1]) / 100, 0.0), 1.0), match[2])


def failure_reason(stderr_lines: Sequence[str], exit_code: int | None) -> str:
    """The one line to show for a failed run: the engine's own reason, else its last word."""
    for line in reversed(stderr_lines):
        if line.startswith(ENGINE_PREFIX):
            return _one_line(line[len(ENGINE_PREFIX) :])
    said = [s for s in stderr_lines if s.strip() and parse_progress(s) is None]
    if said:
        return _one_line(said[-1])
    if exit_code is None:
        return "the improve run stopped unexpectedly"
    return f"the improve run ended with exit code {exit_code} and gave no reason"


def _one_line(text: str, limit: int = 400) -> str:
    return " ".join(str(text).split())[:limit]


@dataclass
class RunClock:
    """What a run has reported and how long it may still take: from the share done, except
    while training, when the share stands still for minutes and the budget left is the guess."""

    budget_s: float | None = None  # the --minutes given, in seconds
    share: float = 0.0
    stage: str = ""
    training_since: float | None = None  # elapsed seconds when training began

    def report(self, line: ProgressLine, elapsed: float) -> None:
        """Take in a progress line read at `elapsed` seconds into the run."""
        self.share = max(self.share, line.share)
        self.stage = line.stage
        if self.training() and self.training_since is None:
            self.training_since = elapsed

    def training(self) -> bool:
        """Whether the stage now is a training one (the engine names them "fine-tuning …")."""
        return self.stage.startswith("fine-tuning")

    def left(self, elapsed: float) -> float | None:
        """Seconds the run may still take; None until there is anything to go on."""
        if self.training() and self.budget_s is not None and self.training_since is not None:
            return max(self.budget_s - (elapsed - self.training_since), 0.0)
        return elapsed * (1 - self.share) / self.share if self.share > 0 else None


def format_duration(seconds: float | None) -> str:
    """A duration as an analyst reads it: "45 s", "12 min 05 s", "1 h 05 min"."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = max(round(seconds), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def new_run_folder(root: Path, now: datetime | None = None) -> Path:
    """Make and return an empty folder for one run, named by its start time."""
    stamp = (now or datetime.now()).strftime(STAMP)
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise OSError(f"{root}: no free folder name for {stamp}")


def write_run_record(folder: Path, record: dict[str, Any]) -> None:
    """Save what the GUI asked for beside the run's output (atomically)."""
    atomic_write_bytes(folder / RUN_NAME, json.dumps(record, indent=1).encode())


def drop_training_runs(folder: Path) -> None:
    """After a run that succeeded: remove the training runs (checkpoints, hundreds of MB) and
    keep the split and review files the lineage names."""
    work = folder / WORK_NAME
    if work.is_dir():
        for child in work.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)


def remove_run(folder: Path) -> None:
    """Remove a cancelled or failed run's folder; only a run folder, never anything else."""
    if _FOLDER.match(folder.name) and folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)


# ----- lineage ----------------------------------------------------------------------------------
def read_lineage(path: str | Path) -> dict[str, Any]:
    """A lineage file, checked to hold both sets of figures; LineageError (one line) if not."""
    path = Path(path)
    try:
        lineage = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LineageError(f"{path}: cannot read the lineage ({_one_line(exc, 200)})") from exc
    try:
        for side in ("old", "new"):
            figures = lineage["figures"][side]
            if figures["AP50"] is not None:
                float(figures["AP50"])
            float(figures["false_detections_per_bag"])
            for key in ("tp", "fn", "fp", "tn"):
                int(figures["anomaly"][key])
        if not isinstance(lineage["better"], bool) or not isinstance(lineage["parent"], dict):
            raise TypeError("better / parent")
    except (KeyError, TypeError, ValueError) as exc:
        raise LineageError(f"{path}: not a lineage record (no {exc})") from exc
    return lineage


def model_name(lineage: dict[str, Any]) -> str:
    """The new bundle's name as the engine gives it: `<parent>+<N> reviews`."""
    parent = lineage.get("parent") or {}
    stem = parent.get("name") or Path(str(parent.get("path", "model"))).stem
    return f"{stem}+{lineage.get('bags', '?')} reviews"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _share(k: int, n: int) -> str:
    return f"{k} of {n}" + (f" ({100 * k / n:.0f} %)" if n else "")


def comparison_rows(lineage: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, old, new) on the held-out bags, as the result table shows them."""
    old, new = lineage["figures"]["old"], lineage["figures"]["new"]

    def caught(f: dict) -> str:
        a = f["anomaly"]
        return _share(a["tp"], a["tp"] + a["fn"])

    def flagged(f: dict) -> str:
        a = f["anomaly"]
        return _share(a["fp"], a["fp"] + a["tn"])

    return [
        ("AP50 (boxes, IoU ≥ 0.5)", _pct(old["AP50"]), _pct(new["AP50"])),
        (
            "False detections per bag",
            f"{old['false_detections_per_bag']:.2f}",
            f"{new['false_detections_per_bag']:.2f}",
        ),
        ("Anomalous objects caught (TP)", caught(old), caught(new)),
        ("Benign objects flagged (FP)", flagged(old), flagged(new)),
    ]


def judged(lineage: dict[str, Any]) -> str:
    """The lineage's judgement (better, trade-off, worse, unclear); worked out from its figures
    for a model made before improve recorded one."""
    if "judgement" in lineage:
        return str(lineage["judgement"])
    from engine.improve import judgement

    return judgement(lineage["figures"]["old"], lineage["figures"]["new"])


def verdict(lineage: dict[str, Any]) -> str:
    """One sentence: how the new model compares on the held-out bags, and on how many; a
    trade-off (more found, more false alarms) is said as one, for the analyst to weigh."""
    old, new = lineage["figures"]["old"], lineage["figures"]["new"]
    bags = f"{new['bags']} held-out bag{'' if new['bags'] == 1 else 's'} ({new['objects']} objects)"
    if lineage["better"]:
        return f"The new model is better on the {bags}: AP50 no lower, no more false detections."
    if old["AP50"] is None or new["AP50"] is None:
        return f"No AP50 to compare on the {bags}: the held-out bags hold no reviewed objects."
    changes = []
    if new["AP50"] != old["AP50"]:
        way = "up" if new["AP50"] > old["AP50"] else "down"
        changes.append((way == "up", f"AP50 {way} from {_pct(old['AP50'])} to {_pct(new['AP50'])}"))
    fd_old, fd_new = old["false_detections_per_bag"], new["false_detections_per_bag"]
    if fd_new != fd_old:
        more = "more" if fd_new > fd_old else "fewer"
        changes.append(
            (fd_new < fd_old, f"{more} false detections ({fd_old:.2f} → {fd_new:.2f} a bag)")
        )
    gains = " and ".join(text for good, text in changes if good)
    losses = " and ".join(text for good, text in changes if not good)
    kind = judged(lineage)
    if kind == "trade-off":
        return f"A trade-off on the {bags}: {gains}, but {losses}. Yours to weigh."
    if kind == "worse":
        return f"The new model is worse on the {bags}: {losses}."
    return (
        f"The new model is not better on the {bags}: no change beyond what chance moves on so "
        "few bags."
    )


# ----- the history ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    """One model the analyst can switch to: made from reviews, or the one the app started with."""

    path: Path
    name: str
    created: datetime | None = None
    parent: str = ""  # the parent's name (or file name)
    parent_path: str = ""
    ap50: float | None = None  # the new model's held-out figures
    false_per_bag: float | None = None
    old_ap50: float | None = None  # the parent's, on the same bags
    old_false_per_bag: float | None = None
    better: bool | None = None  # None: not made here (no comparison)
    reviews: tuple[str, ...] = ()
    started_with: bool = False
    lineage: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def read_entry(folder: Path) -> HistoryEntry:
    """The history entry of one run folder; LineageError when it has no finished model."""
    bundle = folder / BUNDLE_NAME
    if not bundle.is_file():
        raise LineageError(f"{folder}: no {BUNDLE_NAME} (a run in progress, or one that died)")
    lineage = read_lineage(folder / LINEAGE_NAME)
    try:
        run = json.loads((folder / RUN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run = {}
    try:
        created = datetime.strptime(folder.name[:15], STAMP)
    except ValueError:
        created = datetime.fromtimestamp(bundle.stat().st_mtime)
    parent = lineage["parent"]
    old, new = lineage["figures"]["old"], lineage["figures"]["new"]
    return HistoryEntry(
        path=bundle,
        name=model_name(lineage),
        created=created,
        parent=parent.get("name") or Path(str(parent.get("path", ""))).name,
        parent_path=str(parent.get("path", "")),
        ap50=new["AP50"],
        false_per_bag=float(new["false_detections_per_bag"]),
        old_ap50=old["AP50"],
        old_false_per_bag=float(old["false_detections_per_bag"]),
        better=lineage["better"],
        reviews=tuple(str(r) for r in run.get("reviews") or lineage.get("sources") or ()),
        lineage=lineage,
    )


def list_history(root: Path) -> list[HistoryEntry]:
    """Every finished model under `root`, newest first; unfinished or damaged folders skipped."""
    if not root.is_dir():
        return []
    entries = []
    for folder in root.iterdir():
        if not (_FOLDER.match(folder.name) and folder.is_dir()):
            continue
        try:
            entries.append(read_entry(folder))
        except (LineageError, OSError):
            continue
    return sorted(
        entries, key=lambda e: (e.created or datetime.min, e.path.parent.name), reverse=True
    )


def with_start_model(
    entries: Sequence[HistoryEntry], start: str | Path | None, name: str = ""
) -> list[HistoryEntry]:
    """The history plus the model the app started with (marked; listed once, last when it was
    not made here)."""
    if not start:
        return list(entries)
    start_path = Path(os.path.abspath(start))
    out, found = [], False
    for e in entries:
        if Path(os.path.abspath(e.path)) == start_path:
            e = HistoryEntry(**{**e.__dict__, "started_with": True})
            found = True
        out.append(e)
    if not found:
        try:
            created = datetime.fromtimestamp(start_path.stat().st_mtime)
        except OSError:
            created = None
        out.append(HistoryEntry(start_path, name or start_path.stem, created, started_with=True))
    return out
