"""The review session without Qt: projects, queue, selection, screen-ahead and visit time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from xray_gui.review import ReviewError, ReviewSession, ReviewStore
from xray_gui.review.activity import IDLE_AFTER_S
from xray_gui.scan_queue import ScanQueue

NAMES = ("bag_1.png", "bag_2.png", "bag_10.png")  # the queue's (natural) order


@dataclass(frozen=True)
class Model:
    """A loaded model as the session sees it (the GUI's ModelInfo has these and more)."""

    name: str = "demo"
    categories: tuple[str, ...] = ("bottle", "iron", "laptop")
    score_threshold: float = 0.5
    anomaly_threshold: float = 0.5


class Heard:
    """Every announcement of a session, in order: (what, value)."""

    def __init__(self, session: ReviewSession) -> None:
        self.said: list[tuple[str, object]] = []
        for what in ("scan_changed", "selection_changed", "store_opened", "problem", "refusal"):
            getattr(session, what).connect(lambda value, w=what: self.said.append((w, value)))

    def of(self, what: str) -> list:
        """What `what` announced, in order (each announcement carries one value)."""
        return [value for said, value in self.said if said == what]


def paths_of(scan_dir: Path) -> list[str]:
    return [str(scan_dir / name) for name in NAMES]


@pytest.fixture
def screened_dir(store: ReviewStore, scan_dir: Path) -> Path:
    """The scans' folder with a project on disk holding a prediction for each, released."""
    store.close()
    return scan_dir


def session_on(folder: Path, **kwargs) -> tuple[ReviewSession, Heard, list[str]]:
    queue = ScanQueue()
    queue.add([folder])
    session = ReviewSession(queue, **kwargs)
    return session, Heard(session), [str(e.path) for e in queue.entries]


def show(session: ReviewSession, index: int) -> str:
    """Show queue entry `index` as the window does: the queue's position, then the scan."""
    session.queue.current = index
    path = str(session.queue.entries[index].path)
    session.show_scan(path)
    return path


# ----- projects ---------------------------------------------------------------------------
def test_a_project_opens_once_on_first_use_and_is_announced(screened_dir):
    session, heard, paths = session_on(screened_dir, analyst=lambda: "ana")
    assert paths == paths_of(screened_dir)
    assert session.store is None and heard.of("store_opened") == []  # no scan on screen
    show(session, 0)
    store = session.store
    assert store is not None and store.folder == screened_dir and store.analyst == "ana"
    assert store.has_prediction(paths[0]) and not store.read_only
    show(session, 1)
    assert session.store is store and session.store_for(paths[2]) is store  # one per folder
    assert heard.of("store_opened") == [store] and heard.of("problem") == []
    assert session.opened(paths[2]) is store and session.stores == {screened_dir: store}


def test_a_folder_whose_project_cannot_open_is_said_once_and_not_tried_again(scan_dir):
    tries = []

    def broken(folder, **kwargs):
        tries.append(folder)
        raise ReviewError("damaged beyond repair")

    session, heard, paths = session_on(scan_dir, open_store=broken)
    show(session, 0)
    assert session.store is None and session.store is None and session.store_for(paths[1]) is None
    assert tries == [scan_dir] and session.broken_folders == {scan_dir}
    assert heard.of("problem") == [f"Cannot keep reviews for {scan_dir}: damaged beyond repair"]
    assert session.objects() == [] and session.act(lambda store, path: 1) is None


def test_the_model_classes_hook_runs_on_opening_and_its_line_is_announced(screened_dir):
    session, heard, _ = session_on(
        screened_dir, prepare_store=lambda store: f"{store.folder.name}: classes checked"
    )
    show(session, 0)
    assert session.store is not None
    assert heard.of("problem") == ["scans: classes checked"]


# ----- the queue --------------------------------------------------------------------------
def test_next_unreviewed_follows_the_decisions_in_the_project(screened_dir):
    session, _, paths = session_on(screened_dir)
    show(session, 0)
    assert session.marks_of(Path(paths[0])).status == "new"  # marks never open a project
    assert session.store is not None
    assert session.marks_of(Path(paths[0])).status == "screened"
    session.decide("clear")
    assert session.store.decision(paths[0]) == "clear" and session.decision() == "clear"
    assert session.marks_of(Path(paths[0])).status == "reviewed"
    assert session.next_unreviewed() == 1
    show(session, 1)
    session.decide("suspect")
    assert session.next_unreviewed() == 2
    show(session, 2)
    assert session.next_unreviewed() == 2  # the scan on screen comes last, round the queue
    session.decide("search")
    assert session.next_unreviewed() is None  # every scan decided
    session.decide("search")  # the same decision again takes it back
    assert session.decision() is None and session.next_unreviewed() == 2
    session.queue.set_filter("decided")
    assert session.next_unreviewed() is None  # only decided bags are shown


def test_the_queue_marks_alarms_at_the_thresholds_in_force(screened_dir):
    thresholds = [(0.5, 0.5)]
    session, _, paths = session_on(screened_dir, thresholds=lambda: thresholds[0])
    assert session.marks_of(Path(paths[0])).alarm is False  # no project open yet: all new
    show(session, 0)
    assert session.store is not None
    assert session.marks_of(Path(paths[0])).alarm is True  # the bottle, 0.8 > 0.5
    thresholds[0] = (0.5, 0.9)
    assert session.marks_of(Path(paths[0])).alarm is False
    assert session.queue.marks(0) == session.marks_of(Path(paths[0]))  # the queue asks it


def test_uncertainty_follows_the_thresholds_and_needs_a_screened_scan(screened_dir):
    thresholds = [(0.5, 0.5)]
    session, _, paths = session_on(screened_dir, thresholds=lambda: thresholds[0])
    assert session.uncertainty(Path(paths[0])) is None  # its project is not open yet
    show(session, 0)
    assert session.store is not None  # the project opens as the window asks for it
    at_half = session.uncertainty(Path(paths[0]))
    assert at_half is not None and 0.0 <= at_half <= 1.0
    thresholds[0] = (0.9, 0.5)  # the bottle's 0.9 now sits on the detection threshold
    assert at_half < 1.0 and session.uncertainty(Path(paths[0])) == pytest.approx(1.0)


# ----- selection --------------------------------------------------------------------------
def test_selection_changes_are_announced_once_each(screened_dir):
    session, heard, _ = session_on(screened_dir)
    show(session, 0)
    assert session.select("m0") is True and session.select("m0") is False
    session.select_step(1)
    session.select_step(1)
    session.select_step(1)  # wraps round
    session.select_step(-1)
    session.select(None)
    session.select_step(-1)  # from nothing, backwards: the last
    assert heard.of("selection_changed") == ["m0", "m1", "m2", "m0", "m2", None, "m2"]
    assert session.selected == "m2" and session.selected_object().label == "laptop"


def test_accepting_selects_the_next_pending_finding(screened_dir):
    session, heard, paths = session_on(screened_dir)
    show(session, 0)
    session.select("m0")
    session.accept()
    assert session.store.object(paths[0], "m0").status == "accepted"
    assert session.selected == "m1"
    session.reject()
    assert session.store.object(paths[0], "m1").status == "rejected"
    assert heard.of("selection_changed") == ["m0", "m1", "m2"]


def test_a_new_scan_drops_the_selection_and_says_so_once(screened_dir):
    session, heard, paths = session_on(screened_dir)
    show(session, 0)
    session.select("m1")
    assert session.show_scan(paths[0]) is False and session.selected == "m1"  # still on it
    show(session, 1)
    assert session.selected is None and session.current_path == paths[1]
    assert heard.of("scan_changed") == [paths[0], paths[1]]
    assert heard.of("selection_changed") == ["m1"]  # scan_changed implies no selection
    session.clear()
    assert session.current_path is None and heard.of("scan_changed")[-1] is None


def test_a_hidden_finding_loses_the_selection(screened_dir):
    thresholds = [(0.0, None)]
    session, heard, _ = session_on(screened_dir, thresholds=lambda: thresholds[0])
    show(session, 0)
    session.select("m2")  # the weak laptop, score 0.2
    session.keep_selection_among(session.objects())
    assert session.selected == "m2"
    thresholds[0] = (0.5, None)
    session.keep_selection_among(session.objects())
    assert session.selected is None and heard.of("selection_changed") == ["m2", None]


def test_a_refused_action_is_announced_and_leaves_the_project_as_it_was(screened_dir):
    session, heard, paths = session_on(screened_dir)
    show(session, 0)
    session.select("m9")  # no such object
    session.accept()
    assert session.refused and len(heard.of("refusal")) == 1
    assert "m9" in heard.of("refusal")[0] and heard.of("refusal")[0][0] not in "'\""
    assert session.store.status(paths[0]) == "screened" and not session.store.can_undo()
    session.select("m0")
    session.set_label("iron")
    assert not session.refused and session.store.object(paths[0], "m0").label == "iron"
    assert session.last_label == "iron"
    assert session.undo() == "bag_1.png" and session.store.object(paths[0], "m0").label == "bottle"


def test_drawn_objects_take_the_last_class(screened_dir):
    session, _, paths = session_on(screened_dir)
    show(session, 0)
    session.set_label("laptop")  # nothing selected: only the class of the next drawn object
    new_id = session.add_box((2.0, 2.0, 20.0, 20.0))
    assert new_id is not None and session.store.object(paths[0], new_id).label == "laptop"
    assert session.store.object(paths[0], "m0").label == "bottle"


# ----- screening ahead --------------------------------------------------------------------
def test_the_screen_ahead_list_skips_what_is_screened_or_failed(scan_dir, result_for):
    session, _, paths = session_on(scan_dir, screen_ahead=1)
    session.model_pending = True
    show(session, 0)
    assert session.want_screening() == paths[:2] == session.wanted  # on screen, then one more
    assert session.screen_failed(paths[1]) is False  # not on screen
    assert session.want_screening() == paths[:1]
    session.screen_ahead = 2
    assert session.want_screening() == [paths[0], paths[2]]
    session.store.set_prediction(paths[0], result_for(Path(paths[0])), device="CPU")
    assert session.want_screening() == [paths[2]]
    session.use_model(Model())  # a new model tries the failed scans again
    assert session.failed == set() and session.model_pending is False
    assert session.want_screening() == [paths[1], paths[2]]
    assert session.screen_again() == [paths[0]] == session.wanted  # asked for, screened or not
    session.clear()
    assert session.want_screening() == [] == session.wanted


# ----- visit time -------------------------------------------------------------------------
def test_visit_time_counts_active_input_and_is_saved_with_the_scan_left(screened_dir):
    now = [1000.0]
    session, _, paths = session_on(screened_dir, clock=lambda: now[0])
    show(session, 0)
    store = session.store
    now[0] += 5.0
    session.activity.touch()  # 5 s of work
    now[0] += 3.0
    show(session, 1)  # 3 s more, counted when the scan is left
    assert store.review_seconds(paths[0]) == pytest.approx(8.0)
    now[0] += 300.0  # gone for coffee: a pause counts at most IDLE_AFTER_S
    show(session, 2)
    assert store.review_seconds(paths[1]) == pytest.approx(IDLE_AFTER_S)
    now[0] += 0.2  # a glance is no review
    show(session, 0)
    assert store.review_seconds(paths[2]) == 0.0
    now[0] += 2.0
    assert session.end_visit() == pytest.approx(2.0)
    assert store.review_seconds(paths[0]) == pytest.approx(10.0)  # summed over visits


def test_waiting_for_the_model_does_not_count(scan_dir, result_for):
    now = [0.0]
    session, _, paths = session_on(scan_dir, clock=lambda: now[0])
    session.use_model(Model())
    show(session, 0)  # not screened yet: the clock waits
    assert session.activity.paused and session.waiting(paths[0])
    now[0] += 20.0
    session.activity.touch()
    session.store.set_prediction(paths[0], result_for(Path(paths[0])), device="CPU")
    assert session.screened(paths[0]) is True  # findings drawn: the clock runs
    now[0] += 4.0
    session.activity.touch()
    assert session.end_visit() == pytest.approx(4.0)
    assert session.screened(paths[1]) is False  # not on screen


# ----- thresholds and closing -------------------------------------------------------------
def test_thresholds_shown_follow_the_model_and_what_the_project_kept(screened_dir):
    thresholds = [(0.3, 0.7)]
    session, _, _ = session_on(screened_dir, thresholds=lambda: thresholds[0])
    assert session.thresholds_to_show() is None  # nothing on screen
    show(session, 0)
    assert session.thresholds_to_show() is None  # the fixture's findings name no thresholds
    session.use_model(Model(score_threshold=0.4, anomaly_threshold=0.6))
    assert session.thresholds_to_show() == (0.4, 0.6)  # the model's operating points
    session.keep_thresholds()
    assert session.thresholds_to_show() == (0.3, 0.7)  # kept with this model
    session.use_model(Model(name="other"))
    assert session.thresholds_to_show() == (0.5, 0.5)  # kept under another model: not these


def test_closing_saves_and_releases_every_project(screened_dir):
    now = [0.0]
    session, _, paths = session_on(screened_dir, clock=lambda: now[0])
    show(session, 0)
    store = session.store
    now[0] += 3.0
    assert session.close() == []  # nothing had to be kept aside
    assert store.read_only and store.review_seconds(paths[0]) == pytest.approx(3.0)
    again = ReviewStore.for_folder(screened_dir)  # released: another session may open it
    assert not again.read_only and again.review_seconds(paths[0]) == pytest.approx(3.0)
    again.close()
