"""The review store: the model's findings and the analyst's decisions for one folder of scans.

Like Label Studio, predictions are kept apart from human annotations, so an export can say who
said what: each scan keeps its history of model predictions (the latest is the one shown) and
one analyst record (per-object verdicts and corrections, drawn objects, decision, note, time)
plus an audit log. Every action saves the whole project at once through an atomic write, so
killing the app at any moment loses nothing done before; a note being typed is kept at every
keystroke in a small journal beside the project (`stage_note`), applied by the next store to
hold the project if the app was killed before the note was saved. The project also keeps the
detection and anomaly thresholds in force (`set_thresholds`) and each prediction the operating
points of the model that made it, so a project reopened without a model shows its findings as
they were reviewed. The classes in force are the loaded model's (`use_classes`), else the list
the project was saved with: objects of classes a model does not know keep their labels, and
`use_classes` names them. Qt-free: the GUI observes it.

One store writes a project at a time: it holds the project's lock (see `lock`) from opening
to `close()`. A second store on the same project opens it read-only (`locked_by` says who holds
it): it shows what is there, keeps its own model predictions in memory and refuses analyst
actions with `ReviewReadOnlyError`, until the holder closes; then the next action takes the
project over, loading the holder's work first. Opening a project it holds, a store removes the
temporary files that killed saves left behind.

Model objects are named "m0", "m1"… by their index in the *latest* prediction's findings; a
re-screen keeps the analyst's record as it is, so after a re-screen those ids (and the verdicts
attached to them) refer to the new findings. Analyst objects are "a1", "a2"…, never reused.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from engine.classes import DEFAULT_CLASSES
from engine.io.load import natural_key
from engine.io.write import atomic_write_bytes
from xray_gui.review.analyst import check_analyst_name, login_name
from xray_gui.review.lock import STALE_AFTER_S, LockOwner, ProjectLock
from xray_gui.review.objects import Entry, ReviewObject, merge_objects
from xray_gui.review.project import (
    DECISIONS,
    FORMAT,
    OBJECT_ID,
    VERSION,
    back_up,
    check_classes,
    empty_analyst,
    encode_project,
    fit_polygon,
    normalise_box,
    normalise_polygon,
    now,
    polygon_box,
    read_project,
    read_regular_file,
    remove_orphans,
    snapshot,
)

if TYPE_CHECKING:
    from engine.results import BagResult

PROJECT_NAME = ".xray-review.json"
NOTE_JOURNAL_SUFFIX = ".note"  # beside the project: the note being typed, until it is saved
_DECODED_CACHE = 16  # latest predictions kept decoded (masks) for objects()


class ReviewError(Exception):
    """A review project problem, with a one-line message for the analyst."""


class ReviewSaveError(ReviewError):
    """A save failed; the previous file is intact and the in-memory state is kept."""


class ReviewReadOnlyError(ReviewError):
    """An analyst action on a project another instance holds: nothing was changed."""


class ReviewLockLostError(ReviewSaveError):
    """Another instance took the project over (this one was silent too long): nothing saved."""


@dataclass
class _Step:
    """One undoable action: the scan's analyst record before and after it."""

    key: str
    action: str
    obj: str | None
    text: str
    before: dict
    after: dict
    log_before: Any
    log_after: Any


