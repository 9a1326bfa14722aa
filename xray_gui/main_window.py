"""The main window: menu, toolbar, scan queue, viewer and status bar.

Scans load and image functions run on an ImageWorker thread; this class only sends requests,
keeps request numbers, and draws what comes back for the scan still on screen.
"""

from __future__ import annotations

from collections import OrderedDict
from html import escape
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.enhance import IMAGE_FUNCTIONS
from engine.io import Scan
from xray_gui.improved_models import ImprovedModels
from xray_gui.readout import pixel_readout
from xray_gui.reviewer import Reviewer
from xray_gui.scan_queue import QUEUE_FILTERS, ScanQueue
from xray_gui.viewer import ScanView
from xray_gui.widgets import ElidedLabel, ErrorBanner, OpenPrompt, QueuePanel
from xray_gui.workers import WorkerThread

ICON = Path(__file__).resolve().parents[1] / "resources" / "icons" / "xray-screening.svg"
MAX_RECENT = 10
SCAN_FILTER = "Scans (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.dcm *.dcs *.dicom);;All files (*)"
CACHE_BYTES = 768 * 1024 * 1024

# One key per image function; pressing it again returns to the plain image.
SHORT_NAMES = {
    "greyscale": "Grey",
    "negative": "Neg",
    "organic": "Org",
    "inorganic": "Inorg",
    "metal": "Metal",
    "high_penetration": "Hi-pen",
    "low_penetration": "Lo-pen",
    "edges": "Edge",
    "contrast": "Contrast",
}
FUNCTION_KEYS = {
    "greyscale": "G",
    "negative": "N",
    "organic": "O",
    "inorganic": "I",
    "metal": "M",
    "high_penetration": "H",
    "low_penetration": "L",
    "edges": "E",
    "contrast": "C",
}


