"""The review session: what the analyst works on now, kept apart from any window.

A `ReviewSession` holds the state of the review workflow: the queue of scans and the scan on
screen, the selected object, the review projects open (one `ReviewStore` per folder of scans),
the model in use, the scans it failed on, the scans wished of it (the scan on screen, then a few
ahead), and the analyst's active time on the scan on screen. Every analyst action goes to the
store, which saves it at once; a save that fails is announced, never raised.

It announces changes through `Announcement`s (plain callbacks): the GUI's `Reviewer` redraws
when told, and a test listens the same way without Qt. Nothing here imports Qt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from engine.classes import DEFAULT_CLASSES
from xray_gui.review.activity import ActiveTime
from xray_gui.review.objects import ReviewObject
from xray_gui.review.store import (
    ReviewError,
    ReviewLockLostError,
    ReviewReadOnlyError,
    ReviewStore,
)
from xray_gui.review.uncertainty import bag_uncertainty
from xray_gui.scan_queue import BagMarks, ScanQueue

SCREEN_AHEAD = 3  # scans after the current one screened in the background
MIN_VISIT_S = 0.5  # a visit shorter than this is passing through, not reviewing

Change = Callable[[ReviewStore, str], Any]  # an action on (the store, the scan on screen)


class LoadedModel(Protocol):
    """What the session needs of the loaded model (the GUI's `ModelInfo` is one)."""

    name: str
    categories: tuple[str, ...]
    score_threshold: float
    anomaly_threshold: float


class Announcement:
    """Callbacks called in turn with the same arguments whenever the session says something."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def connect(self, listener: Callable[..., Any]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[..., Any]) -> None:
        self._listeners.remove(listener)

    def emit(self, *args: Any) -> None:
        for listener in list(self._listeners):
            listener(*args)


def folder_of(path: str | Path) -> Path:
    """The folder a scan's review project belongs to, spelt as the queue spells it."""
    return Path(os.path.abspath(path)).parent


class ReviewSession:
    """The queue, the scan on screen, its selection, the open projects and the visit clock.

    `analyst()` gives the name new projects are signed with (None: the login name);
    `thresholds()` the (score, anomaly) in force; `prepare_store(store)` readies a project as it
    opens (the model's classes) and returns a line for the analyst ("" when none).
    """

    def __init__(
        self,
        queue: ScanQueue,
        *,
        analyst: Callable[[], str | None] = lambda: None,
        thresholds: Callable[[], tuple[float, float | None]] = lambda: (0.0, None),
        prepare_store: Callable[[ReviewStore], str] = lambda store: "",
        open_store: Callable[..., ReviewStore] = ReviewStore.for_folder,
        clock: Callable[[], float] = time.monotonic,
        screen_ahead: int = SCREEN_AHEAD,
    ) -> None:
        self.queue = queue
        queue.marks_of = self.marks_of  # the queue shows and filters what the projects say
        self.analyst = analyst
        self.thresholds = thresholds
        self.prepare_store = prepare_store
        self.open_store = open_store
        self.screen_ahead = screen_ahead
        self.stores: dict[Path, ReviewStore] = {}
        self.broken_folders: set[Path] = set()  # folders whose project could not be opened
        self.model: LoadedModel | None = None
        self.model_pending = False  # a model is being loaded
        self.failed: set[str] = set()  # scans the current model could not screen
        self.wanted: list[str] = []  # the scans wished of the model last, most wanted first
        self.current_path: str | None = None
        self.selected: str | None = None
        self.last_label = DEFAULT_CLASSES[0]  # the class a drawn object gets
        self.activity = ActiveTime(clock=clock)  # the analyst's active time on the scan
        self.refused = False  # the last action was refused (its reason was announced)

        self.scan_changed = Announcement()  # path or None: another scan (and no selection)
        self.selection_changed = Announcement()  # object id or None
        self.store_opened = Announcement()  # ReviewStore: a folder's project is open
        self.problem = Announcement()  # message: a project cannot be opened or saved
        self.refusal = Announcement()  # message: the store refused an action, and why

    # ----- projects -----------------------------------------------------------------------
    def store_for(self, path: str | Path) -> ReviewStore | None:
        """The review project of a scan's folder, opened (and checked) on first use."""
        folder = folder_of(path)
        store = self.stores.get(folder)
        if store is not None or folder in self.broken_folders:
            return store
        try:
            store = self.open_store(folder, analyst=self.analyst())
        except (ReviewError, OSError) as exc:
            self.broken_folders.add(folder)
            self.problem.emit(f"Cannot keep reviews for {folder}: {exc}")
            return None
        messages = list(store.warnings)
        if store.warnings and store.project_path.parent != folder:
            messages.append("(Review ▸ Save review project to… chooses another place.)")
        messages.append(self.prepare_store(store))
        if any(messages):
            self.problem.emit(" ".join(m for m in messages if m))
        self.stores[folder] = store
        self.store_opened.emit(store)
        return store

    def opened(self, path: str | Path) -> ReviewStore | None:
        """The project of a scan's folder if it is open already (never opens one)."""
        return self.stores.get(folder_of(path))

    @property
    def store(self) -> ReviewStore | None:
        """The project of the scan on screen."""
        return None if self.current_path is None else self.store_for(self.current_path)

    def save(self, change: Callable[[], Any]) -> Any | None:
        """Run one store change; a failed save is announced, and the change stays in memory."""
        try:
            return change()
        except ReviewReadOnlyError as exc:
            self.problem.emit(str(exc))
        except ReviewLockLostError as exc:
            self.problem.emit(
                f"{exc}. This window is read-only for it now; Review ▸ Save review project to… "
                "keeps its unsaved change in another file."
            )
        except ReviewError as exc:
            self.problem.emit(
                f"{exc} The change is kept and will be saved with the next one; "
                "Review ▸ Save review project to… chooses another place."
            )
        except (KeyError, ValueError) as exc:
            self.refused = True
            self.refusal.emit(str(exc).strip("'\""))
        return None

    def queue_keys(self, store: ReviewStore) -> list[str]:
        """The store keys of the queued scans of its folder: what the review progress and the
        statistics both count."""
        return [store.key(e.path) for e in self.queue.entries if folder_of(e.path) == store.folder]

    def marks_of(self, path: Path) -> BagMarks:
        """A scan's status (new / screened / reviewed) and whether it alarms at the thresholds
        in force, from its project as far as it is open: what the queue shows and filters."""
        store = self.opened(path)
        if store is None:
            return BagMarks()
        score, anomaly = self.thresholds()
        try:
            alarm = store.anomalous(path, score_threshold=score, anomaly_threshold=anomaly)
        except (KeyError, TypeError, ValueError):  # a damaged record: the GUI says so
            alarm = False
        return BagMarks(store.status(path), alarm)

    def next_unreviewed(self) -> int | None:
        """The queue index of the next scan the queue's filter shows without a decision,
        wrapping round (the scan on screen last); None when there is none. Whether a scan is
        decided is its project's word (`ReviewStore.status`, through `marks_of`)."""
        return self.queue.next_unreviewed()

    def sign_as(self, name: str) -> None:
        """Sign the next changes of every open project with `name`."""
        for store in self.stores.values():
            store.set_analyst(name)

    def uncertainty(self, path: Path) -> float | None:
        """How unsure the model was about a scan at the thresholds in force (`bag_uncertainty`:
        the queue's order by uncertainty); None when unscreened or its project is not open."""
        store = self.opened(path)
        if store is None:
            return None
        score, anomaly = self.thresholds()
        try:
            result = store.prediction(path)
        except (KeyError, TypeError, ValueError):  # a damaged record: the GUI says so elsewhere
            return None
        return bag_uncertainty(result, score, 0.5 if anomaly is None else anomaly)

    def keep_thresholds(self) -> None:
        """Save the thresholds in force, and the model they go with, in every open project."""
        score, anomaly = self.thresholds()
        model = self.model.name if self.model is not None else None
        for store in self.stores.values():
            self.save(lambda s=store: s.set_thresholds(score, anomaly, model=model))

    def heartbeat(self) -> None:
        """Show other instances that this one still holds its projects; announce a lost one."""
        for store in self.stores.values():
            if not store.read_only and not store.heartbeat():
                self.problem.emit(
                    f"Review project {store.project_path} was taken over by "
                    f"{store.locked_by.describe()}: this window is read-only for it now."
                )

    def close(self) -> list[Path]:
        """Save what is pending and release every project; the files unsaved work was kept in
        (a project taken over with a change unsaved)."""
        self.end_visit()
        kept_aside = []
        for store in self.stores.values():
            if store.dirty and not store.read_only:  # a failed save: one more try before closing
                self.save(store.save)
            elif store.dirty:
                kept = self.save(store.save_aside)
                if kept is not None:
                    kept_aside.append(kept)
            store.close()
        return kept_aside

    # ----- the model ----------------------------------------------------------------------
    def use_model(self, model: LoadedModel) -> None:
        """A model is loaded: it screens every scan anew (what the last one failed on too)."""
        self.model = model
        self.model_pending = False
        self.failed.clear()

    def classes(self) -> list[str]:
        """The classes in force: the loaded model's, else the project's on screen, else the
        defaults (a project's objects of classes the model lacks keep their labels)."""
        if self.model is not None:
            return list(self.model.categories)
        store = self.store
        return list(store.categories) if store is not None else list(DEFAULT_CLASSES)

    def thresholds_to_show(self) -> tuple[float, float | None] | None:
        """(score, anomaly) for the project on screen: those it was last reviewed with (when
        under the model loaded now, or no model is), else the model's operating points, else
        those of the model that screened the scan; None when nothing says."""
        store = self.store
        kept = store.thresholds if store is not None else None
        if self.model is not None and (kept is None or kept["model"] != self.model.name):
            return self.model.score_threshold, self.model.anomaly_threshold
        if kept is not None:
            return kept["score"], kept["anomaly"]
        if store is not None and self.current_path is not None:
            return store.thresholds_for(self.current_path)
        return None

    def has_prediction(self, path: str) -> bool:
        store = self.store_for(path)
        return store is not None and store.has_prediction(path)

    def waiting(self, path: str) -> bool:
        """Whether a scan waits for the model: one is loaded or loading, and nothing to review
        on the scan yet."""
        model = self.model is not None or self.model_pending
        return model and path not in self.failed and not self.has_prediction(path)

    def want_screening(self) -> list[str]:
        """The scans to ask of the model: the scan on screen, then the next few of the queue,
        less those screened already or that it failed on. Kept as `wanted`."""
        if self.current_path is None:
            self.wanted = []
            return self.wanted
        start = self.queue.index_of(self.current_path)
        candidates = [self.current_path] + [
            str(e.path) for e in self.queue.entries[start + 1 : start + 1 + self.screen_ahead]
        ]
        self.wanted = [p for p in candidates if p not in self.failed and not self.has_prediction(p)]
        return self.wanted

    def screen_again(self) -> list[str]:
        """Only the scan on screen is wanted, even when the model failed on it; the clock stops
        until its findings are drawn."""
        self.failed.discard(self.current_path)
        self.wanted = [self.current_path]
        self.activity.pause()
        return self.wanted

    def screened(self, path: str) -> bool:
        """The model answered for `path`; True when it is on screen (the clock runs again)."""
        if path != self.current_path:
            return False
        self.activity.resume()  # findings to review, or nothing to wait for
        return True

    def screen_failed(self, path: str) -> bool:
        """The model failed on `path` and is not asked again; True when it is on screen."""
        self.failed.add(path)
        return self.screened(path)

    # ----- the scan on screen -------------------------------------------------------------
    def show_scan(self, path: str) -> bool:
        """`path` is on screen: the last visit ends, a new one starts (its clock paused while
        the scan waits for the model) with nothing selected. False when it was on screen."""
        if path == self.current_path:
            return False
        self.end_visit()
        self.current_path = path
        self.selected = None
        self.activity.start(paused=self.waiting(path))
        self.scan_changed.emit(path)
        return True

    def end_visit(self) -> float:
        """The scan on screen is left: its active seconds are added to its project (when more
        than a glance). Returns them."""
        seconds = self.activity.stop()
        path = self.current_path
        store = self.opened(path) if path is not None else None
        if store is not None and seconds > MIN_VISIT_S:
            self.save(lambda: store.add_review_time(path, seconds))
        return seconds

    def clear(self) -> None:
        """No scan on screen: the visit ends, and nothing is wished of the model."""
        self.end_visit()
        self.current_path = None
        self.selected = None
        self.wanted = []
        self.scan_changed.emit(None)

    def objects(self) -> list[ReviewObject]:
        """The objects of the scan on screen under the thresholds in force."""
        store = self.store
        if store is None:
            return []
        score, anomaly = self.thresholds()
        return store.objects(self.current_path, score_threshold=score, anomaly_threshold=anomaly)

    def decision(self) -> str | None:
        store = self.store
        return store.decision(self.current_path) if store is not None else None

    # ----- selection ----------------------------------------------------------------------
    def select(self, obj_id: str | None) -> bool:
        """Select object `obj_id` (None: none); False when it was selected already."""
        if obj_id == self.selected:
            return False
        self.selected = obj_id
        self.selection_changed.emit(obj_id)
        return True

    def select_step(self, delta: int) -> None:
        """Select the next (or previous) visible object, wrapping around."""
        ids = [o.id for o in self.objects() if o.visible]
        if not ids:
            return
        if self.selected not in ids:
            self.select(ids[0] if delta > 0 else ids[-1])
        else:
            self.select(ids[(ids.index(self.selected) + delta) % len(ids)])

    def select_next_pending(self) -> None:
        """Select the first finding still to be judged; the selection stays without one."""
        ids = [o.id for o in self.objects() if o.visible and o.status == "pending"]
        if ids:
            self.select(ids[0])

    def keep_selection_among(self, objects: Sequence[ReviewObject]) -> None:
        """Drop the selection when it is none of the visible `objects` (hidden, or gone)."""
        if self.selected not in {o.id for o in objects if o.visible}:
            self.select(None)

    def selected_object(self) -> ReviewObject | None:
        return next((o for o in self.objects() if o.id == self.selected), None)

    # ----- analyst actions ----------------------------------------------------------------
    def act(self, change: Change, *, advance: bool = False) -> Any | None:
        """Apply `change` to the scan on screen and save it; with `advance`, select the next
        finding still to be judged. Returns what the change returned (None when refused)."""
        store, path = self.store, self.current_path
        if store is None or path is None:
            return None
        self.refused = False
        result = self.save(lambda: change(store, path))
        if advance:
            self.select_next_pending()
        return result

    def _on_selected(self, change: Callable[[ReviewStore, str, str], Any], **kw: Any) -> Any:
        obj_id = self.selected
        if obj_id is None:
            return None
        return self.act(lambda store, path: change(store, path, obj_id), **kw)

    def accept(self) -> None:
        self._on_selected(lambda s, p, o: s.accept(p, o), advance=True)

    def reject(self) -> None:
        self._on_selected(lambda s, p, o: s.reject(p, o), advance=True)

    def toggle_anomalous(self) -> None:
        """Mark the selected object anomalous, or benign again."""
        current = self.selected_object()
        if current is not None:
            flag = not current.anomalous
            self._on_selected(lambda s, p, o: s.set_anomalous(p, o, flag))

    def set_label(self, label: str) -> None:
        """The class of the selected object (if any) and of the objects drawn next."""
        self.last_label = label
        self._on_selected(lambda s, p, o: s.set_label(p, o, label))

    def delete_selected(self) -> None:
        self._on_selected(lambda s, p, o: s.delete_object(p, o))

    def set_box(self, obj_id: str, box: tuple[float, float, float, float]) -> None:
        self.act(lambda store, path: store.set_box(path, obj_id, box))

    def set_polygon(self, obj_id: str, points: Sequence[tuple[float, float]]) -> None:
        self.act(lambda store, path: store.set_polygon(path, obj_id, points))

    def add_box(self, box: tuple[float, float, float, float]) -> str | None:
        """Add a missed object of the last class; its id (None when refused)."""
        return self.act(lambda store, path: store.add_object(path, box, self.last_label))

    def add_polygon(self, points: Sequence[tuple[float, float]]) -> str | None:
        return self.act(lambda store, path: store.add_polygon(path, points, self.last_label))

    def decide(self, decision: str) -> None:
        """Decide the bag on screen; the same decision again takes it back."""
        chosen = None if self.decision() == decision else decision
        self.act(lambda s, p: s.set_decision(p, chosen))

    def set_note(self, text: str) -> bool:
        """Keep `text` as the note of the bag on screen; False when it is the note already."""
        store = self.store
        if store is None or self.current_path is None or store.note(self.current_path) == text:
            return False
        path = self.current_path
        self.save(lambda: store.set_note(path, text))
        return True

    def stage_note(self, text: str) -> None:
        """Put a note being typed on disk at once (the store's note journal)."""
        store = self.store
        if store is not None and self.current_path is not None:
            path = self.current_path
            self.save(lambda: store.stage_note(path, text))

    def undo(self) -> str | None:
        """Take back the latest change of the project on screen; the key of its scan."""
        store = self.store
        return None if store is None else self.save(store.undo)

    def redo(self) -> str | None:
        store = self.store
        return None if store is None else self.save(store.redo)
