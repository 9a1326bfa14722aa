"""The screening and review workflow of the main window: the Qt side of a `ReviewSession`.

The review state (the scan on screen, its selection, the open projects, the screen-ahead list,
the visit clock) lives in a Qt-free `ReviewSession`; `Reviewer` adapts it to the window. It joins
the session to the screening thread (the model, off the GUI thread), the findings overlay on the
viewer and the review dock: Qt events go to the session, and the widgets are redrawn when it
announces a change. Every analyst action goes to the store, which saves it at once; the overlay
and the dock are then redrawn from the store, so what is on screen is always what is on disk.

The window is reached only through `ReviewWindow`, the few public members the reviewer uses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMenu,
    QMenuBar,
    QProgressBar,
    QScrollArea,
    QStatusBar,
    QWidget,
)

from engine.classes import DEFAULT_CLASSES
from xray_gui.analyst_dialog import AnalystDialog, headless, keep_analyst, kept_analyst
from xray_gui.class_keys import ClassKeys, unknown_classes_message
from xray_gui.review import DECISIONS, ReviewError, ReviewObject, ReviewStore
from xray_gui.review.analyst import login_name
from xray_gui.review.lock import HEARTBEAT_S
from xray_gui.review.session import SCREEN_AHEAD, ReviewSession
from xray_gui.review_panel import ReviewPanel
from xray_gui.scan_queue import QUEUE_FILTERS
from xray_gui.screening import SCORE_FLOOR, ModelInfo, ScreeningThread
from xray_gui.stats_panel import StatsPanel
from xray_gui.viewer import FindingsOverlay, describe
from xray_gui.viewer.overlay import OUTLINE_FUNCTIONS
from xray_gui.widgets import ElidedLabel

if TYPE_CHECKING:
    from engine.io import Scan
    from xray_gui.scan_queue import ScanQueue
    from xray_gui.viewer import ScanView
    from xray_gui.widgets import ErrorBanner, QueuePanel

BUNDLE_FILTER = "Model bundles (*.xsb);;All files (*)"
MIN_BOX_PX = 4  # a drawn box smaller than this is a slip of the mouse
INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
}  # what counts as the analyst at work, for the review time
DECISION_KEYS = {"clear": "F2", "suspect": "F3", "search": "F4"}
DEVICES = {"auto": "Auto (GPU if present)", "cpu": "CPU", "cuda": "CUDA GPU"}

# The reviewer's actions in the order Help lists them: name, menu text, the Reviewer method (or
# (method, argument), None for no argument), shortcut, tip, checkable.
REVIEW_ACTIONS: tuple[tuple[str, str, str | tuple, str | None, str | None, bool], ...] = (
    ("load_model", "Load &model…", "load_model_dialog", "Ctrl+M", None, False),
    ("screen_again", "&Screen again", "screen_again", "Ctrl+R", None, False),
    *((f"device_{n}", text, ("set_device", n), None, None, True) for n, text in DEVICES.items()),
    ("accept", "&Accept", "accept", "Y", "Accept the selected finding", False),
    ("reject", "&Reject", "reject", "R", "Reject the selected finding", False),
    (
        "toggle_anomalous",
        "Anomalous / &benign",
        "toggle_anomalous",
        "T",
        "Mark the selected object anomalous, or benign again",
        False,
    ),
    (
        "draw_box",
        "&Draw box",
        "toggle_draw_mode",
        "B",
        "Drag on the scan to add a missed object",
        True,
    ),
    (
        "draw_polygon",
        "Draw &polygon",
        "toggle_polygon_mode",
        "P",
        "Click round a missed object's outline: Enter, a double-click or a click on the first "
        "point closes it",
        True,
    ),
    (
        "finish_polygon",
        "Close the polygon",
        "finish_polygon",
        "Return",
        "Close the polygon being drawn (or double-click its last point)",
        False,
    ),
    (
        "take_back_vertex",
        "Take back the last point",
        "take_back_vertex",
        "Backspace",
        "Remove the last point of the polygon being drawn",
        False,
    ),
    (
        "pick_class",
        "Choose the &class…",
        "pick_class",
        "K",
        "Pick the class of the selected object, or of the objects drawn next, from a list",
        False,
    ),
    ("delete_object", "De&lete", "delete_selected", "Delete", "Delete the object", False),
    (
        "toggle_overlay",
        "Show findings o&verlay",
        "set_overlay_shown",
        "V",
        "Hide or show the findings over the scan",
        True,
    ),
    ("next_object", "Next finding", ("select_step", 1), "]", None, False),
    ("previous_object", "Previous finding", ("select_step", -1), "[", None, False),
    ("undo", "&Undo", "undo", "Ctrl+Z", None, False),
    ("redo", "Re&do", "redo", "Ctrl+Shift+Z", None, False),
    (
        "zoom_selection",
        "&Zoom to finding",
        "zoom_to_selected",
        "Z",
        "Fit the view to the selected finding",
        False,
    ),
    *(
        (
            f"decide_{d}",
            d.title(),
            ("decide", d),
            DECISION_KEYS[d],
            f"Decide this bag: {d} (again to take it back)",
            True,
        )
        for d in DECISIONS
    ),
    ("next_unreviewed", "Next &unreviewed", "next_unreviewed", "U", None, False),
    (
        "order_uncertainty",
        "Order queue by un&certainty",
        "order_queue_by_uncertainty",
        None,
        "Screened scans whose findings sit nearest a threshold first: where a review teaches "
        "the model most (Model → Improve from reviews)",
        False,
    ),
    ("order_added", "Order queue as &opened", "order_queue_as_added", None, None, False),
    ("edit_note", "Edit &note", "focus_note", "Ctrl+E", None, False),
    ("export", "&Export reviewed annotations…", "export_dialog", "Ctrl+Shift+E", None, False),
    ("export_stats", "Export statistics CSV…", "export_stats_dialog", None, None, False),
    ("save_project_to", "Save review project to…", "save_project_to_dialog", None, None, False),
    (
        "analyst_name",
        "Analyst &name…",
        ("ask_analyst", None),
        None,
        "The name your decisions and changes are signed with",
        False,
    ),
)


class ReviewWindow(Protocol):
    """What the reviewer uses of its window (the main window is one), and nothing more."""

    settings: QSettings
    actions: dict[str, QAction]
    view: ScanView
    queue: ScanQueue
    queue_panel: QueuePanel
    queue_dock: QDockWidget
    view_menu: QMenu
    help_menu: QMenu
    error_banner: ErrorBanner
    current_scan: Scan | None
    scanShown: SignalInstance
    imageShown: SignalInstance

    def add_action(
        self,
        name: str,
        text: str,
        slot,
        shortcut: str | None = None,
        tip: str | None = None,
        checkable: bool = False,
    ) -> QAction: ...

    def show_index(self, index: int) -> None: ...

    def refresh_readout(self) -> None: ...

    def statusBar(self) -> QStatusBar: ...

    def menuBar(self) -> QMenuBar: ...

    def addDockWidget(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None: ...

    def tabifyDockWidget(self, first: QDockWidget, second: QDockWidget) -> None: ...

    def resizeDocks(self, docks: list, sizes: list[int], orientation: Qt.Orientation) -> None: ...


class Reviewer(QObject):
    """Screening, overlay and review for the scan on screen; owns the session and the thread."""

    modelChanged = Signal(object)  # ModelInfo
    modelFailed = Signal(str, str)  # bundle path, message
    resultShown = Signal(str)  # a scan's findings are drawn (screened now or read from the project)
    screenFailed = Signal(str, str)  # path, message
    reviewChanged = Signal(str)  # scan key after any analyst action (tests, statistics)

    def __init__(self, window: ReviewWindow) -> None:
        super().__init__(window)
        self.window = window
        self.view = window.view
        self.actions = window.actions
        self.session = ReviewSession(
            window.queue,
            analyst=lambda: self.analyst,
            thresholds=self.thresholds,
            prepare_store=self._use_model_classes,
            screen_ahead=SCREEN_AHEAD,  # read now: a benchmark sets it to 0
        )
        self.session.selection_changed.connect(self._on_selection_changed)
        self.session.store_opened.connect(lambda _store: self._refresh_queue())  # ● and ✓ marks
        self.session.problem.connect(self._banner)
        self.session.refusal.connect(lambda text: self._say(text, 4000))
        self.device = "auto"
        self._pending_name = ""  # the file name of the bundle being loaded, for the status bar
        self._loaded_device = "auto"  # the device choice the loaded model runs under
        self._anomaly_known = False  # whether the anomaly slider holds a real threshold
        self._redrawing = False  # a redraw follows: selection changes draw nothing meanwhile

        self.screening = ScreeningThread()
        self.screening.modelLoaded.connect(self._on_model_loaded)
        self.screening.modelFailed.connect(self._on_model_failed)
        self.screening.screeningStarted.connect(self._on_screening_started)
        self.screening.screened.connect(self._on_screened)
        self.screening.screenFailed.connect(self._on_screen_failed)
        self.screening.start()

        self.overlay = FindingsOverlay(self.view)
        self.overlay.boxEdited.connect(self._on_box_edited)
        # after the mouse event that made it: the answer remakes the vertex handles
        self.overlay.polygonEdited.connect(
            self._on_polygon_edited, Qt.ConnectionType.QueuedConnection
        )
        self.view.clicked.connect(self._on_view_clicked)
        self.view.boxDrawn.connect(self._on_box_drawn)
        self.view.polygonDrawn.connect(self._on_polygon_drawn)
        window.scanShown.connect(self._on_scan_shown)
        window.imageShown.connect(self._on_image_shown)

        self._build_actions()
        self._build_docks()
        self._build_status()
        self._stats_timer = QTimer(self, singleShot=True, interval=300)
        self._stats_timer.timeout.connect(self._refresh_stats)
        self._thresholds_timer = QTimer(self, singleShot=True, interval=400)
        self._thresholds_timer.timeout.connect(self._keep_thresholds)
        self._heartbeat_timer = QTimer(self, interval=int(HEARTBEAT_S * 1000))
        self._heartbeat_timer.timeout.connect(self.heartbeat)
        self._heartbeat_timer.start()
        QApplication.instance().installEventFilter(self)  # input anywhere in the window
        self._update_actions()
        self._show_analyst()

    def objects(self) -> list[ReviewObject]:
        """The objects of the scan on screen under the sliders' thresholds."""
        return self.session.objects()

    # ----- the window -----------------------------------------------------------------------
    def _say(self, text: str, ms: int) -> None:
        """A line in the status bar for `ms` milliseconds."""
        self.window.statusBar().showMessage(text, ms)

    def _banner(self, text: str) -> None:
        """A message that stays over the scan until dismissed."""
        self.window.error_banner.show_message(text)

    def _refresh_queue(self) -> None:
        """The queue's marks again (status, alarm, decision) and its filter."""
        self.window.queue_panel.refresh(self.window.queue)

    # ----- construction -------------------------------------------------------------------
    def _build_actions(self) -> None:
        for name, text, slot, shortcut, tip, checkable in REVIEW_ACTIONS:
            if isinstance(slot, tuple):  # a method called with an argument, or with none
                target = lambda _=False, m=slot[0], v=slot[1]: (  # noqa: E731
                    getattr(self, m)() if v is None else getattr(self, m)(v)
                )
            else:  # a method given the action's checked state where it takes one
                target = getattr(self, slot)
            self.window.add_action(name, text, target, shortcut, tip=tip, checkable=checkable)
        self.device_group = QActionGroup(self)
        for name in DEVICES:
            self.device_group.addAction(self.actions[f"device_{name}"])
        self.actions["device_auto"].setChecked(True)
        self.actions["draw_polygon"].setIconText("Polygon")
        self.actions["toggle_overlay"].setChecked(True)
        self.actions["finish_polygon"].setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])
        self.actions["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])

    def _build_docks(self) -> None:
        w = self.window
        self.panel = ReviewPanel(self.actions)
        self.panel.thresholdsChanged.connect(self._on_thresholds_moved)
        self.panel.anomalyMoved.connect(lambda _v: setattr(self, "_anomaly_known", True))
        self.panel.objectSelected.connect(lambda oid: self.select(oid or None))
        self.panel.classChosen.connect(self.set_label)
        self.panel.noteEdited.connect(self._on_note_edited)
        self.panel.noteTyped.connect(self._on_note_typed)
        self.panel.noteEscaped.connect(lambda: self.view.setFocus())
        self.panel.opacityChanged.connect(self.overlay.set_opacity)
        self.review_dock = QDockWidget("Review", w)
        self.review_dock.setObjectName("reviewDock")
        self.review_dock.setWidget(_scrolling(self.panel))
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.review_dock)
        self.stats = StatsPanel()
        self.stats.exportCsvRequested.connect(self.export_stats_dialog)
        self.stats_dock = QDockWidget("Statistics", w)
        self.stats_dock.setObjectName("statsDock")
        self.stats_dock.setWidget(_scrolling(self.stats))
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.stats_dock)
        w.tabifyDockWidget(self.review_dock, self.stats_dock)
        self.review_dock.raise_()
        # the scan gets the room: docks start narrow (a saved layout overrides this)
        w.resizeDocks([w.queue_dock, self.review_dock], [170, 330], Qt.Orientation.Horizontal)
        self.stats_dock.visibilityChanged.connect(lambda on: on and self._stats_timer.start())

        bar = w.menuBar()
        before = w.help_menu.menuAction()
        model_menu = self.model_menu = QMenu("&Model", w)
        bar.insertMenu(before, model_menu)
        model_menu.addAction(self.actions["load_model"])
        model_menu.addAction(self.actions["screen_again"])
        device_menu = model_menu.addMenu("&Device")
        for name in DEVICES:
            device_menu.addAction(self.actions[f"device_{name}"])
        review_menu = QMenu("&Review", w)
        bar.insertMenu(before, review_menu)
        groups = [
            ["accept", "reject", "toggle_anomalous", "delete_object"],
            ["draw_box", "draw_polygon", "finish_polygon", "take_back_vertex"],
            ["next_object", "previous_object", "zoom_selection", "toggle_overlay"],
            ["class_menu"],
            ["undo", "redo"],
            [f"decide_{d}" for d in DECISIONS] + ["edit_note", "next_unreviewed"],
            ["order_uncertainty", "order_added"],
            ["export", "export_stats", "save_project_to"],
            ["analyst_name"],
        ]
        self.class_menu = QMenu("&Class", w)
        self.class_keys = ClassKeys(
            self.actions, w.add_action, self.class_menu, leading=[self.actions["pick_class"]]
        )
        self.class_keys.chosen.connect(self.set_label)
        self.class_keys.set_classes(DEFAULT_CLASSES)
        for group in groups:
            for name in group:
                if name == "class_menu":
                    review_menu.addMenu(self.class_menu)
                else:
                    review_menu.addAction(self.actions[name])
            review_menu.addSeparator()
        review_menu.addAction(self.review_dock.toggleViewAction())
        review_menu.addAction(self.stats_dock.toggleViewAction())
        view_actions = w.view_menu.actions()
        after = view_actions.index(self.actions["zoom_out"]) + 1
        w.view_menu.insertAction(view_actions[after], self.actions["zoom_selection"])

    def _build_status(self) -> None:
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # busy indicator: screening time is not known in advance
        self.busy.setMaximumWidth(60)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.model_label = ElidedLabel("No model", max_width=220)
        status = self.window.statusBar()
        status.addPermanentWidget(self.busy)
        status.addPermanentWidget(self.model_label)

    # ----- model --------------------------------------------------------------------------
    def load_model(self, path: str | Path, device: str | None = None) -> None:
        """Load a bundle on the screening thread; the viewer keeps working meanwhile."""
        if device is not None:
            self.device = device
            self.actions[f"device_{device}"].setChecked(True)
        self.session.model_pending = True
        self._pending_name = Path(path).name
        self.model_label.setText(f"Loading model {self._pending_name}…")
        if self.session.model is None:
            self.panel.model_label.setText(f"Loading model {self._pending_name}…")
        self.screening.load_model(str(path), self.device)

    def load_model_dialog(self) -> None:
        start = str(self.window.settings.value("model/path", ""))
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Load a model bundle", start, BUNDLE_FILTER
        )
        if path:
            self.load_model(path)

    def set_device(self, device: str) -> None:
        self.device = device
        if self.session.model is not None:
            self.load_model(self.session.model.path)

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.session.use_model(info)
        self._loaded_device = self.device
        self.window.settings.setValue("model/path", info.path)
        reports = [self._use_model_classes(store) for store in self.session.stores.values()]
        if any(reports):
            self._banner(" ".join(r for r in reports if r))
        self._restore_thresholds()
        self._thresholds_timer.start()
        if not info.has_classifier:
            judged = "(no anomaly classifier)"
        elif set(info.judged) == set(info.categories):
            judged = "anomalies judged in every class"
        else:
            judged = f"anomalies judged in: {', '.join(info.judged)}"
        self.panel.model_label.setText(
            f"<b>{info.name}</b><br>{info.device} · {', '.join(info.categories)}<br>{judged}"
        )
        self._show_model_status()
        self.modelChanged.emit(info)
        self.refresh()
        self._request_screening()

    def _on_model_failed(self, path: str, message: str) -> None:
        self.session.model_pending = False
        self.busy.hide()
        if self.session.model is not None:  # the thread kept the model it had: carry on with it
            self.device = self._loaded_device
            self.actions[f"device_{self.device}"].setChecked(True)
            self._request_screening()
        else:
            self.panel.model_label.setText("No model loaded")
        self._banner(
            f"Could not load the model {path}. {message} The viewer keeps working without it."
        )
        self._show_model_status()
        self.modelFailed.emit(path, message)

    def _show_model_status(self) -> None:
        """The model line: name, device, and how long the scan on screen took to screen."""
        if self.session.model is None:
            pending = f"Loading model {self._pending_name}…" if self.session.model_pending else ""
            self.model_label.setText(pending or "No model")
            return
        text = f"{self.session.model.name} · {self.session.model.device}"
        store = self.session.store
        info = store.prediction_info(self.session.current_path) if store is not None else None
        if info is not None and info["total_ms"] is not None:
            text += f" · last scan {info['total_ms']:.0f} ms"
        self.model_label.setText(text)

    def _use_model_classes(self, store: ReviewStore) -> str:
        """Put the loaded model's classes in force in `store`; a line naming the classes its
        project uses that the model does not know ("" when none, or no model)."""
        if self.session.model is None:
            return ""
        unknown = store.use_classes(self.session.model.categories)
        return (
            unknown_classes_message(store.folder.name, self.session.model.name, unknown)
            if unknown
            else ""
        )

    def classes(self) -> list[str]:
        """The classes in force: the loaded model's, else the project's on screen, else the
        defaults (a project's objects of classes the model lacks keep their labels)."""
        return self.session.classes()

    def _offer_classes(self) -> None:
        """The class keys, the class picker and the class of the next drawn object follow the
        classes in force."""
        classes = self.classes()
        self.class_keys.set_classes(classes)
        self.panel.set_classes(classes)
        if classes and self.session.last_label not in classes:
            self.session.last_label = classes[0]
        self.panel.show_class(self.session.last_label)

    # ----- screening ----------------------------------------------------------------------
    def screen_again(self) -> None:
        """Screen the scan on screen again with the model loaded now."""
        if self.session.current_path is None:
            return
        if self.session.model is None:
            self._say("Load a model first (Ctrl+M)", 3000)
            return
        store = self.session.store
        if store is not None and store.has_verdicts(self.session.current_path):
            # the analyst's verdicts name findings by number: new findings would inherit them
            self._say("This bag has reviewed findings: undo them first to screen it again", 5000)
            return
        self.screening.want(self.session.screen_again())
        self.busy.show()

    def _request_screening(self) -> None:
        """Ask for the scan on screen, then the next few, unless the project has them already."""
        if self.session.model is None or self.session.current_path is None:
            return
        wanted = self.session.want_screening()
        self.screening.want(wanted)
        busy = self.screening.busy_path == self.session.current_path
        self.busy.setVisible(self.session.current_path in wanted or busy)

    def _on_screening_started(self, path: str) -> None:
        if path == self.session.current_path:
            self.busy.show()

    def _on_screened(self, path: str, result, generation: int) -> None:
        model = self.session.model
        if model is None or generation != model.generation:
            return  # made by a model that has since been replaced
        store = self.session.store_for(path)
        if store is not None:
            self.session.save(
                lambda: store.set_prediction(
                    path,
                    result,
                    device=model.device,
                    score_floor=SCORE_FLOOR,
                    score_threshold=model.score_threshold,
                    anomaly_threshold=model.anomaly_threshold,
                )
            )
        self._refresh_queue()
        if self.session.screened(path):  # on screen: the clock runs again
            self.busy.hide()
            self._show_model_status()
            self.refresh()
            self.resultShown.emit(path)

    def _on_screen_failed(self, path: str, message: str, generation: int) -> None:
        on_screen = self.session.screen_failed(path)  # nothing to wait for: the clock runs
        queue = self.window.queue
        index = queue.index_of(path)
        if index >= 0:
            queue.entries[index].error = message
            self._refresh_queue()
        if on_screen:
            self.busy.hide()
            self._banner(f"Could not screen {Path(path).name}. {message}")
        self.screenFailed.emit(path, message)

    # ----- the scan on screen -------------------------------------------------------------
    def _on_scan_shown(self, path: str) -> None:
        first_of_folder = self.session.opened(path) is None
        if path != self.session.current_path:
            self.panel.flush_note()  # the note of the scan left is saved with it
            if self.view.polygon_mode():  # a polygon is drawn on one scan
                self.toggle_polygon_mode(False)
            self.session.show_scan(path)
        if first_of_folder:
            self._restore_thresholds()
        self._show_model_status()
        self.refresh()
        self._request_screening()
        if self.session.has_prediction(path):
            self.resultShown.emit(path)

    def _end_visit(self) -> None:
        self.panel.flush_note()
        self.session.end_visit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keyboard and mouse input in this window: the analyst is at work (review time)."""
        if (
            event.type() in INPUT_EVENTS
            and isinstance(watched, QWidget)
            and watched.window() is self.window
        ):
            self.session.activity.touch()
        return False

    # ----- queue order --------------------------------------------------------------------
    def order_queue_by_uncertainty(self) -> None:
        """Least certain screened scans first, at the thresholds in force; unscreened ones
        after them as opened. A one-off order: it does not move while the analyst reviews."""
        queue = self.window.queue
        figures = {e.path: self.session.uncertainty(e.path) for e in queue.entries}
        queue.order_by(figures.__getitem__)
        self._refresh_queue()
        screened = sum(u is not None for u in figures.values())
        if screened:
            text = f"Queue ordered by uncertainty: {screened} screened scans, least certain first"
        else:
            text = "No screened scans to order yet: the queue keeps its order"
        self._say(text, 6000)

    def order_queue_as_added(self) -> None:
        """The queue back in the order the scans were opened."""
        self.window.queue.order_as_added()
        self._refresh_queue()

    # ----- thresholds ---------------------------------------------------------------------
    def thresholds(self) -> tuple[float, float | None]:
        """(score, anomaly) in force: the sliders; anomaly None while no model or project has
        given one (the stored findings keep the flags their model gave them)."""
        score, anomaly = self.panel.thresholds()
        return score, anomaly if self._anomaly_known else None

    def _on_thresholds_moved(self, _score: float, _anomaly: float) -> None:
        self.refresh()
        self._refresh_queue()  # which bags alarm follows them
        self._thresholds_timer.start()

    def _restore_thresholds(self) -> None:
        """Set the sliders for the project on screen (`ReviewSession.thresholds_to_show`).
        No model call: shown at once."""
        chosen = self.session.thresholds_to_show()
        if chosen is None:
            return
        score, anomaly = chosen
        self._anomaly_known = anomaly is not None
        self.panel.set_thresholds(score, anomaly if anomaly is not None else 0.0)
        self._refresh_queue()  # alarms at these thresholds

    def _keep_thresholds(self) -> None:
        """Save the thresholds in force with the open projects (a restart shows them)."""
        self._thresholds_timer.stop()
        self.session.keep_thresholds()

    # ----- drawing the scan's review ------------------------------------------------------
    @contextmanager
    def _redraw_after(self) -> Iterator[None]:
        """Session changes in this block draw nothing: the caller redraws once after it."""
        self._redrawing, before = True, self._redrawing
        try:
            yield
        finally:
            self._redrawing = before

    def refresh(self) -> None:
        """Redraw overlay and dock from the store: no model call, ever."""
        self.panel.flush_note()  # a note still being typed is saved before it is redrawn
        self._offer_classes()
        store = self.session.store
        if store is None or self.window.current_scan is None:
            self.overlay.clear()
            self.panel.show_objects([], None)
            self.panel.show_bag(None, "", "")
            self._update_actions()
            return
        try:
            objects = self.objects()
        except (KeyError, TypeError, ValueError) as exc:  # a hand-edited or damaged record
            self._banner(
                f"The review record of {Path(self.session.current_path).name} is damaged "
                f"({exc!r}); {store.project_path} needs repair. Its findings are not shown."
            )
            objects = []
        with self._redraw_after():
            self.session.keep_selection_among(objects)
        self.overlay.show_objects(objects, self.session.selected)
        self.panel.show_objects(objects, self.session.selected)
        chosen = next(
            (o.label for o in objects if o.id == self.session.selected), self.session.last_label
        )
        self.panel.show_class(chosen)
        self.window.refresh_readout()
        keys = self.session.queue_keys(store)
        reviewed = sum(store.is_reviewed(k) for k in keys)
        self.panel.show_bag(
            store.decision(self.session.current_path),
            store.note(self.session.current_path),
            f"{reviewed} of {len(keys)} scan{'' if len(keys) == 1 else 's'} reviewed",
        )
        self._update_actions()
        if self.stats_dock.isVisible():
            self._stats_timer.start()

    def clear(self) -> None:
        self.panel.flush_note()
        self.session.clear()
        self.overlay.clear()
        self.panel.show_objects([], None)
        self.panel.show_bag(None, "", "")
        self.screening.want([])
        self.busy.hide()
        self._update_actions()

    def _update_actions(self) -> None:
        actions = self.actions
        has_scan = self.session.current_path is not None and self.session.store is not None
        has_object = has_scan and self.session.selected is not None
        for name in ("accept", "reject", "toggle_anomalous", "delete_object"):
            actions[name].setEnabled(has_object)
        self.class_keys.set_enabled(has_scan)
        actions["pick_class"].setEnabled(has_scan)
        drawing = self.view.polygon_mode()
        actions["finish_polygon"].setEnabled(drawing)
        actions["take_back_vertex"].setEnabled(drawing)
        for name in (
            "draw_box",
            "draw_polygon",
            "next_object",
            "previous_object",
            "zoom_selection",
            "edit_note",
            "export",
        ):
            actions[name].setEnabled(has_scan)
        decision = self.session.decision() if has_scan else None
        for d in DECISIONS:
            actions[f"decide_{d}"].setEnabled(has_scan)
            actions[f"decide_{d}"].setChecked(decision == d)
        store = self.session.store
        actions["undo"].setEnabled(bool(store and store.can_undo()))
        actions["redo"].setEnabled(bool(store and store.can_redo()))
        actions["undo"].setToolTip(store.undo_text() if store and store.can_undo() else "Undo")
        actions["redo"].setToolTip(store.redo_text() if store and store.can_redo() else "Redo")
        actions["screen_again"].setEnabled(has_scan and self.session.model is not None)

    # ----- selection ----------------------------------------------------------------------
    def select(self, obj_id: str | None) -> None:
        self.session.select(obj_id)

    def select_step(self, delta: int) -> None:
        """Select the next (or previous) drawn object, wrapping around."""
        self.session.select_step(delta)

    def _on_selection_changed(self, _obj_id: str | None) -> None:
        if not self._redrawing:
            self.refresh()
            self._show_selection()

    def zoom_to_selected(self) -> None:
        """Fit the view to the selected finding's box with a margin (Z); say so without one."""
        obj = next((o for o in self.overlay.objects() if o.id == self.session.selected), None)
        if obj is None:
            self._say("Select a finding to zoom to first (click it or press ])", 3000)
            return
        self.view.fit_box(obj.box_xyxy)

    def _on_view_clicked(self, x: float, y: float) -> None:
        if self.view.draw_mode():
            return
        hit = self.overlay.object_at(x, y)
        self.select(hit.id if hit is not None else None)

    def hover_text(self, x: int, y: int) -> str:
        """Details of the object under the cursor, for the status bar read-out."""
        hit = self.overlay.object_at(x + 0.5, y + 0.5)
        return describe(hit, short=True) if hit is not None else ""

    # ----- analyst actions ----------------------------------------------------------------
    def _apply(self, action: Callable[[], object]):
        """Run a session action on the scan on screen, then redraw once; what it returned."""
        self.panel.flush_note()  # the note typed so far comes first, in saving and in undo
        store = self.session.store
        if store is None or self.session.current_path is None:
            return None
        with self._redraw_after():
            result = action()
        self._refresh_queue()  # ✓ follows decisions
        self.refresh()
        if not self.session.refused:
            self._show_selection()
        self.reviewChanged.emit(store.key(self.session.current_path))
        return result

    def _show_selection(self) -> None:
        """The status-bar line about the selected object as it is now; none without one."""
        obj = next((o for o in self.overlay.objects() if o.id == self.session.selected), None)
        if obj is None:
            self.window.statusBar().clearMessage()
        else:
            self._say(describe(obj), 5000)

    def _on_selected(self, action: Callable[[], object]) -> None:
        """Run an action on the selected object; say how to select one without one."""
        if self.session.selected is None:
            self._say("Select a finding first (click it or press ])", 3000)
            return
        self._apply(action)

    def accept(self) -> None:
        self._on_selected(self.session.accept)

    def reject(self) -> None:
        self._on_selected(self.session.reject)

    def toggle_anomalous(self) -> None:
        if self.session.selected is None or self.session.selected_object() is not None:
            self._on_selected(self.session.toggle_anomalous)

    def set_label(self, label: str) -> None:
        """The class of the selected object and of the objects drawn next (Ctrl+1…9, the Class
        menu, the class picker); with nothing selected, of the objects drawn next."""
        if self.session.selected is None:
            self.session.set_label(label)
            self.panel.show_class(label)
            self._say(f"Objects you draw now are {label} (B: box, P: polygon)", 4000)
            return
        self._on_selected(lambda: self.session.set_label(label))

    def pick_class(self) -> None:
        """Open the class picker's list (K): type a name's first letters, Enter takes it."""
        self.review_dock.show()
        self.review_dock.raise_()
        self.panel.class_combo.showPopup()

    def delete_selected(self) -> None:
        self._on_selected(self.session.delete_selected)

    def _on_box_edited(self, obj_id: str, box: tuple[float, float, float, float]) -> None:
        self._apply(lambda: self.session.set_box(obj_id, box))

    def toggle_draw_mode(self, on: bool) -> None:
        """Draw mode on or off (the B key toggles it): a left drag then adds a box, and the
        selected box loses its handles, so the drag can never move it instead."""
        if on and self.view.polygon_mode():
            self.toggle_polygon_mode(False)
        self.view.set_draw_mode(bool(on))
        self.overlay.set_editable(not on)
        self.actions["draw_box"].setChecked(bool(on))
        if on:
            self._say(
                f"Drag a box around the missed object, a {self.session.last_label} (Esc: cancel)",
                4000,
            )

    def toggle_polygon_mode(self, on: bool) -> None:
        """Polygon mode on or off (P): clicks add vertices, Enter, a double-click or a click on
        the first vertex closes the polygon, Backspace takes a vertex back, Esc cancels. No
        handles meanwhile, as in draw mode, so a click never grabs an object instead."""
        if on and self.view.draw_mode():
            self.toggle_draw_mode(False)
        self.view.set_polygon_mode(bool(on))
        self.overlay.set_editable(not on)
        self.actions["draw_polygon"].setChecked(bool(on))
        self._update_actions()
        if on:
            self.view.setFocus()
            self._say(
                f"Click round the missed object, a {self.session.last_label}: Enter, a "
                "double-click or the first point closes the polygon, Backspace takes back a "
                "point, Esc cancels",
                8000,
            )

    def finish_polygon(self) -> None:
        """Close the polygon being drawn (Enter); say so when it has fewer than three points."""
        if not self.view.finish_polygon():
            self._say("A polygon needs three points at least: click more, or Esc to cancel", 4000)

    def take_back_vertex(self) -> None:
        self.view.take_back_vertex()

    def set_overlay_shown(self, on: bool) -> None:
        """Show or hide the findings over the scan (V): the scan alone, then back."""
        self.overlay.set_shown(bool(on))
        self.actions["toggle_overlay"].setChecked(bool(on))
        if not on:
            self._say("Findings hidden: V shows them again", 3000)

    def _on_image_shown(self, name: str) -> None:
        """Under the material functions masks are outlined: the object shows through."""
        self.overlay.set_mask_style("outline" if name in OUTLINE_FUNCTIONS else "fill")

    def leave_mode(self) -> bool:
        """Leave draw mode, or polygon mode dropping the polygon being drawn (Esc); False when
        in neither."""
        if self.view.polygon_mode():
            self.toggle_polygon_mode(False)
        elif self.view.draw_mode():
            self.toggle_draw_mode(False)
        else:
            return False
        self.window.statusBar().clearMessage()
        return True

    def _on_box_drawn(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.toggle_draw_mode(False)
        if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
            return
        self._drawn(self._apply(lambda: self.session.add_box((x0, y0, x1, y1))))

    def _on_polygon_drawn(self, points: list[tuple[float, float]]) -> None:
        self.toggle_polygon_mode(False)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if max(xs) - min(xs) < MIN_BOX_PX or max(ys) - min(ys) < MIN_BOX_PX:
            return
        self._drawn(self._apply(lambda: self.session.add_polygon(points)))

    def _drawn(self, new_id: str | None) -> None:
        """Select a drawn object and say how to change its class at once."""
        if new_id:
            self.select(new_id)
            self._say(
                f"{self.window.statusBar().currentMessage()} — {self.class_keys.keys_text()}, "
                "K or the Class list change the class, T marks it anomalous",
                5000,
            )

    def _on_polygon_edited(self, obj_id: str, points: list[tuple[float, float]]) -> None:
        self._apply(lambda: self.session.set_polygon(obj_id, points))

    def decide(self, decision: str) -> None:
        if self.session.store is not None and self.session.current_path is not None:
            self._apply(lambda: self.session.decide(decision))

    def _on_note_edited(self, text: str) -> None:
        if self.session.set_note(text):
            self._update_actions()

    def _on_note_typed(self, text: str) -> None:
        """Every keystroke of a note is on disk at once (the store's note journal)."""
        self.session.stage_note(text)

    def focus_note(self) -> None:
        self.review_dock.show()
        self.review_dock.raise_()
        self.panel.note.setFocus()

    def undo(self) -> None:
        self._history(self.session.undo)

    def redo(self) -> None:
        self._history(self.session.redo)

    def _history(self, step: Callable[[], str | None]) -> None:
        # a note still waiting for its pause is the latest edit: saved first, it is what undo
        # takes back (saved after, it would be a new edit that empties the redo history)
        self.panel.flush_note()
        store = self.session.store
        if store is None:
            return
        key = step()
        if key and key != store.key(self.session.current_path):
            index = self.window.queue.index_of(store.folder / key)
            if index >= 0:
                self.window.show_index(index)  # show the scan the undone action was on
        self._refresh_queue()
        self.refresh()
        self._show_selection()
        if key:
            self.reviewChanged.emit(key)

    def next_unreviewed(self) -> None:
        """Go to the next scan the queue shows without a decision, wrapping around."""
        queue = self.window.queue
        index = self.session.next_unreviewed()
        if index is not None:
            if index != queue.current:
                self.window.show_index(index)
            return
        if queue.filter == "all":
            text = "Every scan in the queue is reviewed"
        else:
            text = f"No unreviewed scan among the {QUEUE_FILTERS[queue.filter].lower()} shown"
        self._say(text, 4000)

    # ----- the analyst's name -------------------------------------------------------------
    @property
    def analyst(self) -> str | None:
        """The analyst's name kept in the settings; None while none is (the login signs)."""
        return kept_analyst(self.window.settings)

    def signature(self) -> str:
        """The name reviews are signed with now."""
        return self.analyst or login_name()

    def set_analyst(self, name: str) -> bool:
        """Keep `name` in the settings and sign with it from now on, in every open project;
        False (and a message) when it is no name."""
        try:
            name = keep_analyst(self.window.settings, name)
        except ValueError as exc:
            self._say(str(exc), 4000)
            return False
        self.session.sign_as(name)
        self._show_analyst()
        self._say(f"Reviews are signed by {name}", 4000)
        return True

    def _show_analyst(self) -> None:
        """The analyst-name action says who signs now (menu tooltip and status tip)."""
        text = f"Reviews are signed by {self.signature()}"
        self.actions["analyst_name"].setToolTip(text)
        self.actions["analyst_name"].setStatusTip(text)

    def ask_analyst(self, *, first_start: bool = False) -> bool:
        """Ask for the analyst's name in a dialog; True when a name was given and kept."""
        dialog = AnalystDialog(self.analyst or "", self.window, first_start=first_start)
        accepted = bool(dialog.exec())
        dialog.deleteLater()
        return accepted and self.set_analyst(dialog.name())

    def ask_analyst_at_first_start(self) -> bool:
        """At start: ask for the name when none is kept, never when headless (nobody answers);
        without one the login name signs. True when a name was given."""
        if self.analyst is not None or headless():
            return False
        if self.ask_analyst(first_start=True):
            return True
        self._say(f"Reviews are signed by {login_name()}: Review ▸ Analyst name… sets yours", 8000)
        return False

    # ----- export and statistics ----------------------------------------------------------
    def export(
        self,
        fmt: str,
        destination: str | Path,
        *,
        reviewed_only: bool = True,
        include_hidden: bool = False,
    ) -> Path:
        """Write the current folder's review as coco, voc or yolo: the reviewed objects, or what
        was shown at the thresholds in force (everything, hidden findings too, on request)."""
        from xray_gui.review import export_coco, export_voc, export_yolo

        store = self.session.store
        if store is None:
            raise ReviewError("Open a scan first: exports are per folder of scans")
        writer = {"coco": export_coco, "voc": export_voc, "yolo": export_yolo}[fmt]
        score, anomaly = self.thresholds()
        return writer(
            store,
            Path(destination),
            reviewed_only=reviewed_only,
            include_hidden=include_hidden,
            score_threshold=score,
            anomaly_threshold=anomaly,
        )

    def export_dialog(self) -> None:
        from xray_gui.export_dialog import ExportDialog

        store = self.session.store
        if store is None:
            return
        dialog = ExportDialog(store.folder, self.window.settings, self.window, self.thresholds())
        if not dialog.exec():
            return
        fmt, destination, scope = dialog.choice()
        try:
            written = self.export(
                fmt,
                destination,
                reviewed_only=scope == "reviewed",
                include_hidden=scope == "all",
            )
        except (ReviewError, OSError, ValueError) as exc:
            self._banner(f"Export failed: {exc}")
            return
        self._say(f"Exported to {written}", 6000)

    def _refresh_stats(self) -> None:
        from xray_gui.review import review_stats

        store = self.session.store
        if store is None:
            self.stats.clear()
        else:
            score, anomaly = self.thresholds()
            self.stats.set_stats(
                review_stats(
                    store,
                    score_threshold=score,
                    anomaly_threshold=anomaly,
                    keys=self.session.queue_keys(store),
                )
            )

    def export_stats_dialog(self) -> None:
        from xray_gui.review import write_stats_csv

        store = self.session.store
        if store is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export statistics", str(store.folder / "review-stats.csv"), "CSV (*.csv)"
        )
        if path:
            try:
                write_stats_csv(store, Path(path))
            except OSError as exc:
                self._banner(f"Could not write {path}: {exc}")

    def save_project_to_dialog(self) -> None:
        store = self.session.store
        if store is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save review project to", str(store.project_path), "Review (*.json)"
        )
        if path:
            self.session.save(lambda: store.move_to(Path(path)))

    def heartbeat(self) -> None:
        """Show other instances that this one still holds its projects; say when one was lost."""
        self.session.heartbeat()

    def settle(self) -> None:
        """Run the debounced refreshes now (statistics, kept thresholds), so what is drawn next
        does not depend on how fast the machine is (a screenshot, a test)."""
        for timer, work in (
            (self._stats_timer, self._refresh_stats),
            (self._thresholds_timer, self._keep_thresholds),
        ):
            if timer.isActive():
                timer.stop()
                work()

    def shutdown(self) -> None:
        """Save what is pending, release the projects and stop the screening thread."""
        self._end_visit()
        QApplication.instance().removeEventFilter(self)
        if self._thresholds_timer.isActive():
            self._keep_thresholds()
        self._heartbeat_timer.stop()
        for kept in self.session.close():  # taken over with a change unsaved: kept aside
            print(f"xray-gui: unsaved review work kept in {kept}", file=sys.stderr)
        self.screening.stop()


def _scrolling(widget: QWidget) -> QScrollArea:
    """A dock's contents in a scroll area, so a small window or screen is never forced larger."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area