class ReviewStore:
    """Model predictions and analyst decisions of one scan folder, saved after every action.

    `dirty` is True while a change is not on disk (its save failed); `save()` retries.
    `locked_by` is who holds the project while this store is read-only, else None; `close()`
    releases the lock (so does a `with` block, or the store's garbage collection). `analyst`
    signs every action and the audit log (the login name when none is given; `set_analyst`).
    """

    def __init__(
        self,
        folder: Path,
        project_path: Path | None = None,
        *,
        analyst: str | None = None,
        categories: Sequence[str] | None = None,
        inspect: bool = False,
    ) -> None:
        """`categories` are the classes in force (the loaded model's, see `use_classes`); by
        default the project's own list, or DEFAULT_CLASSES for a new project.

        `inspect=True` reads the project and touches nothing: no lock, no repair of a damaged
        file (ReviewError instead), no note recovery, every change refused (training reads so)."""
        self._inspect = inspect
        self.folder = Path(os.path.abspath(folder))
        self.project_path = Path(project_path) if project_path else self.folder / PROJECT_NAME
        blank = analyst is None or not analyst.strip()
        self.analyst = login_name() if blank else check_analyst_name(analyst)
        self.categories: list[str] = check_classes(categories) if categories is not None else []
        self._project_classes: list[str] = []  # the class list the project file was saved with
        self.warnings: list[str] = []
        self.dirty = False
        self._scans: dict[str, dict] = {}
        self._fragments: dict[str, str] = {}  # each scan's JSON, kept until it changes
        self._decoded: OrderedDict[str, BagResult] = OrderedDict()
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._merge_note: str | None = None  # the scan whose note edit may grow the last step
        self._unsafe_path: Path | None = None  # a corrupt file that could not be backed up
        self.locked_by: LockOwner | None = None  # who holds the project: read-only while set
        self._lock: ProjectLock | None = None  # None: not held, or no lock possible there
        self._held: list[ProjectLock] = []  # what the finalizer releases
        self._closed = False
        self._finalizer = weakref.finalize(self, _release, self._held)
        self._staged_note: tuple[str, str] | None = None  # (key, text) in the note journal
        self._thresholds: dict | None = None  # {"score", "anomaly", "model"} last in force
        if inspect:
            self._closed = True  # every analyst action is refused
            self._load()
            self._set_classes(categories)
            return
        self._lock_project()
        self._load()
        self._set_classes(categories)
        self._recover_note()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def read_only(self) -> bool:
        """Whether analyst actions are refused: another instance holds the project, or closed."""
        return self.locked_by is not None or self._closed

    def close(self) -> None:
        """Release the project (the window closes); save() first when `dirty`. Read-only after."""
        _release(self._held)
        self._lock = None
        self._closed = True

    def set_analyst(self, name: str) -> None:
        """Sign the actions from now on with `name`; ValueError (saying why) for no name."""
        self.analyst = check_analyst_name(name)

    def heartbeat(self) -> bool:
        """Show other instances this one still holds the project (the GUI calls it every minute).

        False when the lock was taken over meanwhile: the store is read-only from then on.
        """
        if self._lock is None or self.locked_by is not None:
            return self.locked_by is None
        owner = self._lock.heartbeat()
        if owner is not None:
            self.locked_by = owner
        return owner is None

    def _lock_project(self) -> None:
        """Take the project's lock, or note who holds it; tidy up after killed saves."""
        lock = ProjectLock(self.project_path)
        try:
            owner = lock.acquire(self.analyst)
        except OSError:
            return  # no lock file can be made there (a read-only folder): saves fail and say so
        if owner is not None:
            self.locked_by = owner
            self.warnings.append(
                f"Review project {self.project_path} is in use by {owner.describe()}: "
                "opened read-only, and decisions are refused here until it is closed there."
            )
            return
        self._hold(lock)
        remove_orphans(self.project_path)
        lock.remove_leftovers()

    def _hold(self, lock: ProjectLock | None) -> None:
        self._lock = lock
        self._held[:] = [lock] if lock is not None else []

    def _check_writable(self) -> None:
        """Before an analyst action: take over a project its holder has closed (loading what the
        holder saved), or raise ReviewReadOnlyError while it is held."""
        if self._closed:
            raise ReviewReadOnlyError(f"The review of {self.folder} is closed; nothing changed.")
        if self.locked_by is None or self._take_over():
            return
        raise ReviewReadOnlyError(
            f"Read-only: review project {self.project_path} is in use by "
            f"{self.locked_by.describe()}; nothing was changed here."
        )

    def _take_over(self) -> bool:
        """Hold the project if nobody does now, reloaded from disk; False when still held."""
        if self.dirty:
            return False  # this instance's work is not on disk: a reload would drop it
        lock = ProjectLock(self.project_path)
        try:
            owner = lock.acquire(self.analyst)
        except OSError:
            return False
        if owner is not None:
            self.locked_by = owner
            return False
        screened = {k: s["predictions"] for k, s in self._scans.items() if s["predictions"]}
        self._scans, self._fragments = {}, {}
        self._decoded.clear()
        self._undo.clear()
        self._redo.clear()
        self._merge_note = None
        self.locked_by = None
        self._hold(lock)
        remove_orphans(self.project_path)
        lock.remove_leftovers()
        self._load()
        self._set_classes(self.categories)
        self._recover_note()
        for key, predictions in screened.items():  # screened here while read-only
            scan = self._scan(key)
            if not scan["predictions"]:
                scan["predictions"] = predictions
        return True

    @classmethod
    def for_folder(cls, folder: Path, **kwargs: Any) -> ReviewStore:
        """The store of `folder`: its own project file, or the fallback when it is read-only.

        A fallback left by an earlier session holds the later work and is loaded; otherwise what
        the folder's own project holds is kept and saved to the fallback. `warnings` says where.
        """
        store = cls(folder, **kwargs)
        if store.writable():
            return store
        fallback = cls.fallback_project_path(folder)
        fallback.parent.mkdir(parents=True, exist_ok=True)
        if fallback.exists():
            earlier = store.warnings
            store = cls(folder, fallback, **kwargs)
            store.warnings[:0] = earlier
        else:
            store.move_to(fallback)
        store.warnings.append(f"{store.folder} is read-only: its reviews are saved in {fallback}.")
        return store

    @staticmethod
    def fallback_project_path(folder: Path) -> Path:
        """Where the project of a read-only folder lives, unique per folder."""
        resolved = str(Path(folder).resolve())
        digest = hashlib.sha1(resolved.encode()).hexdigest()[:10]
        root = platformdirs.user_data_path("xray-gui")
        return root / "projects" / f"{Path(folder).name}-{digest}.json"

    def writable(self) -> bool:
        """Whether the project file's folder exists and can be written."""
        parent = self.project_path.parent
        return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)

    def key(self, scan_path: str | Path) -> str:
        """The scan's key: its posix path relative to the folder (absolute when outside)."""
        absolute = Path(os.path.abspath(self.folder / Path(scan_path)))  # a key, or a path
        roots = (self.folder, self.folder.resolve())
        for candidate in (absolute, absolute.resolve()):  # symlinks only when needed
            for root in roots:
                try:
                    return candidate.relative_to(root).as_posix()
                except ValueError:
                    continue
        return absolute.as_posix()

    def path(self, scan_path: str | Path) -> Path:
        """The absolute path of a scan given by key or path."""
        return self.folder / self.key(scan_path)

    # ----- classes ----------------------------------------------------------------------------
    def _set_classes(self, categories: Sequence[str] | None) -> None:
        """The classes in force after loading: those given, else the project's own list, else
        the defaults; then any class the project's objects use that they lack."""
        if categories is None:
            categories = self._project_classes or DEFAULT_CLASSES
        self.use_classes(categories)

    def use_classes(self, names: Sequence[str]) -> dict[str, int]:
        """Make `names` (the loaded model's classes) the class list in force: relabelling,
        statistics and exports follow it. Classes the project's objects use that `names` lacks
        stay after them, their labels untouched; returns those, with how many objects use each
        (the GUI reports them). ValueError when `names` is not a list of distinct names."""
        names = check_classes(names)
        used = self.used_classes()
        before = {c: i for i, c in enumerate(self.categories)}  # the order in force so far
        kept = sorted((c for c in used if c not in names), key=lambda c: before.get(c, len(before)))
        self.categories = [*names, *kept]
        return {c: used[c] for c in kept}

    def used_classes(self) -> dict[str, int]:
        """How many objects (model findings and the analyst's) use each class, first use first."""
        counts: dict[str, int] = {}
        for key in self._scans:
            for e in self._entries(key):
                counts[e.obj.label] = counts.get(e.obj.label, 0) + 1
        return counts

    # ----- loading and saving -----------------------------------------------------------------
    def _load(self) -> None:
        path = self.project_path
        if not path.exists() and not path.is_symlink():
            return
        try:
            self._scans, names, self._thresholds = read_project(path)
        except ValueError as exc:
            if self._inspect:
                raise ReviewError(f"Review project {path} is unreadable ({exc})") from None
            if self.locked_by is not None:  # its holder's to mend: look, do not touch
                self.warnings.append(
                    f"Review project {path} is unreadable ({exc}); it is in use elsewhere, "
                    "so it is left alone."
                )
                return
            try:
                backup = back_up(path)
            except OSError as err:
                self._unsafe_path = path
                self.warnings.append(
                    f"Review project {path} is unreadable ({exc}) and could not be backed up "
                    f"({err.strerror or err}); it is left alone and a new, empty review started."
                )
                return
            self.warnings.append(
                f"Review project {path} was unreadable ({exc}); it was kept as {backup} "
                "and a new, empty review started."
            )
            return
        self._project_classes = list(dict.fromkeys(n for n in names if n.strip()))

    def save(self) -> None:
        """Write the project atomically; ReviewSaveError (the old file intact) when it fails.

        A store that lost its lock (it was taken over as stale) turns read-only instead of
        writing over the new holder's work.
        """
        if self.read_only:
            who = self.locked_by.describe() if self.locked_by else "nobody: the store is closed"
            raise ReviewSaveError(f"Cannot save the review to {self.project_path}: held by {who}")
        owner = self._lock.holder() if self._lock is not None else None
        if owner is not None:
            self.locked_by = owner
            raise ReviewLockLostError(
                f"Cannot save the review to {self.project_path}: {owner.describe()} took it "
                f"over (this instance was silent for over {STALE_AFTER_S / 60:.0f} minutes)"
            )
        if self._unsafe_path is not None and self.project_path == self._unsafe_path:
            raise ReviewSaveError(
                f"Cannot save the review to {self.project_path}: it holds an unreadable project "
                "that could not be backed up; save it elsewhere."
            )
        head = {"format": FORMAT, "version": VERSION, "folder": str(self.folder)}
        head["categories"] = self.categories
        if self._thresholds is not None:
            head["thresholds"] = self._thresholds
        data = encode_project(head, self._scans, self._fragments)
        try:
            atomic_write_bytes(self.project_path, data)
        except OSError as exc:
            raise ReviewSaveError(
                f"Cannot save the review to {self.project_path}: {exc.strerror or exc}"
            ) from exc
        self.dirty = False
        if self._lock is not None:
            self._lock.touch()
        staged = self._staged_note
        if staged is not None and self.note(staged[0]) == staged[1]:
            self._drop_note_journal()  # the project holds the note now

    def move_to(self, project_path: Path) -> None:
        """Keep the project in `project_path` from now on (a read-only folder's fallback).

        The store holds the new file's lock (a read-only store becomes writable there);
        ReviewSaveError when another instance holds that file.
        """
        project_path = Path(project_path)
        if project_path == self.project_path and not self.read_only:
            self.save()
            return
        try:
            project_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReviewSaveError(
                f"Cannot create {project_path.parent}: {exc.strerror or exc}"
            ) from exc
        lock: ProjectLock | None = ProjectLock(project_path)
        try:
            owner = lock.acquire(self.analyst)
        except OSError:
            lock, owner = None, None  # no lock possible there: the save says whether it can write
        if owner is not None:
            raise ReviewSaveError(
                f"Cannot save the review to {project_path}: in use by {owner.describe()}"
            )
        previous = (self.project_path, self._lock, self.locked_by, self._closed)
        self.project_path, self.locked_by, self._closed = project_path, None, False
        self._hold(lock)
        try:
            self.save()
        except ReviewSaveError:
            if lock is not None:
                lock.release()
            self.project_path, _, self.locked_by, self._closed = previous
            self._hold(previous[1])
            raise
        if previous[1] is not None:
            previous[1].release()

    def save_aside(self) -> Path:
        """Save to a new file beside the fallbacks (the project was taken over); its path."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.fallback_project_path(self.folder)
        path = path.with_name(f"{path.stem}-unsaved-{stamp}-{os.getpid()}.json")
        self.move_to(path)
        return path

    def _changed(self, key: str, *, save: bool = True) -> None:
        self._fragments.pop(key, None)
        if self.read_only:  # only a model's findings get here: shown, kept in memory, not saved
            return
        self.dirty = True
        if save:
            self.save()

    # ----- model records ----------------------------------------------------------------------
    def set_prediction(
        self,
        scan_path: str | Path,
        result: BagResult,
        *,
        device: str = "",
        score_floor: float = 0.0,
        score_threshold: float | None = None,
        anomaly_threshold: float | None = None,
    ) -> None:
        """Append a model prediction (the latest is shown) and save; the analyst's record stays.

        `score_threshold` and `anomaly_threshold` are the model's operating points: kept with
        the prediction (a project opened without the model shows its findings at them), and the
        stored bag's `anomalous` flag counts only the findings they call anomalous.
        """
        key = self.key(scan_path)
        scan = self._scan(key)
        record = result.to_dict()
        floor = score_threshold if score_threshold is not None else score_floor
        record["anomalous"] = any(
            _is_anomalous(f, anomaly_threshold) for f in record["findings"] if f["score"] >= floor
        )
        scan["predictions"].append(
            {
                "model": result.model,
                "device": device,
                "at": now(),
                "score_floor": float(score_floor),
                "score_threshold": _optional_float(score_threshold),
                "anomaly_threshold": _optional_float(anomaly_threshold),
                "result": record,
            }
        )
        self._decoded.pop(key, None)
        self._merge_note = None
        self._log(key, "screen", None, None, f"{len(result.findings)} findings")
        self._changed(key)

    def prediction(self, scan_path: str | Path) -> BagResult | None:
        """The latest prediction with masks decoded (shared: do not modify), or None."""
        key = self.key(scan_path)
        latest = self._latest(key)
        if latest is None:
            return None
        if key in self._decoded:
            self._decoded.move_to_end(key)
            return self._decoded[key]
        from engine.results import BagResult

        result = BagResult.from_dict(latest["result"])
        self._decoded[key] = result
        while len(self._decoded) > _DECODED_CACHE:
            self._decoded.popitem(last=False)
        return result

    def has_prediction(self, scan_path: str | Path) -> bool:
        return self._latest(self.key(scan_path)) is not None

    def prediction_info(self, scan_path: str | Path) -> dict | None:
        """{"model", "device", "at", "score_floor", "score_threshold", "anomaly_threshold",
        "total_ms"} of the latest prediction, or None."""
        latest = self._latest(self.key(scan_path))
        if latest is None:
            return None
        keys = ("model", "device", "at", "score_floor", "score_threshold", "anomaly_threshold")
        info = {k: latest.get(k) for k in keys}
        info["total_ms"] = latest["result"].get("timings_ms", {}).get("total")
        return info

    # ----- thresholds -------------------------------------------------------------------------
    @property
    def thresholds(self) -> dict | None:
        """{"score", "anomaly", "model"}: the thresholds last in force, or None when never set."""
        return dict(self._thresholds) if self._thresholds is not None else None

    def set_thresholds(
        self, score: float, anomaly: float | None, *, model: str | None = None
    ) -> None:
        """Keep the thresholds in force (the GUI's sliders) and save when they changed; neither
        undoable nor logged, and kept in memory only by a read-only store."""
        value = {
            "score": float(score),
            "anomaly": _optional_float(anomaly),
            "model": model if model is not None else (self._thresholds or {}).get("model"),
        }
        if value == self._thresholds:
            return
        self._thresholds = value
        if not self.read_only:
            self.dirty = True
            self.save()

    def thresholds_for(self, scan_path: str | Path) -> tuple[float, float | None] | None:
        """(score, anomaly) a scan is shown at without a model: the project's thresholds in
        force, else the operating points of the model that screened it; None when unknown."""
        if self._thresholds is not None:
            return self._thresholds["score"], self._thresholds["anomaly"]
        latest = self._latest(self.key(scan_path))
        if latest is not None and latest.get("score_threshold") is not None:
            return latest["score_threshold"], latest.get("anomaly_threshold")
        return None

    def anomalous(
        self,
        scan_path: str | Path,
        *,
        score_threshold: float | None = None,
        anomaly_threshold: float | None = None,
    ) -> bool:
        """Whether the bag alarms: an object the analyst kept, or a pending finding shown at
        these thresholds (default: `thresholds_for`), is anomalous. Findings under the detection
        threshold do not count, however anomalous they look."""
        if score_threshold is None:
            score_threshold, default_anomaly = self.thresholds_for(scan_path) or (0.0, None)
            if anomaly_threshold is None:
                anomaly_threshold = default_anomaly
        entries = self._entries(self.key(scan_path), score_threshold, anomaly_threshold)
        return any(
            e.obj.visible and e.obj.anomalous and e.obj.status != "rejected" for e in entries
        )

    def review_seconds(self, scan_path: str | Path) -> float:
        """Time the analysts spent on a scan, summed over sessions."""
        return self._analyst(self.key(scan_path))["review_seconds"]

    def _analyst(self, key: str) -> dict:
        """The scan's analyst record (read only; an empty one for an unknown scan)."""
        scan = self._scans.get(key)
        return scan["analyst"] if scan else empty_analyst()

    def _latest(self, key: str) -> dict | None:
        scan = self._scans.get(key)
        return scan["predictions"][-1] if scan and scan["predictions"] else None

    # ----- the effective view -----------------------------------------------------------------
    def objects(
        self,
        scan_path: str | Path,
        *,
        score_threshold: float = 0.0,
        anomaly_threshold: float | None = None,
    ) -> list[ReviewObject]:
        """Model findings merged with the analyst's decisions, then the analyst's objects.

        A pending finding under `score_threshold` is returned with visible=False; anything the
        analyst touched is always visible. `anomaly_threshold` re-decides the anomaly flag of
        findings the analyst has not flagged.
        """
        key = self.key(scan_path)
        entries = self._entries(key, score_threshold, anomaly_threshold)
        result = self.prediction(key) if any(e.finding for e in entries) else None
        for e in entries:
            moved = e.record is not None and "box" in e.record
            if (
                e.finding is not None
                and e.finding.get("mask_rle")
                and result is not None
                and not moved
            ):
                e.obj.mask = result.findings[int(e.obj.id[1:])].mask
        return [e.obj for e in entries]

    def object(self, scan_path: str | Path, obj_id: str, **thresholds: Any) -> ReviewObject:
        """One object of `objects()`; KeyError when the scan has no such object."""
        for obj in self.objects(scan_path, **thresholds):
            if obj.id == obj_id:
                return obj
        raise KeyError(f"{self.key(scan_path)} has no object {obj_id!r}")

    def _entries(
        self, key: str, score_threshold: float = 0.0, anomaly_threshold: float | None = None
    ) -> list[Entry]:
        """The merged objects of a scan with their raw records, masks not decoded."""
        scan = self._scans.get(key)
        return merge_objects(scan, score_threshold, anomaly_threshold) if scan else []

    def _kind(self, key: str, obj_id: str) -> str:
        """Whether an existing object is the "model"'s or the "analyst"'s; KeyError if none."""
        match = OBJECT_ID.fullmatch(str(obj_id))
        scan = self._scans.get(key)
        if match and scan is not None:
            if match.group(1) == "a" and obj_id in scan["analyst"]["added"]:
                return "analyst"
            findings = self._latest(key)["result"]["findings"] if scan["predictions"] else []
            if match.group(1) == "m" and int(match.group(2)) < len(findings):
                return "model"
        raise KeyError(f"{key} has no object {obj_id!r}")

    # ----- analyst actions --------------------------------------------------------------------
    def accept(self, scan_path: str | Path, obj_id: str) -> None:
        """Confirm a model finding as it is (or as corrected); analyst objects are already so."""

        def change(kind: str, rec: dict, view: ReviewObject):
            status = "corrected" if {"label", "box", "anomalous"} & set(rec) else "accepted"
            if kind == "analyst" or view.status == status:
                return None
            rec["status"] = status
            return view.status, status

        self._object_action(scan_path, obj_id, "accept", f"accept {obj_id}", change)

    def reject(self, scan_path: str | Path, obj_id: str) -> None:
        """Mark a model finding as a false alarm; an analyst's own object is deleted instead."""
        self._check_writable()
        key = self.key(scan_path)
        if self._kind(key, obj_id) == "analyst":
            self.delete_object(key, obj_id)
            return

        def change(kind: str, rec: dict, view: ReviewObject):
            if view.status == "rejected":
                return None
            rec["status"] = "rejected"
            return view.status, "rejected"

        self._object_action(key, obj_id, "reject", f"reject {obj_id}", change)

    def set_label(self, scan_path: str | Path, obj_id: str, label: str) -> None:
        """Relabel an object; ValueError for a label that is not one of the categories."""
        if label not in self.categories:
            raise ValueError(f"unknown label {label!r}; known: {', '.join(self.categories)}")
        self._set_field(scan_path, obj_id, "label", label, f"relabel {obj_id} as {label}")

    def set_anomalous(self, scan_path: str | Path, obj_id: str, anomalous: bool) -> None:
        """Flag an object anomalous or not; the analyst's flag beats the anomaly threshold."""
        word = "anomalous" if anomalous else "normal"
        self._set_field(scan_path, obj_id, "anomalous", bool(anomalous), f"mark {obj_id} {word}")

    def set_box(self, scan_path: str | Path, obj_id: str, box_xyxy: Sequence[float]) -> None:
        """Move or resize an object, clipped to the image; a model finding's mask no longer fits
        and is dropped, an analyst's polygon moves and scales with its box."""
        box = self._on_image(self.key(scan_path), box_xyxy)
        self._set_field(scan_path, obj_id, "box", box, f"move {obj_id}")

    def _on_image(self, key: str, box_xyxy: Sequence[float]) -> list[float]:
        """`box_xyxy` normalised and clipped to the scan's image when its size is known;
        ValueError when nothing of it is on the image."""
        box = normalise_box(box_xyxy)
        latest = self._latest(key)
        if latest is None:
            return box
        w, h = latest["result"]["image_size"]
        return normalise_box(
            [min(max(v, 0.0), limit) for v, limit in zip(box, (w, h, w, h), strict=True)]
        )

    def _polygon_on_image(self, key: str, points: Sequence[Sequence[float]]) -> list[list[float]]:
        """`points` normalised and clipped to the scan's image when its size is known."""
        latest = self._latest(key)
        size = tuple(latest["result"]["image_size"]) if latest is not None else None
        return normalise_polygon(points, size)

    def _set_field(self, scan_path, obj_id: str, name: str, value: Any, text: str) -> None:
        def change(kind: str, rec: dict, view: ReviewObject):
            before = {"label": view.label, "anomalous": view.anomalous}.get(name)
            if name == "box":
                before = [float(v) for v in view.box_xyxy]
            # the analyst's anomaly flag pins the object against the threshold, even when equal
            if rec.get(name) == value or (before == value and name != "anomalous"):
                return None
            if kind == "analyst" and before == value:
                return None
            if name == "box" and rec.get("polygon"):  # a polygon moves and scales with its box
                rec["polygon"] = fit_polygon(rec["polygon"], before, value)
            rec[name] = value
            if kind == "model":
                rec["status"] = "corrected"
            return before, value

        action = {"label": "set_label", "anomalous": "set_anomalous", "box": "set_box"}[name]
        self._object_action(scan_path, obj_id, action, text, change)

    def _object_action(self, scan_path, obj_id: str, action: str, text: str, change) -> None:
        self._check_writable()
        key = self.key(scan_path)
        kind = self._kind(key, obj_id)
        view = next(e.obj for e in self._entries(key) if e.obj.id == obj_id)

        def apply(analyst: dict):
            records = analyst["objects"] if kind == "model" else analyst["added"]
            rec = records.setdefault(obj_id, {})
            result = change(kind, rec, view)
            if result is None:
                if not rec:
                    del records[obj_id]
                return None
            rec["by"], rec["at"] = self.analyst, now()
            return result

        self._act(key, action, obj_id, text, apply)

    def add_object(
        self,
        scan_path: str | Path,
        box_xyxy: Sequence[float],
        label: str,
        anomalous: bool = False,
    ) -> str:
        """Draw an object the model missed; returns its id "aN" (N is never reused)."""
        key = self.key(scan_path)
        return self._add(key, self._on_image(key, box_xyxy), label, anomalous)

    def add_polygon(
        self,
        scan_path: str | Path,
        points: Sequence[Sequence[float]],
        label: str,
        anomalous: bool = False,
    ) -> str:
        """Draw an object the model missed as a polygon (its mask), clipped to the image; its box
        is the polygon's bounding box. Returns its id "aN"."""
        key = self.key(scan_path)
        polygon = self._polygon_on_image(key, points)
        return self._add(key, normalise_box(polygon_box(polygon)), label, anomalous, polygon)

    def _add(
        self,
        key: str,
        box: list[float],
        label: str,
        anomalous: bool,
        polygon: list[list[float]] | None = None,
    ) -> str:
        if label not in self.categories:
            raise ValueError(f"unknown label {label!r}; known: {', '.join(self.categories)}")
        self._check_writable()
        n = self._scan(key)["analyst"]["next_added"]
        obj_id = f"a{n}"

        def apply(analyst: dict):
            analyst["next_added"] = n + 1
            rec = {"box": box, "label": label, "anomalous": bool(anomalous)}
            if polygon is not None:
                rec["polygon"] = polygon
            analyst["added"][obj_id] = {**rec, "by": self.analyst, "at": now()}
            return None, rec

        self._act(key, "add", obj_id, f"add {obj_id}", apply)
        return obj_id

    def set_polygon(
        self, scan_path: str | Path, obj_id: str, points: Sequence[Sequence[float]]
    ) -> None:
        """Give an analyst's object these polygon vertices (moved, added or removed), clipped to
        the image; its box follows. ValueError for a model finding: its mask is the model's."""
        key = self.key(scan_path)
        if self._kind(key, obj_id) != "analyst":
            raise ValueError(
                f"{obj_id} is the model's finding: only the analyst's objects have polygons"
            )
        polygon = self._polygon_on_image(key, points)

        def change(kind: str, rec: dict, view: ReviewObject):
            before = rec.get("polygon")
            if before == polygon:
                return None
            rec["polygon"] = polygon
            rec["box"] = normalise_box(polygon_box(polygon))
            return before, polygon

        self._object_action(key, obj_id, "set_polygon", f"reshape {obj_id}", change)

    def delete_object(self, scan_path: str | Path, obj_id: str) -> None:
        """Remove an analyst's object; a model finding cannot go away and is rejected instead."""
        self._check_writable()
        key = self.key(scan_path)
        if self._kind(key, obj_id) == "model":
            self.reject(key, obj_id)
            return

        def apply(analyst: dict):
            rec = analyst["added"].pop(obj_id)
            return {k: rec[k] for k in ("box", "label", "anomalous", "polygon") if k in rec}, None

        self._act(key, "delete", obj_id, f"delete {obj_id}", apply)

    def set_decision(self, scan_path: str | Path, decision: str | None) -> None:
        """Decide the bag: one of DECISIONS, or None to take the decision back."""
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)} or None")
        self._check_writable()
        key = self.key(scan_path)

        def apply(analyst: dict):
            before = analyst["decision"]
            if before == decision:
                return None
            analyst["decision"] = decision
            analyst["decision_by"] = self.analyst if decision else None
            analyst["decision_at"] = now() if decision else None
            return before, decision

        text = f"decide {decision}" if decision else "remove decision"
        self._act(key, "decision", None, text, apply)

    def decision(self, scan_path: str | Path) -> str | None:
        scan = self._scans.get(self.key(scan_path))
        return scan["analyst"]["decision"] if scan else None

    def set_note(self, scan_path: str | Path, text: str) -> None:
        """Set the scan's note; consecutive edits of one note make one undo step."""
        self._check_writable()
        key = self.key(scan_path)
        text = str(text)
        if self._merge_note == key and self._undo and not self._redo:
            analyst = self._scans[key]["analyst"]
            if analyst["note"] == text:
                return
            analyst["note"] = text
            step = self._undo[-1]
            step.after, step.log_after = snapshot(analyst), text
            log = self._scans[key]["log"]
            if log and log[-1]["action"] == "note":
                log[-1].update(at=now(), by=self.analyst, after=text)
            self._changed(key)
            return

        def apply(analyst: dict):
            before = analyst["note"]
            if before == text:
                return None
            analyst["note"] = text
            return before, text

        self._act(key, "note", None, "edit note", apply)
        if self._undo and self._undo[-1].action == "note" and self._undo[-1].key == key:
            self._merge_note = key

    @property
    def note_journal_path(self) -> Path:
        """Where `stage_note` keeps the note being typed: beside the project file."""
        return self.project_path.with_name(self.project_path.name + NOTE_JOURNAL_SUFFIX)

    def stage_note(self, scan_path: str | Path, text: str) -> None:
        """Keep a note being typed on disk at once, in a small journal beside the project.

        The GUI calls this on every keystroke and `set_note` after a pause: a whole-project
        save per keystroke would cost O(project) each time, this costs O(note), and killing the
        application between the two loses nothing (the next store to hold the project applies
        the journal). Read-only stores keep nothing: `set_note` says why.
        """
        if self.read_only:
            return
        key, text = self.key(scan_path), str(text)
        record = {"key": key, "note": text, "by": self.analyst, "at": now()}
        try:
            atomic_write_bytes(self.note_journal_path, json.dumps(record).encode())
        except OSError as exc:
            raise ReviewSaveError(
                f"Cannot keep the note in {self.note_journal_path}: {exc.strerror or exc}"
            ) from exc
        self._staged_note = (key, text)

    def _drop_note_journal(self) -> None:
        self._staged_note = None
        with contextlib.suppress(OSError):  # else applied again next time: the same text
            self.note_journal_path.unlink(missing_ok=True)

    def _recover_note(self) -> None:
        """Apply the note journal a killed instance left (only while holding the project)."""
        path = self.note_journal_path
        if self.read_only or self._lock is None or not path.is_file():
            return
        try:
            record = json.loads(read_regular_file(path, 1 << 20))
            key, text = record["key"], record["note"]
            if not (isinstance(key, str) and isinstance(text, str)):
                raise TypeError("key or note is not text")
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.warnings.append(f"The unsaved note in {path} is unreadable ({exc}); dropped.")
            self._drop_note_journal()
            return
        analyst = self._scan(key)["analyst"]
        if analyst["note"] != text:
            before, analyst["note"] = analyst["note"], text
            self._log(key, "note", None, before, text, recovered=True)
            self._changed(key, save=False)
            try:
                self.save()
            except ReviewSaveError:
                return  # kept in memory (dirty) and in the journal
        self._drop_note_journal()

    def note(self, scan_path: str | Path) -> str:
        scan = self._scans.get(self.key(scan_path))
        return scan["analyst"]["note"] if scan else ""

    def add_review_time(self, scan_path: str | Path, seconds: float) -> None:
        """Add time spent on a scan; saved, but neither undoable nor logged (nor read-only)."""
        if not math.isfinite(seconds) or seconds <= 0 or self.read_only:
            return
        key = self.key(scan_path)
        analyst = self._scan(key)["analyst"]
        analyst["review_seconds"] = round(analyst["review_seconds"] + float(seconds), 3)
        self._changed(key)

    def _act(self, key: str, action: str, obj: str | None, text: str, apply: Callable) -> None:
        """Run one analyst action: undo step, audit log, save (a failed save keeps the change)."""
        self._check_writable()
        created = key not in self._scans
        analyst = self._scan(key)["analyst"]
        before = snapshot(analyst)
        result = apply(analyst)
        if result is None:  # nothing changed
            if created and not self._scans[key]["predictions"]:
                del self._scans[key]
            return
        name = Path(key).name
        label = f"{text} ({name})"
        self._undo.append(_Step(key, action, obj, label, before, snapshot(analyst), *result))
        self._redo.clear()
        self._merge_note = None
        self._log(key, action, obj, *result)
        self._changed(key)

    # ----- undo / redo ------------------------------------------------------------------------
    def undo(self) -> str | None:
        """Take back the last action (any scan); returns that scan's key, None when none."""
        self._check_writable()
        if not self._undo:
            return None
        step = self._undo.pop()
        self._redo.append(step)
        self._restore(step, step.before, "undo", step.log_after, step.log_before)
        return step.key

    def redo(self) -> str | None:
        """Do again the last undone action; returns that scan's key, None when none."""
        self._check_writable()
        if not self._redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        self._restore(step, step.after, "redo", step.log_before, step.log_after)
        return step.key

    def _restore(self, step: _Step, state: dict, action: str, before: Any, after: Any) -> None:
        self._merge_note = None
        analyst = self._scan(step.key)["analyst"]
        kept = {"review_seconds": analyst["review_seconds"], "next_added": analyst["next_added"]}
        analyst.clear()
        analyst.update(copy.deepcopy(state), **kept)
        self._log(step.key, action, step.obj, before, after, of=step.action)
        self._changed(step.key)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        """The undo menu text, e.g. "Undo reject m2 (bag_1.png)"; "" when nothing to undo."""
        return f"Undo {self._undo[-1].text}" if self._undo else ""

    def redo_text(self) -> str:
        return f"Redo {self._redo[-1].text}" if self._redo else ""

    # ----- navigation and status --------------------------------------------------------------
    def status(self, scan_path: str | Path) -> str:
        """The scan's state: "new" (untouched), "screened" (undecided) or "reviewed"."""
        scan = self._scans.get(self.key(scan_path))
        if scan is None:
            return "new"
        analyst = scan["analyst"]
        if analyst["decision"]:
            return "reviewed"
        worked = analyst["objects"] or analyst["added"] or analyst["note"]
        return "screened" if scan["predictions"] or worked else "new"

    def is_reviewed(self, scan_path: str | Path) -> bool:
        return self.decision(scan_path) is not None

    def next_unreviewed(self, scan_paths: Sequence, start: int) -> int | None:
        """The first index after `start`, wrapping round (`start` itself last), not reviewed."""
        n = len(scan_paths)
        for i in range(n):
            index = (start + 1 + i) % n
            if not self.is_reviewed(scan_paths[index]):
                return index
        return None

    def has_verdicts(self, scan_path: str | Path) -> bool:
        """Whether the analyst has judged any of the model's findings of this scan."""
        scan = self._scans.get(self.key(scan_path))
        return bool(scan and self._analyst(self.key(scan_path))["objects"])

    def history(self, scan_path: str | Path) -> list[dict]:
        """The scan's audit log: {"at", "by", "action", "object", "before", "after", "model"}."""
        scan = self._scans.get(self.key(scan_path))
        return copy.deepcopy(scan["log"]) if scan else []

    def scan_keys(self) -> list[str]:
        """Keys of every scan with a record, in natural order."""
        return sorted(self._scans, key=natural_key)

    def _scan(self, key: str) -> dict:
        scan = self._scans.get(key)
        if scan is None:
            scan = self._scans[key] = {"predictions": [], "analyst": empty_analyst(), "log": []}
        return scan

    def _log(self, key: str, action: str, obj: str | None, before: Any, after: Any, **extra):
        latest = self._latest(key)
        entry = {
            "at": now(),
            "by": self.analyst,
            "action": action,
            "object": obj,
            "before": before,
            "after": after,
            "model": latest.get("model") if latest else None,
            **extra,
        }
        self._scan(key)["log"].append(entry)


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _is_anomalous(finding: dict, anomaly_threshold: float | None) -> bool:
    """A stored finding's anomaly flag, at `anomaly_threshold` when it has an anomaly score."""
    if anomaly_threshold is not None and finding.get("anomaly_score") is not None:
        return finding["anomaly_score"] >= anomaly_threshold
    return bool(finding.get("anomalous", False))


def _release(locks: list[ProjectLock]) -> None:
    """Release a store's lock (also its finalizer: a script that forgets close())."""
    for lock in locks:
        lock.release()
    locks.clear()
