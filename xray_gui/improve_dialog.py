"""Model ▸ Improve from reviews…: `xray-engine improve` run in a process of its own, watched.

The dialog says what the run will use (the model loaded now, the reviewed folders of the queue,
a training budget), runs the command with QProcess (training never runs in the GUI process),
feeds its progress bar from the engine's `[ NN %] stage` lines, and ends one of three ways: the
old and the new model's figures on the held-out bags with "Use the new model"; the engine's
one-line reason; or Cancel, which kills the process and removes the run's folder. The loaded
model changes only when the analyst presses "Use the new model" (`useModel`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine as engine_package
from xray_gui.model_history import (
    BUNDLE_NAME,
    RUN_NAME,
    WORK_NAME,
    LineageError,
    RunClock,
    comparison_rows,
    drop_training_runs,
    engine_command,
    failure_reason,
    format_duration,
    improve_command,
    judged,
    new_run_folder,
    parse_progress,
    read_lineage,
    remove_run,
    verdict,
    write_run_record,
)

MAX_STDERR_LINES = 200  # the tail kept, for the failure reason
TICK_MS = 1000


class ImproveDialog(QDialog):
    """Run `xray-engine improve` on the reviewed folders and show old against new."""

    useModel = Signal(str)  # the new bundle's path: the analyst chose it
    runEnded = Signal(str)  # "done", "failed" or "cancelled"

    def __init__(
        self,
        bundle: str | Path,
        reviews: Sequence[str | Path],
        root: Path,
        *,
        device: str | None = None,
        minutes: int = 20,
        engine: Sequence[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("improveDialog")
        self.setWindowTitle("Improve the model from reviews")
        self.bundle = Path(bundle).resolve()
        self.reviews = [Path(r).resolve() for r in reviews]
        self.root = Path(root)
        self.device = device
        self.engine = list(engine) if engine is not None else engine_command()
        self.state = "setup"  # setup, running, cancelling, done, failed, cancelled
        self.folder: Path | None = None  # this run's folder under `root`
        self.out: Path | None = None
        self.lineage: dict | None = None
        self.reason = ""
        self.process: QProcess | None = None
        self.clock = RunClock()
        self._elapsed = QElapsedTimer()
        self._stderr: list[str] = []
        self._partial = b""
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._show_time)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._setup_page(minutes))
        self.pages.addWidget(self._run_page())
        self.pages.addWidget(self._outcome_page())
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the run and remove what it made; nothing else changes")
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button = QPushButton("Use the new model")
        self.use_button.clicked.connect(self.use_new_model)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(buttons)
        self.resize(560, 360)
        self._show_state()

    # ----- pages --------------------------------------------------------------------------
    def _setup_page(self, minutes: int) -> QWidget:
        page = QWidget()
        intro = QLabel(
            "Fine-tunes the model loaded now on the bags reviewed in these folders, keeps a "
            "fifth of them aside, and compares the old and the new model on those. The "
            "review projects are only read; the model in use changes only if you choose so."
        )
        intro.setWordWrap(True)
        model = QLabel(str(self.bundle))
        model.setWordWrap(True)
        folders = QLabel("\n".join(str(f) for f in self.reviews))
        folders.setObjectName("reviewFolders")
        folders.setWordWrap(True)
        folders.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setValue(int(minutes))
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Training budget, detector and judges together")
        form = QFormLayout()
        form.addRow("Model", model)
        form.addRow("Reviews", folders)
        form.addRow("Training time", self.minutes)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _run_page(self) -> QWidget:
        page = QWidget()
        self.stage_label = QLabel("Starting…")
        self.stage_label.setObjectName("improveStage")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.time_label = QLabel()
        self.time_label.setObjectName("improveTime")
        note = QLabel(
            "The run is a separate process: you can keep reviewing meanwhile (what you review "
            "now is not in this run). Quitting the application stops it."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.time_label)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    def _outcome_page(self) -> QWidget:
        page = QWidget()
        self.headline = QLabel()
        self.headline.setObjectName("improveHeadline")
        self.headline.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("improveFigures")
        self.table.setHorizontalHeaderLabels(["Current model", "New model"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.details = QLabel()
        self.details.setObjectName("improveDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(page)
        layout.addWidget(self.headline)
        layout.addWidget(self.table)
        layout.addWidget(self.details)
        layout.addStretch(1)
        return page

    def _show_state(self) -> None:
        """Page and buttons for the state the run is in."""
        state = self.state
        page = {"setup": 0, "running": 1, "cancelling": 1}.get(state, 2)
        self.pages.setCurrentIndex(page)
        self.start_button.setVisible(state == "setup")
        self.cancel_button.setVisible(state in ("running", "cancelling"))
        self.cancel_button.setEnabled(state == "running")
        self.use_button.setVisible(state == "done")
        self.close_button.setVisible(state not in ("running", "cancelling"))
        self.table.setVisible(state == "done")
        if state == "setup":
            self.start_button.setDefault(True)
        elif state == "done" and self.lineage is not None and self.lineage["better"]:
            self.use_button.setDefault(True)
        else:
            self.close_button.setDefault(True)

    # ----- the run ------------------------------------------------------------------------
    def command(self) -> list[str]:
        """The command line of this run (its folder must exist)."""
        assert self.folder is not None and self.out is not None
        return improve_command(
            self.engine,
            self.bundle,
            self.reviews,
            self.out,
            work=self.folder / WORK_NAME,
            minutes=self.minutes.value(),
            device=self.device,
        )

    def start(self) -> None:
        """Make the run's folder and start the engine on it."""
        if self.state != "setup":
            return
        try:
            self.folder = new_run_folder(self.root)
            self.out = self.folder / BUNDLE_NAME
            command = self.command()
            write_run_record(
                self.folder,
                {
                    "started": datetime.now().isoformat(timespec="seconds"),
                    "parent": str(self.bundle),
                    "reviews": [str(r) for r in self.reviews],
                    "minutes": self.minutes.value(),
                    "device": self.device,
                    "command": command,
                },
            )
        except OSError as exc:
            if self.folder is not None:
                remove_run(self.folder)
            self._fail(f"cannot make a folder for the new model in {self.root}: {exc}")
            return
        self.clock = RunClock(budget_s=60.0 * self.minutes.value())
        process = self.process = QProcess(self)
        process.setProgram(command[0])
        process.setArguments(command[1:])
        process.setWorkingDirectory(str(self.folder))
        process.setProcessEnvironment(_environment())
        process.readyReadStandardError.connect(self._read_stderr)
        process.readyReadStandardOutput.connect(process.readAllStandardOutput)  # the summary
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self.state = "running"
        self.progress.setValue(0)
        self.stage_label.setText("Starting…")
        self._show_state()
        self._elapsed.start()
        self._tick.start()
        self._show_time()
        process.start()

    def _read_stderr(self) -> None:
        assert self.process is not None
        data = self._partial + bytes(self.process.readAllStandardError().data())
        *lines, self._partial = data.replace(b"\r\n", b"\n").split(b"\n")
        for raw in lines:
            self._take_line(raw.decode("utf-8", errors="replace"))

    def _take_line(self, line: str) -> None:
        """A progress line moves the bar; anything else is kept for the failure reason."""
        progress = parse_progress(line)
        if progress is None:
            if line.strip():
                self._stderr = [*self._stderr, line][-MAX_STDERR_LINES:]
            return
        self.clock.report(progress, self._elapsed.elapsed() / 1000)
        self.progress.setValue(round(100 * self.clock.share))
        stage = self.clock.stage
        self.stage_label.setText(stage[:1].upper() + stage[1:] + "…" if stage else "")
        self._show_time()

    def _show_time(self) -> None:
        if self.state not in ("running", "cancelling"):
            return
        elapsed = self._elapsed.elapsed() / 1000
        left = self.clock.left(elapsed)
        when = (
            "estimating the time left…" if left is None else f"about {format_duration(left)} left"
        )
        self.time_label.setText(f"Elapsed {format_duration(elapsed)} · {when}")

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.state == "running":
            program = self.process.program() if self.process is not None else "xray-engine"
            message = self.process.errorString() if self.process is not None else ""
            self._end_run()
            assert self.folder is not None
            remove_run(self.folder)
            self._fail(f"could not start {program}: {message}")

    def _on_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._read_stderr()  # whatever came after the last readyRead
        if self._partial:
            self._take_line(self._partial.decode("utf-8", errors="replace"))
            self._partial = b""
        cancelled = self.state == "cancelling"
        self._end_run()
        assert self.folder is not None and self.out is not None
        if cancelled:
            remove_run(self.folder)
            self.state = "cancelled"
            self.runEnded.emit("cancelled")
            super().reject()
            return
        crashed = status != QProcess.ExitStatus.NormalExit
        if exit_code != 0 or crashed:
            remove_run(self.folder)
            self._fail(failure_reason(self._stderr, None if crashed else exit_code))
            return
        try:
            if not self.out.is_file():
                raise LineageError(f"the run ended without writing {self.out}")
            lineage = read_lineage(self.out.with_suffix(".json"))
        except LineageError as exc:
            remove_run(self.folder)
            self._fail(str(exc))
            return
        drop_training_runs(self.folder)
        self._finish_record(lineage)
        self._succeed(lineage)

    def _end_run(self) -> None:
        self._tick.stop()

    def _finish_record(self, lineage: dict) -> None:
        """Add when the run ended and how, to the run's record (a failure here loses nothing)."""
        assert self.folder is not None
        try:
            record = json.loads((self.folder / RUN_NAME).read_text(encoding="utf-8"))
            record.update(
                finished=datetime.now().isoformat(timespec="seconds"), better=lineage["better"]
            )
            write_run_record(self.folder, record)
        except (OSError, ValueError):
            pass

    def _fail(self, reason: str) -> None:
        self.reason = reason
        self.state = "failed"
        self.headline.setText(
            "<b>The model could not be improved.</b> The model in use and the reviews are "
            "unchanged."
        )
        self.details.setText(reason)
        self._show_state()
        self.runEnded.emit("failed")

    def _succeed(self, lineage: dict) -> None:
        self.lineage = lineage
        self.state = "done"
        rows = comparison_rows(lineage)
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([name for name, _, _ in rows])
        for i, (_, old, new) in enumerate(rows):
            for j, text in enumerate((old, new)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, j, item)
        mark = "✔" if lineage["better"] else ("⚖" if judged(lineage) == "trade-off" else "✘")
        self.headline.setText(f"<b>{mark} {verdict(lineage)}</b>")
        split = lineage.get("split") or {}
        judges = ", ".join(lineage.get("retrained_judges") or []) or "none"
        self.details.setText(
            f"Trained on {split.get('train', '?')} of {lineage.get('bags', '?')} reviewed bags; "
            f"judges retrained: {judges}. Kept in {self.folder}. "
            "The model in use changes only when you press “Use the new model”; "
            "Model ▸ History… switches between models later."
        )
        self._show_state()
        self.runEnded.emit("done")

    # ----- the analyst's choices ----------------------------------------------------------
    def use_new_model(self) -> None:
        """Switch to the new model (the window loads it on its screening thread) and close."""
        if self.state == "done" and self.out is not None:
            self.useModel.emit(str(self.out))
            self.accept()

    def cancel(self) -> None:
        """Kill the run; its folder is removed once the process has ended."""
        if self.state != "running" or self.process is None:
            return
        self.state = "cancelling"
        self.stage_label.setText("Stopping…")
        self._show_state()
        self.process.kill()

    def stop_now(self, timeout_ms: int = 10_000) -> None:
        """Cancel and wait for the process to end (the window is closing)."""
        self.cancel()
        if self.process is not None and self.state == "cancelling":
            self.process.waitForFinished(timeout_ms)

    def running(self) -> bool:
        """Whether a run is in progress (or being stopped)."""
        return self.state in ("running", "cancelling")

    def reject(self) -> None:
        """Esc or the close box: during a run, stop it only when the analyst says so."""
        if self.state == "cancelling":
            return
        if self.state == "running":
            if self.confirm_stop():
                self.cancel()
            return
        super().reject()

    def confirm_stop(self) -> bool:
        """Ask whether to stop the run in progress."""
        answer = QMessageBox.question(
            self,
            "Stop the run?",
            "Stop improving the model? What the run made so far is removed.",
        )
        return answer == QMessageBox.StandardButton.Yes


def _environment() -> QProcessEnvironment:
    """This environment, with this checkout importable by a child Python (not when frozen)."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    if not getattr(sys, "frozen", False):
        root = str(Path(engine_package.__file__).resolve().parents[1])
        kept = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", root + (os.pathsep + kept if kept else ""))
    return env