class MainWindow(QMainWindow):
    """The analyst's window onto a queue of bag scans."""

    scanShown = Signal(str)  # path of the scan now on screen
    scanFailed = Signal(str, str)  # path, one-line message
    imageShown = Signal(str)  # name of the image function on screen ("plain" by default)
    _loadRequested = Signal(int, str)
    _enhanceRequested = Signal(int, str, object)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("X-ray Screening")
        if ICON.is_file():
            self.setWindowIcon(QIcon(str(ICON)))
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.queue = ScanQueue()
        self.current_scan: Scan | None = None
        self.current_function = "plain"
        self._shown_image: np.ndarray | None = None
        self._cache: OrderedDict[str, Scan] = OrderedDict()
        self._load_id = 0
        self._pending_path: str | None = None
        self._enhance_id = 0
        self._scan_text = "No scan"  # the status-bar description of the scan on screen
        self._hovered = (-1, -1)  # the scan pixel under the cursor, (-1, -1) off the scan

        self._workers = WorkerThread()
        worker = self._workers.worker
        worker.loaded.connect(self._on_loaded)
        worker.loadFailed.connect(self._on_load_failed)
        worker.enhanced.connect(self._on_enhanced)
        worker.enhanceFailed.connect(self._on_enhance_failed)
        # Queued connections: the slots run in the worker's thread, never on this one.
        self._loadRequested.connect(worker.load, Qt.ConnectionType.QueuedConnection)
        self._enhanceRequested.connect(worker.enhance, Qt.ConnectionType.QueuedConnection)

        self._build_central()
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self.review = Reviewer(self)  # screening, overlay and review: docks, menus, actions
        self.models = ImprovedModels(self)  # Model ▸ Improve from reviews… and History…
        self._restore_layout()

    # ----- construction -------------------------------------------------------------------
    def _build_central(self) -> None:
        self.view = ScanView()
        self.view.pixelHovered.connect(self._on_pixel_hovered)
        self.view.zoomChanged.connect(self._on_zoom_changed)
        self.prompt = OpenPrompt()
        self.prompt.openFilesRequested.connect(self.open_files_dialog)
        self.prompt.openFolderRequested.connect(self.open_folder_dialog)
        self.failed_page = QLabel()
        self.failed_page.setObjectName("failedPage")
        self.failed_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.failed_page.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.prompt)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.failed_page)
        self.error_banner = ErrorBanner()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.queue_panel = QueuePanel()
        self.queue_panel.currentRowChanged.connect(self._on_queue_row)
        self.queue_panel.filter_box.filterChosen.connect(self.set_queue_filter)
        queue_area = QWidget()
        queue_layout = QVBoxLayout(queue_area)
        queue_layout.setContentsMargins(0, 0, 0, 0)
        queue_layout.setSpacing(2)
        queue_layout.addWidget(self.queue_panel.filter_box)
        queue_layout.addWidget(self.queue_panel, 1)
        self.queue_dock = QDockWidget("Scan queue", self)
        self.queue_dock.setObjectName("queueDock")
        self.queue_dock.setWidget(queue_area)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.queue_dock)

    def add_action(
        self,
        name: str,
        text: str,
        slot,
        shortcut: str | None = None,
        tip: str | None = None,
        checkable: bool = False,
    ) -> QAction:
        """A window-wide action named `name` in `actions`, its shortcut in its tooltip."""
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip or text} ({shortcut})" if shortcut else (tip or text))
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions[name] = action
        return action

    _action = add_action  # the name improved_models.py still calls it by

    def _build_actions(self) -> None:
        a = self.add_action
        a("open_files", "&Open files…", self.open_files_dialog, "Ctrl+O").setIconText("Open")
        a("open_folder", "Open &folder…", self.open_folder_dialog, "Ctrl+Shift+O").setIconText(
            "Folder"
        )
        a("clear_queue", "Clear queue", self.clear_queue)
        a("quit", "&Quit", self.close, "Ctrl+Q")
        a("previous", "&Previous scan", lambda: self.step(-1), "A").setIconText("◀ Prev")
        a("next", "&Next scan", lambda: self.step(1), "D").setIconText("Next ▶")
        a("fit", "&Fit to window", self.view.fit, "F").setIconText("Fit")
        a("one_to_one", "&1:1 pixels", self.view.one_to_one, "1").setIconText("1:1")
        a("zoom_in", "Zoom &in", lambda: self.view.zoom_by(1.25), "=")
        a("zoom_out", "Zoom &out", lambda: self.view.zoom_by(0.8), "-")
        a(
            "plain",
            "&Plain image",
            self.escape,
            "Esc",
            tip="Back to the plain image (leaves draw mode first)",
        ).setIconText("Plain")
        self.function_group = QActionGroup(self)
        self.function_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for name, key in FUNCTION_KEYS.items():
            fn = IMAGE_FUNCTIONS[name]
            act = a(
                f"fn_{name}",
                fn.title,
                lambda _=False, n=name: self.toggle_function(n),
                key,
                tip=f"{fn.title}: from the {fn.uses}",
                checkable=True,
            )
            act.setIconText(SHORT_NAMES[name])
            self.function_group.addAction(act)
        a("shortcuts", "&Keyboard shortcuts", self.show_shortcuts, "F1")
        a("about", "&About", self.show_about)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.actions["open_files"])
        file_menu.addAction(self.actions["open_folder"])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.actions["clear_queue"])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["quit"])
        view_menu = self.view_menu = bar.addMenu("&View")
        for name in ("previous", "next", None, "fit", "one_to_one", "zoom_in", "zoom_out"):
            if name is None:
                view_menu.addSeparator()
            else:
                view_menu.addAction(self.actions[name])
        view_menu.addSeparator()
        view_menu.addAction(self.queue_dock.toggleViewAction())
        image_menu = bar.addMenu("&Image")
        image_menu.addAction(self.actions["plain"])
        image_menu.addSeparator()
        for name in FUNCTION_KEYS:
            image_menu.addAction(self.actions[f"fn_{name}"])
        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.actions["shortcuts"])
        self.help_menu.addAction(self.actions["about"])

        tools = self.addToolBar("Main")
        tools.setObjectName("mainToolbar")
        for name in (
            "open_files",
            "open_folder",
            None,
            "previous",
            "next",
            None,
            "fit",
            "one_to_one",
            None,
            "plain",
        ):
            if name is None:
                tools.addSeparator()
            else:
                tools.addAction(self.actions[name])
        functions = self.addToolBar("Image functions")
        functions.setObjectName("functionToolbar")
        for name in FUNCTION_KEYS:
            functions.addAction(self.actions[f"fn_{name}"])

    def _build_status_bar(self) -> None:
        # the read-out gets the room; the scan and model lines shorten with "…" (full in tooltip)
        self.readout_label = ElidedLabel(mode=Qt.TextElideMode.ElideRight)
        self.zoom_label = QLabel()
        self.scan_label = ElidedLabel("No scan", max_width=220, mode=Qt.TextElideMode.ElideRight)
        self.zoom_label.setToolTip("Zoom: screen pixels per scan pixel")
        status = self.statusBar()
        status.addWidget(self.readout_label, 1)
        status.addPermanentWidget(self.zoom_label)
        status.addPermanentWidget(self.scan_label)

    # ----- settings -----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent/files", [])
        if isinstance(value, str):  # QSettings gives a str for a one-item list in INI files
            value = [value]
        return [str(v) for v in value or []]

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent/files", [path, *recent][:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(
                "Clear list", lambda: self.settings.setValue("recent/files", [])
            )
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def closeEvent(self, event) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.models.shutdown()
        self.review.shutdown()
        self._workers.stop()
        super().closeEvent(event)

    # ----- opening scans ------------------------------------------------------------------
    def open_files_dialog(self) -> None:
        start = str(self.settings.value("recent/folder", ""))
        paths, _ = QFileDialog.getOpenFileNames(self, "Open scans", start, SCAN_FILTER)
        if paths:
            self.settings.setValue("recent/folder", str(Path(paths[0]).parent))
            self.open_paths(paths)

    def open_folder_dialog(self) -> None:
        start = str(self.settings.value("recent/folder", ""))
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of scans", start)
        if folder:
            self.settings.setValue("recent/folder", folder)
            self.open_paths([folder])

    def open_paths(self, paths: list[str | Path]) -> None:
        """Queue files and folders and show the first of them."""
        missing = [str(p) for p in paths if not Path(p).exists()]
        try:
            indices = self.queue.add([p for p in paths if Path(p).exists()])
        except OSError as exc:
            self.error_banner.show_message(f"Cannot read folder: {exc}")
            return
        if missing:
            self.error_banner.show_message("Not found: " + ", ".join(missing))
        self.queue_panel.refresh(self.queue)
        if indices:
            self.show_index(indices[0])
        elif not missing:
            self.error_banner.show_message("No scans found in " + ", ".join(map(str, paths)))

    def clear_queue(self) -> None:
        self.queue.clear()
        self.queue_panel.refresh(self.queue)
        self.current_scan = None
        self._shown_image = None
        self._load_id += 1
        self._workers.worker.supersede(load_id=self._load_id)
        self.review.clear()
        self.view.clear()
        self.stack.setCurrentWidget(self.prompt)
        self._scan_text = "No scan"
        self.scan_label.setText(self._scan_text)

    def step(self, delta: int) -> None:
        """Show the scan `delta` places on among those the queue's filter shows."""
        target = self.queue.step(delta)
        if target is not None:
            self.show_index(target)
            return
        text = "End of queue" if delta > 0 else "Start of queue"
        if self.queue.filter != "all":
            text += f" (showing {QUEUE_FILTERS[self.queue.filter].lower()} scans)"
        self.statusBar().showMessage(text, 2000)

    def set_queue_filter(self, name: str) -> None:
        """Show only the scans filter `name` passes (all, unreviewed, alarms or decided)."""
        self.queue.set_filter(name)
        self.queue_panel.refresh(self.queue)

    def show_index(self, index: int) -> None:
        """Make queue entry `index` current and load it (from the cache when possible)."""
        if not 0 <= index < len(self.queue):
            return
        self.queue.current = index
        self.queue_panel.refresh(self.queue)
        path = str(self.queue.entries[index].path)
        self._load_id += 1
        self._workers.worker.supersede(load_id=self._load_id)
        cached = self._cache.get(path)
        if cached is not None:
            self._cache.move_to_end(path)
            self._show_scan(cached, path)
            return
        self._pending_path = path
        self.scan_label.setText(f"Loading {Path(path).name}…")
        self._loadRequested.emit(self._load_id, path)

    def _on_queue_row(self, row: int) -> None:
        if row >= 0 and row != self.queue.current:
            self.show_index(row)

    def _on_loaded(self, request_id: int, scan: Scan, seconds: float) -> None:
        if request_id != self._load_id:
            return  # the analyst moved on
        path = self._pending_path or scan.meta.path
        self._remember(path, scan)
        entry = self.queue.current_entry
        if entry is not None and entry.error:
            entry.error = None
            self.queue_panel.refresh(self.queue)
        self._show_scan(scan, path)
        self.statusBar().showMessage(f"Loaded in {seconds * 1000:.0f} ms", 3000)

    def _remember(self, path: str, scan: Scan) -> None:
        self._cache[path] = scan
        while len(self._cache) > 1 and sum(_nbytes(s) for s in self._cache.values()) > CACHE_BYTES:
            self._cache.popitem(last=False)

    def _on_load_failed(self, request_id: int, path: str, message: str) -> None:
        index = self.queue.index_of(path)
        if index >= 0:
            self.queue.entries[index].error = message
        if request_id == self._load_id:
            self._show_failed(path, message)
        self.error_banner.show_message(f"Could not open scan. {message}")
        self.scanFailed.emit(path, message)

    def _show_failed(self, path: str, message: str) -> None:
        """The queue's current entry could not be opened: it is what the window shows (a page
        saying so) and acts on (nothing to review), so A and D move on from it."""
        self._pending_path = None
        self.current_scan = None
        self._shown_image = None
        self._enhance_id += 1
        self._workers.worker.supersede(enhance_id=self._enhance_id)
        self.current_function = "plain"
        self._uncheck_functions()
        self.review.clear()
        self.view.clear()
        name = Path(path).name
        self.failed_page.setText(
            f"<h3>Cannot open {escape(name)}</h3><p>{escape(message)}</p>"
            "<p>A / D: previous / next scan</p>"
        )
        self.stack.setCurrentWidget(self.failed_page)
        self.queue_panel.refresh(self.queue)
        pos = f"{self.queue.current + 1}/{len(self.queue)}" if len(self.queue) else ""
        self._scan_text = f"{pos}  {name}  — could not open"
        self.scan_label.setText(self._scan_text)
        self.readout_label.setText("")
        self.setWindowTitle(f"{name} — X-ray Screening")

    def _show_scan(self, scan: Scan, path: str) -> None:
        self.current_scan = scan
        self._pending_path = None
        self.current_function = "plain"
        self._uncheck_functions()
        self._hovered = (-1, -1)  # the view is fitted anew: the cursor is over another pixel
        self._set_shown(scan.image, reset_view=True)
        self._hovered = self.view.pixel_under_cursor() or (-1, -1)
        self.stack.setCurrentWidget(self.view)
        self.error_banner.hide()
        self._add_recent(path)
        channels = "+".join(scan.channels)
        pos = f"{self.queue.current + 1}/{len(self.queue)}" if len(self.queue) else ""
        self._scan_text = (
            f"{pos}  {Path(path).name}  {scan.width}×{scan.height}  {scan.meta.format}  {channels}"
        )
        self.scan_label.setText(self._scan_text)
        self.setWindowTitle(f"{Path(path).name} — X-ray Screening")
        self.scanShown.emit(path)
        self.imageShown.emit("plain")

    def _set_shown(self, image: np.ndarray, *, reset_view: bool) -> None:
        self._shown_image = image
        self.view.set_image(image, reset_view=reset_view)
        self.refresh_readout()  # never the previous scan's values under a still cursor

    # ----- image functions ----------------------------------------------------------------
    def escape(self) -> None:
        """Esc: leave draw mode when in it, else back to the plain image."""
        review = getattr(self, "review", None)
        if review is not None and review.leave_mode():
            return
        self.set_function("plain")

    def toggle_function(self, name: str) -> None:
        """Switch to image function `name`, or back to the plain image if it is on already."""
        self.set_function("plain" if name == self.current_function else name)

    def set_function(self, name: str) -> None:
        if name != "plain" and name not in IMAGE_FUNCTIONS:
            raise ValueError(f"unknown image function {name!r}")
        scan = self.current_scan
        self._enhance_id += 1
        self._workers.worker.supersede(enhance_id=self._enhance_id)
        self.current_function = name
        if name == "plain":
            self._uncheck_functions()
        else:
            self.actions[f"fn_{name}"].setChecked(True)
        if scan is None:
            self.current_function = "plain"
            self._uncheck_functions()
            return
        if name == "plain":
            self._set_shown(scan.image, reset_view=False)
            self.imageShown.emit("plain")
            return
        self.statusBar().showMessage(f"{IMAGE_FUNCTIONS[name].title}…")
        self._enhanceRequested.emit(self._enhance_id, name, scan)

    def _uncheck_functions(self) -> None:
        for name in FUNCTION_KEYS:
            self.actions[f"fn_{name}"].setChecked(False)

    def _on_enhanced(self, request_id: int, name: str, image: np.ndarray) -> None:
        if request_id != self._enhance_id or name != self.current_function:
            return
        self._set_shown(image, reset_view=False)
        self.statusBar().showMessage(IMAGE_FUNCTIONS[name].title, 2000)
        self.imageShown.emit(name)

    def _on_enhance_failed(self, request_id: int, name: str, message: str) -> None:
        if request_id == self._enhance_id:
            self.set_function("plain")
        self.error_banner.show_message(f"Image function failed. {message}")

    # ----- read-outs ----------------------------------------------------------------------
    def refresh_readout(self) -> None:
        """Read out the pixel under the cursor again: the scan, image or overlay changed."""
        self._on_pixel_hovered(*self._hovered)

    def _on_pixel_hovered(self, x: int, y: int) -> None:
        self._hovered = (x, y)
        if self.current_scan is None or self._shown_image is None or x < 0:
            self.readout_label.setText("")
            return
        text = pixel_readout(self.current_scan, self._shown_image, x, y)
        if not text:  # the cursor was over a pixel this scan does not have
            self.readout_label.setText("")
            return
        found = self.review.hover_text(x, y)
        self.readout_label.setText(f"{text}  ▸ {found}" if found else text)

    def _on_zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if self.view.has_image() else "")

    # ----- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # ----- help ---------------------------------------------------------------------------
    def shortcut_table(self) -> list[tuple[str, str]]:
        """(shortcut, action) for every action that has a shortcut, as Help lists them."""
        rows = []
        for action in self.actions.values():
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            key = ", ".join(k for k in keys if k)
            if key:
                rows.append((key, action.text().replace("&", "")))
        return rows

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{k}</b></td><td>{t}</td></tr>" for k, t in self.shortcut_table()
        )
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table cellspacing=4>{rows}</table>")
        box.setModal(False)
        box.show()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About X-ray Screening",
            "<b>X-ray Screening</b> — the analyst's workstation for X-ray baggage screening."
            "<br>Object-wise anomaly detection after Gaus et al., IJCNN 2019.",
        )


def _nbytes(scan: Scan) -> int:
    return sum(a.nbytes for a in (scan.image, scan.low, scan.high, scan.zeff) if a is not None)
