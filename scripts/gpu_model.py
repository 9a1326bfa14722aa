#!/usr/bin/env python3
"""`make gpu-model`: the whole demo model on one GPU in a fixed wall-clock budget.

Six stages, each with a deadline, all through `xray-engine` (run as `python -m engine.cli`, so
a checkout needs no install), writing into OUT (default `runs/gpu/`):

1. synth: simulated bags and, where a list of real backgrounds is given, simulated objects
   projected into them, in chunks sized from the measured rate so the stage ends on time;
2. split: the chunks merged, then `split --hold-out-designs N` (train/val/test and
   test_unseen_designs), and the test split cut into its simulated and projected images;
3. detector and 4. judges: Mask R-CNN R50-FPN from scratch and one anomaly judge per class
   (`data.categories=[<class>]`), each with `solver.max_minutes` so that it evaluates, saves
   and stops before its deadline (the learning-rate drops come at shares of that time). On a
   GPU the judges train beside the detector: they are data-bound on the CPU cores the
   detector leaves free;
5. final: the bundle, `calibrate --target-fpr` on the validation split's benign objects
   (OUT/gpu.xsb), eval-detector on the test splits, eval-classifier per judge on test and on
   the unseen designs, and the calibrated bundle's pooled figures;
6. OUT/summary.json and summary.md: every figure and each stage's wall time.

Stage deadlines share the time left among the stages still to run, so time one stage does not
use goes to the next. A command still running at its deadline gets SIGINT, then SIGKILL; the
recipe then goes on with what it has (a detector's last.pt, the judges that finished) and
always writes the summary, and the bundle when a detector exists. `--tiny` runs the same chain
on the CPU in a few minutes: a few small bags, two steps per training, each judge evaluated on
test only (the test suite's check).

`--judges-only` leaves out the detector, the bundle and calibration: the judges of `--classes`
alone, trained on `--synth-config`'s bags and scored on seen and unseen designs. That is the
simulator's learnability check (`make learnability`) with a GPU's crops and steps.

This script imports no engine code: it orchestrates the CLI, as a user would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STARTED = time.monotonic()  # the budget counts from here: start-up and summary included
REPO = Path(__file__).resolve().parents[1]
BACKGROUNDS = REPO.parent / "shared" / "data" / "sixray_benign_backgrounds.txt"
# the backgrounds of that list holding unlabelled bottles (or maybe phones, laptops, hairdryers):
# projected into, they would teach the detector that such an object is background
EXCLUDED = REPO / "configs" / "data" / "sixray_backgrounds_excluded.txt"
DETECTOR_CONFIG = "configs/detection/gpu_maskrcnn_r50.yaml"
JUDGE_CONFIG = "configs/classification/gpu_judge.yaml"

# Shares of the budget per stage (the last 3 % is kept for stragglers and the summary). At
# 9 minutes: synth 151 s, split 11 s, training 297 s, final 65 s, reserve 16 s.
SHARES = {"synth": 0.28, "split": 0.02, "train": 0.55, "final": 0.12}
SEQUENTIAL_SHARES = {"synth": 0.28, "split": 0.02, "detector": 0.40, "judges": 0.15, "final": 0.12}
# --judges-only: the crops are what a judge lacks, so synthesis gets as long as training
JUDGES_ONLY_SHARES = {"synth": 0.44, "split": 0.03, "judges": 0.44, "final": 0.06}
RESERVE = 0.03
# Seconds a stage gets at least, from the reserve if need be (never past the budget): merging
# and splitting cost seconds whatever the data, and a bundle needs a few.
FLOOR_S = {"split": 8.0, "final": 20.0}
KILL_GRACE_S = 5.0  # SIGINT this long before a command's deadline, SIGKILL at it
# Seconds a training needs outside its solver.max_minutes: Python, torch and CUDA start-up,
# reading the data, and once the time is up, the last evaluation and checkpoint.
TRAIN_OVERHEAD_S = {"gpu": {"detector": 40.0, "judge": 30.0}, "cpu": {"detector": 45, "judge": 20}}

TINY_DETECTOR = [
    "model.min_size=72",
    "model.max_size=96",
    "model.rpn_batch_size_per_image=64",
    "model.box_batch_size_per_image=32",
    "model.box_detections_per_img=10",
    "data.min_sizes=[64,72]",
    "data.max_size=96",
    "data.val_max_images=4",
    "solver.batch_size=2",
    "solver.max_iters=2",
    "solver.warmup_iters=1",
    "solver.amp=auto",
    "run.checkpoint_every=1000",
]
TINY_JUDGE = [
    "model.input_size=64",
    "solver.batch_size=8",
    "solver.max_iters=2",
    "solver.warmup_iters=1",
    "solver.amp=auto",
    "run.checkpoint_every=1000",
]


class Interrupted(Exception):
    """SIGTERM or Ctrl-C: stop the commands, write the summary with what there is."""


# ----- running commands with deadlines ------------------------------------------------------
@dataclass
class Job:
    """One engine command: what it runs, when it must end, and how it ended."""

    name: str
    args: list[str]
    deadline: float
    after: tuple[str, ...] = ()  # jobs that must have succeeded first
    rc: int | None = None
    seconds: float = 0.0
    timed_out: bool = False
    skipped: str | None = None
    log: Path | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)
    started: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def record(self) -> dict:
        return {
            "name": self.name,
            "rc": self.rc,
            "seconds": round(self.seconds, 1),
            "timed_out": self.timed_out,
            "skipped": self.skipped,
            "log": None if self.log is None else str(self.log),
        }


def _default_sigint() -> None:
    """In a command's process before exec: SIGINT does what it does by default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Runner:
    """Runs jobs as engine commands, at most `parallel` at a time, each stopped at its deadline.

    Every command starts in its own process group, so its DataLoader and synth workers stop
    with it. All jobs ever run are kept for the summary.
    """

    def __init__(self, command: list[str], logs: Path, parallel: int, threads: int) -> None:
        self.command, self.logs, self.parallel = command, logs, max(1, parallel)
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": str(threads),
        }
        self.jobs: list[Job] = []
        self.running: list[Job] = []

    def run(self, jobs: list[Job], parallel: int | None = None) -> list[Job]:
        """Run `jobs` (in list order as slots free up and their `after` jobs succeeded)."""
        limit = max(1, parallel or self.parallel)
        pending, done = list(jobs), {}
        self.jobs += jobs
        while pending or self.running:
            for job in list(pending):
                failed = [a for a in job.after if a in done and not done[a].ok]
                if failed:
                    job.skipped = f"needs {', '.join(failed)}"
                    pending.remove(job)
                    done[job.name] = job
                elif all(a in done for a in job.after) and len(self.running) < limit:
                    pending.remove(job)
                    if time.monotonic() >= job.deadline - KILL_GRACE_S - 1:
                        job.skipped = "no time left"
                        done[job.name] = job
                    else:
                        self._start(job)
            late = []
            for job in list(self.running):
                if job.proc.poll() is not None:
                    self._finish(job)
                    done[job.name] = job
                elif time.monotonic() >= job.deadline - KILL_GRACE_S:
                    late.append(job)
                    done[job.name] = job
            self._stop(late)
            time.sleep(0.1)
        return jobs

    def _start(self, job: Job) -> None:
        job.log = self.logs / f"{job.name}.log"
        with job.log.open("w") as log:
            log.write("$ xray-engine " + " ".join(job.args) + "\n")
            log.flush()
            job.proc = subprocess.Popen(
                [*self.command, *job.args],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                # a launcher started in the background (`nohup make gpu-model &`) ignores
                # SIGINT, and so would its commands: give them the default back, so that the
                # graceful stop before a deadline stops them
                preexec_fn=_default_sigint,
            )
        job.started = time.monotonic()
        self.running.append(job)
        print(f"[{job.name}] started", flush=True)

    def _finish(self, job: Job) -> None:
        job.rc = job.proc.returncode
        job.seconds = time.monotonic() - job.started
        self.running.remove(job)
        if job.timed_out:
            state = "stopped"
        else:
            state = "ok" if job.ok else f"FAILED (exit {job.rc}, see {job.log})"
        print(f"[{job.name}] {state} after {job.seconds:.1f} s", flush=True)

    def _stop(self, jobs: list[Job]) -> None:
        """SIGINT to the commands' process groups, SIGKILL to those alive after a grace period
        (both stop their worker processes too)."""
        for sig in (signal.SIGINT, signal.SIGKILL):
            for job in jobs:
                job.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(job.proc.pid, sig)
            grace = time.monotonic() + (KILL_GRACE_S if sig == signal.SIGINT else 10.0)
            while any(job.proc.poll() is None for job in jobs) and time.monotonic() < grace:
                time.sleep(0.1)
        for job in jobs:
            self._finish(job)

    def stop_all(self) -> None:
        self._stop(list(self.running))


class Clock:
    """The recipe's budget: each stage's deadline is its share of the time still left."""

    def __init__(self, budget_s: float, shares: dict[str, float], start: float = STARTED) -> None:
        self.start = start
        self.end = self.start + budget_s * (1 - RESERVE)
        self.budget_s = budget_s
        self.shares = dict(shares)
        self.stages: dict[str, dict] = {}

    def now(self) -> float:
        return time.monotonic() - self.start

    def begin(self, stage: str) -> float:
        """Start `stage`; returns its deadline (a time.monotonic() value)."""
        left = max(0.0, self.end - time.monotonic())
        share = self.shares.pop(stage)
        planned = left * share / (share + sum(self.shares.values()))
        budget_left = self.start + self.budget_s - time.monotonic() - KILL_GRACE_S - 1
        planned = max(planned, min(FLOOR_S.get(stage, 0.0), budget_left))
        self.stages[stage] = {"began_s": round(self.now(), 1), "planned_s": round(planned, 1)}
        print(f"== {stage}: {planned:.0f} s (at {self.now():.0f} s of {self.budget_s:.0f})")
        return time.monotonic() + planned

    def finish(self, stage: str, status: str = "done") -> None:
        record = self.stages[stage]
        record["wall_s"] = round(self.now() - record["began_s"], 1)
        record["status"] = status


# ----- the stages ----------------------------------------------------------------------------
def synthesise(args, clock: Clock, runner: Runner, data: Path) -> dict:
    """Simulated bags (and projected objects) in chunks sized to end by the stage's deadline."""
    deadline = clock.begin("synth")
    kinds = {"sim": args.bags}
    if args.backgrounds and args.tip_bags > 0:
        kinds["tip"] = args.tip_bags
    total = sum(kinds.values())
    workers = {k: max(1, round(args.workers * n / total)) for k, n in kinds.items()}
    made = {k: [] for k in kinds}  # (folder, bags, seconds) per finished chunk
    chunk = 0
    while True:
        planned = {}  # job name -> (kind, folder, bags)
        for kind, target in kinds.items():
            n = _next_chunk(made[kind], target, workers[kind], deadline)
            if n > 0:
                planned[f"synth_{kind}_{chunk}"] = (kind, str(data / f"{kind}_{chunk}"), n)
        if not planned:
            break
        jobs = []
        for name, (kind, folder, n) in planned.items():
            seed = args.seed + 1000 * (kind == "tip") + chunk  # every chunk its own bags
            cmd = ["synth", "--out", folder, "--n", str(n), "--seed", str(seed)]
            cmd += ["--workers", str(workers[kind])]
            if kind == "tip":
                cmd += ["--backgrounds", str(args.backgrounds)]
                if args.exclude_backgrounds:
                    cmd += ["--exclude-backgrounds", str(args.exclude_backgrounds)]
            cmd += ["--size", args.size] if kind == "sim" else []
            cmd += ["--config", str(args.synth_config)] if args.synth_config else []
            cmd += args.synth_overrides
            jobs.append(Job(name, cmd, deadline))
        for job in runner.run(jobs, parallel=len(jobs)):
            kind, folder, n = planned[job.name]
            if job.ok:
                made[kind].append((folder, n, job.seconds))
            else:
                kinds[kind] = 0  # a failed or late chunk ends that kind
        chunk += 1
    clock.finish("synth")
    return {
        kind: {
            "bags": sum(n for _, n, _ in chunks),
            "chunks": [{"folder": f, "bags": n, "seconds": round(s, 1)} for f, n, s in chunks],
            "workers": workers[kind],
        }
        for kind, chunks in made.items()
    }


def _next_chunk(done: list, target: int, workers: int, deadline: float) -> int:
    """How many bags the next chunk should make: a first probe of a few per worker, then what
    the measured rate fits before the deadline (a line through the chunks' times gives the
    start-up cost apart from the rate per bag)."""
    left_bags = target - sum(n for _, n, _ in done)
    if left_bags <= 0:
        return 0
    left_s = deadline - time.monotonic()
    if not done:
        return min(left_bags, 4 * workers)
    if len(done) >= 2 and done[-1][1] != done[-2][1]:
        (_, n1, t1), (_, n2, t2) = done[-2:]
        per_bag = max((t2 - t1) / (n2 - n1), 1e-3)
        startup = max(t1 - n1 * per_bag, 0.0)
    else:
        per_bag, startup = done[-1][2] / done[-1][1], 0.0  # start-up counted in: cautious
    fits = int(0.9 * (left_s - startup - 2.0) / per_bag)
    return min(left_bags, fits) if fits >= workers else 0


def split(args, clock: Clock, runner: Runner, data: Path, synth: dict) -> dict:
    """Merge the chunks, split with held-out designs, and cut test into sim and tip parts."""
    deadline = clock.begin("split")
    folders = [c["folder"] for kind in synth.values() for c in kind["chunks"]]
    merged = data / "all.json"
    cmd = ["split", str(merged), "--out", str(data), "--seed", str(args.seed)]
    cmd += ["--hold-out-designs", str(args.hold_out_designs)]
    if folders:
        merge = Job("merge", ["merge", *folders, "--out", str(merged)], deadline)
        runner.run([merge, Job("split", cmd, deadline, after=("merge",))])
    result: dict = {"files": {}}
    if (data / "test.json").is_file():
        test = json.loads((data / "test.json").read_text())
        for part, keep in (("test_sim", False), ("test_tip", True)):
            images = [im for im in test["images"] if ("background" in im) == keep]
            if images:
                ids = {im["id"] for im in images}
                anns = [a for a in test["annotations"] if a["image_id"] in ids]
                (data / f"{part}.json").write_text(
                    json.dumps({**test, "images": images, "annotations": anns})
                )
        for path in sorted(data.glob("*.json")):
            if path.name != "all.json":
                coco = json.loads(path.read_text())
                result["files"][path.stem] = {
                    "images": len(coco["images"]),
                    "objects": len(coco["annotations"]),
                    "anomalous": sum(
                        bool(a.get("attributes", {}).get("anomalous")) for a in coco["annotations"]
                    ),
                }
        result["classes"] = [c["name"] for c in test["categories"]]
    clock.finish("split", "done" if "classes" in result else "failed")
    return result


def train(args, clock: Clock, runner: Runner, data: Path, runs: Path, classes: list[str]) -> None:
    """The detector and a judge per class, each with a time budget inside its deadline."""
    kind = "gpu" if args.cuda else "cpu"
    overhead = TRAIN_OVERHEAD_S[kind]
    common = [f"data.train={data}", f"run.out={runs}", f"run.device={args.device}"]

    def detector(deadline: float) -> Job:
        minutes = max(0.05, (deadline - time.monotonic() - overhead["detector"]) / 60)
        cmd = ["train-detector", "--quiet", "--config", args.detector_config, *common]
        cmd += ["run.name=detector", f"solver.max_minutes={minutes:.3f}"]
        cmd += [f"data.num_workers={args.detector_workers}"]
        cmd += TINY_DETECTOR if args.tiny else []
        return Job("train_detector", cmd + args.detector_overrides, deadline)

    def judges(deadline: float) -> list[Job]:
        minutes = max(0.05, (deadline - time.monotonic() - overhead["judge"]) / 60)
        jobs = []
        for name in classes:
            cmd = ["train-classifier", "--quiet", "--config", args.judge_config, *common]
            cmd += [f"data.categories=[{name}]", f"run.name=judge_{name}"]
            cmd += [f"solver.max_minutes={minutes:.3f}", f"data.num_workers={args.judge_workers}"]
            cmd += TINY_JUDGE if args.tiny else []
            jobs.append(Job(f"train_judge_{name}", cmd + args.judge_overrides, deadline))
        return jobs

    if args.judges_only:  # the CPU cores that made the bags now load the judges' crops
        if args.judge_workers is None:
            args.judge_workers = max(1, (os.cpu_count() or 1) // len(classes))
        deadline = clock.begin("judges")
        runner.run(judges(deadline), parallel=len(classes))
        clock.finish("judges")
    elif args.overlap:
        deadline = clock.begin("train")
        runner.run([detector(deadline), *judges(deadline)], parallel=1 + len(classes))
        clock.finish("train")
    else:
        deadline = clock.begin("detector")
        runner.run([detector(deadline)])
        clock.finish("detector")
        deadline = clock.begin("judges")
        runner.run(judges(deadline), parallel=min(len(classes), args.parallel))
        clock.finish("judges")


def final(args, clock: Clock, runner: Runner, data: Path, runs: Path, classes, out: Path):
    """Bundle, calibrate, and every evaluation, in parallel where they are independent."""
    deadline = clock.begin("final")
    evals = out / "eval"
    evals.mkdir(exist_ok=True)
    finished = {j.name for j in runner.jobs if j.ok}
    detector = _checkpoint(runs / "detector", last=True)
    # a judge's last.pt holds an operating threshold only once it has been evaluated: at the
    # end of a run that finished, or whenever it was also the best so far (best.pt)
    judges = {c: _checkpoint(runs / f"judge_{c}", f"train_judge_{c}" in finished) for c in classes}
    judges = {c: p for c, p in judges.items() if p is not None}
    raw, bundle = out / "gpu_uncalibrated.xsb", out / "gpu.xsb"
    jobs: list[Job] = []
    device = ["--device", args.device]
    tests = [
        p for p in ("test_sim", "test_tip", "test_unseen_designs") if (data / f"{p}.json").is_file()
    ]
    if detector is not None:  # the bundle first: it is what the recipe is for
        cmd = ["bundle", "--detector", detector, "--out", str(raw), "--name", args.name]
        cmd += [a for p in judges.values() for a in ("--classifier", p)]
        jobs.append(Job("bundle", cmd, deadline))
        if judges:
            cmd = ["calibrate", str(raw), "--data", str(data / "val.json"), "--out", str(bundle)]
            cmd += ["--target-fpr", str(args.target_fpr), *device]
            jobs.append(Job("calibrate", cmd, deadline, after=("bundle",)))
        for part in tests:
            cmd = ["eval-detector", "--quiet", "--checkpoint", detector, *device]
            cmd += ["--data", str(data / f"{part}.json")]
            cmd += ["--out", str(evals / f"detector_{part}.json")]
            cmd += ["--max-images", str(args.eval_images)] if args.eval_images else []
            jobs.append(Job(f"eval_detector_{part}", cmd, deadline))
    for part in ("test", "test_unseen_designs"):
        if not (data / f"{part}.json").is_file():
            continue
        # tiny: each judge on test only (a process each is most of a tiny run's time); the
        # calibrated bundle's pooled figures, per class too, cover the unseen designs
        for name, checkpoint in judges.items() if part == "test" or not args.tiny else ():
            cmd = ["eval-classifier", "--checkpoint", checkpoint, *device]
            cmd += ["--data", str(data / f"{part}.json")]
            cmd += ["--out", str(evals / f"judge_{name}_{part}.json")]
            jobs.append(Job(f"eval_judge_{name}_{part}", cmd, deadline))
        if detector is not None and judges:  # the calibrated bundle's judges, pooled
            cmd = ["eval-classifier", "--checkpoint", str(bundle), *device]
            cmd += ["--data", str(data / f"{part}.json")]
            cmd += ["--out", str(evals / f"pooled_{part}.json")]
            jobs.append(Job(f"eval_pooled_{part}", cmd, deadline, after=("calibrate",)))
    runner.run(jobs)
    if detector is not None and judges and not raw.is_file():  # the detector alone, then,
        cmd = ["bundle", "--detector", detector, "--out", str(raw), "--name", args.name]
        last = min(clock.start + clock.budget_s, time.monotonic() + 30)  # from the reserve
        runner.run([Job("bundle_detector_only", cmd, last)])
    if raw.is_file() and not bundle.is_file():  # calibration failed or had no time: say so
        shutil.copyfile(raw, bundle)
    if args.judges_only:
        scored = all((evals / f"judge_{c}_test.json").is_file() for c in judges)
        clock.finish("final", "done" if judges and scored else "judges not scored")
    else:
        clock.finish("final", "done" if bundle.is_file() else "no bundle")
    return {
        "detector_checkpoint": None if detector is None else str(detector),
        "judge_checkpoints": judges,
        "calibrated": any(j.name == "calibrate" and j.ok for j in runner.jobs),
    }


def _checkpoint(run: Path, last: bool) -> str | None:
    """A run's best.pt, else (with `last`) its last.pt, else None."""
    for name in ("best.pt", "last.pt") if last else ("best.pt",):
        if (run / name).is_file():
            return str(run / name)
    return None


# ----- the summary ---------------------------------------------------------------------------
def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _last_json_line(log: Path | None) -> dict | None:
    """The JSON summary a train-* command prints last."""
    if log is None or not log.is_file():
        return None
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _training(run: Path, job: Job | None) -> dict:
    """Steps, epochs, throughput and the last validation figures of one training run."""
    import csv

    record: dict = {"job": None if job is None else job.record()}
    record.update(_last_json_line(job.log if job else None) or {})
    log = run / "log.csv"
    if log.is_file():
        with log.open() as f:
            rows = list(csv.DictReader(f))
        steps = [r for r in rows if r.get("loss")]
        if steps:
            record["steps"] = int(steps[-1]["iteration"])
            record["epochs"] = int(steps[-1]["epoch"]) + 1
            record["last_loss"] = float(steps[-1]["loss"])
            record["step_compute_s"] = round(sum(float(r["seconds"]) for r in steps), 1)
        for key in ("val_bbox_map", "val_segm_map", "val_auc", "threshold"):
            values = [float(r[key]) for r in rows if r.get(key)]
            if values:
                record[f"last_{key}"] = values[-1]
    config = run / "config.yaml"
    if config.is_file():
        for line in config.read_text().splitlines():
            key, _, value = line.strip().partition(":")
            if key in ("batch_size", "lr", "steps_per_epoch", "total_steps", "input_size"):
                record[key] = yaml_number(value)
        if "steps" in record and "total_steps" in record:
            record["stopped_by_time"] = record["steps"] < record["total_steps"]
        if record.get("step_compute_s") and "batch_size" in record:
            images = record["steps"] * record["batch_size"]
            record["images_per_s"] = round(images / record["step_compute_s"], 1)
    return record


def yaml_number(text: str):
    """A number from a line of the run's config.yaml, else the text."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text.strip()


def _detection(result: dict | None) -> dict | None:
    if not result:
        return None
    figures = {"ms_per_image": round(result.get("ms_per_image", 0.0), 1)}
    for kind in ("bbox", "segm"):
        if kind in result:
            r = result[kind]
            figures[kind] = {k: r.get(k) for k in ("mAP", "AP50", "AP75", "AR100")}
            figures[kind]["per_class"] = r.get("per_class")
    return figures


def _anomaly(result: dict | None) -> dict | None:
    if not result:
        return None
    keys = ("n", "positives", "roc_auc", "tp_rate", "fp_rate", "accuracy", "tpr_at_fpr_5")
    figures = {k: result["metrics"].get(k) for k in keys}
    if "per_class" in result:
        figures["per_class"] = {
            c: {k: m.get(k) for k in keys} for c, m in result["per_class"].items()
        }
    for group in result.get("visible", {}).values():  # the anomalies of 3 σ and over, pooled
        figures["visible"] = {k: group.get(k) for k in ("n", "roc_auc", "tp_rate")}
    return figures


def summarise(args, clock, runner, out, data, runs, synth, split_info, final_info, error) -> dict:
    by_name = {j.name: j for j in runner.jobs}
    evals = out / "eval"
    classes = [c for c in split_info.get("classes", []) if c in (args.classes or [c])]
    bundle = out / "gpu.xsb"
    summary = {
        "recipe": {
            "mode": "tiny" if args.tiny else "full",
            "device": args.device_name,
            "budget_min": args.budget_min,
            "workers": args.workers,
            "bags": args.bags,
            "tip_bags": args.tip_bags,
            "size": args.size,
            "backgrounds": str(args.backgrounds) if args.backgrounds else None,
            "excluded_backgrounds": (
                str(args.exclude_backgrounds) if args.exclude_backgrounds else None
            ),
            "hold_out_designs": args.hold_out_designs,
            "overlap": args.overlap,
            "seed": args.seed,
            "detector_config": args.detector_config,
            "judge_config": args.judge_config,
            "judge_overrides": args.judge_overrides,
            "synth_config": str(args.synth_config) if args.synth_config else None,
            "synth_overrides": args.synth_overrides,
            "judges_only": args.judges_only,
            "classes": args.classes,
        },
        "wall_s": round(clock.now(), 1),
        "within_budget": clock.now() <= args.budget_min * 60,
        "error": error,
        "stages": clock.stages,
        "data": {"synth": synth, "split": split_info.get("files")},
        "detector": {
            "train": _training(runs / "detector", by_name.get("train_detector")),
            "test": {
                part: _detection(_json(evals / f"detector_{part}.json"))
                for part in ("test_sim", "test_tip", "test_unseen_designs")
                if (evals / f"detector_{part}.json").is_file()
            },
        },
        "judges": {
            c: {
                "train": _training(runs / f"judge_{c}", by_name.get(f"train_judge_{c}")),
                "test": _anomaly(_json(evals / f"judge_{c}_test.json")),
                "test_unseen_designs": _anomaly(
                    _json(evals / f"judge_{c}_test_unseen_designs.json")
                ),
            }
            for c in classes
        },
        "bundle": {
            "path": str(bundle) if bundle.is_file() else None,
            "mb": round(bundle.stat().st_size / 2**20, 1) if bundle.is_file() else None,
            **(final_info or {}),
            "calibration": _calibration_lines(by_name.get("calibrate")),
            "pooled_test": _anomaly(_json(evals / "pooled_test.json")),
            "pooled_test_unseen_designs": _anomaly(
                _json(evals / "pooled_test_unseen_designs.json")
            ),
        },
        "jobs": [j.record() for j in runner.jobs],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "summary.md").write_text(markdown(summary))
    return summary


def _calibration_lines(job: Job | None) -> list[str]:
    """What `calibrate` printed per judge, if it wrote its bundle."""
    if job is None or not job.ok:
        return []
    lines = job.log.read_text(errors="replace").splitlines()[1:]
    return [line for line in lines if "threshold" in line]


def _f(value, digits: int = 3) -> str:
    return (
        "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    )


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def markdown(s: dict) -> str:
    """The summary as a short Markdown report."""
    r = s["recipe"]
    lines = [
        f"# GPU recipe ({r['mode']}): {r['device']}",
        "",
        f"Wall time {s['wall_s']:.0f} s of a {60 * r['budget_min']:.0f} s budget"
        + ("" if s["within_budget"] else " (OVER BUDGET)")
        + (f"; stopped early: {s['error']}" if s["error"] else "")
        + ".",
        "",
        "| stage | planned s | wall s | status |",
        "|---|---|---|---|",
    ]
    for name, st in s["stages"].items():
        lines.append(
            f"| {name} | {st['planned_s']} | {st.get('wall_s', '–')} | {st.get('status', '–')} |"
        )
    lines += ["", "## Data", ""]
    for kind, d in (s["data"]["synth"] or {}).items():
        secs = sum(c["seconds"] for c in d["chunks"])
        chunks = len(d["chunks"])
        lines.append(
            f"- {kind}: {d['bags']} bags, {chunks} chunks, {secs:.0f} s, {d['workers']} workers"
        )
    for name, f in (s["data"]["split"] or {}).items():
        lines.append(
            f"- {name}: {f['images']} images, {f['objects']} objects ({f['anomalous']} anomalous)"
        )
    det = s["detector"]
    t = det["train"]
    if "steps" in t:
        lines += _detector_lines(det)
    if any("steps" in j["train"] for j in s["judges"].values()):
        lines += _judge_lines(s["judges"])
    if "steps" in t:
        lines += _bundle_lines(s["bundle"])
    return "\n".join(lines) + "\n" + _failures(s)


def _detector_lines(det: dict) -> list[str]:
    t = det["train"]
    lines = [
        "",
        "## Detector (Mask R-CNN R50-FPN, from scratch)",
        "",
        f"{t.get('steps', 0)} steps of {t.get('batch_size', '?')} images "
        f"({t.get('images_per_s', '?')} images/s in the steps), {t.get('epochs', 0)} epochs, "
        f"{'stopped by its time budget' if t.get('stopped_by_time') else 'its whole schedule'}, "
        f"last loss {_f(t.get('last_loss'))}, val bbox mAP {_f(t.get('last_val_bbox_map'))}.",
        "",
        "| test set | bbox AP50 | bbox mAP | segm mAP | ms/image |",
        "|---|---|---|---|---|",
    ]
    for part, m in det["test"].items():
        if m:
            bbox, segm = m.get("bbox", {}), m.get("segm", {})
            cells = [_f(bbox.get("AP50")), _f(bbox.get("mAP")), _f(segm.get("mAP"))]
            lines.append(f"| {part} | {' | '.join(cells)} | {m['ms_per_image']} |")
    for part, m in det["test"].items():
        if m and m.get("bbox", {}).get("per_class"):
            ap = ", ".join(f"{c} {_f(v)}" for c, v in m["bbox"]["per_class"].items())
            lines.append(f"\nbbox AP per class, {part}: {ap}.")
    return lines


def _judge_lines(judges: dict) -> list[str]:
    lines = [
        "",
        "## Judges (each at its own validation threshold)",
        "",
        "| class | steps | val AUC | test AUC | TP | FP | test AUC, items ≥ 3 σ |"
        " unseen designs AUC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, j in judges.items():
        test, unseen = j["test"] or {}, j["test_unseen_designs"] or {}
        cells = [
            str(j["train"].get("steps", 0)),
            _f(j["train"].get("best_val_auc", j["train"].get("last_val_auc"))),
            _f(test.get("roc_auc")),
            _pct(test.get("tp_rate")),
            _pct(test.get("fp_rate")),
            _f((test.get("visible") or {}).get("roc_auc")),
            _f(unseen.get("roc_auc")),
        ]
        lines.append(f"| {c} | {' | '.join(cells)} |")
    return lines


def _bundle_lines(b: dict) -> list[str]:
    lines = ["", "## Bundle", ""]
    lines.append(
        f"- {b['path'] or 'no bundle'}"
        + (f", {b['mb']} MB" if b["mb"] else "")
        + (", calibrated" if b.get("calibrated") else ", NOT calibrated")
    )
    lines += [f"- {line}" for line in b["calibration"]]
    for part in ("pooled_test", "pooled_test_unseen_designs"):
        m = b.get(part)
        if m:
            lines.append(
                f"- {part} (calibrated threshold): AUC {_f(m['roc_auc'])}, "
                f"TP {_pct(m['tp_rate'])}, FP {_pct(m['fp_rate'])}, "
                f"TP at 5 % FP {_pct(m.get('tpr_at_fpr_5'))}, n {m['n']}"
            )
    return lines


def _failures(s: dict) -> str:
    failed = [j for j in s["jobs"] if j["rc"] != 0 or j["timed_out"] or j["skipped"]]
    if not failed:
        return ""
    lines = ["", "## Commands that failed, ran out of time or were skipped", ""]
    for j in failed:
        why = j["skipped"] or ("timed out" if j["timed_out"] else f"exit {j['rc']}")
        lines.append(f"- {j['name']}: {why}" + (f" ({j['log']})" if j["log"] else ""))
    return "\n".join(lines) + "\n"


# ----- the command line ----------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--out", type=Path, help="output folder (default: runs/gpu, tiny: runs/gpu-tiny)"
    )
    p.add_argument("--budget-min", type=float, help="wall-clock budget in minutes (9; tiny: 4)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--workers", type=int, help="synthesis processes (default: all CPU cores)")
    p.add_argument("--bags", type=int, help="simulated bags at most (3600; tiny 48)")
    p.add_argument(
        "--tip-bags",
        type=int,
        help="bags with objects projected into real backgrounds at most (1200; tiny 4)",
    )
    p.add_argument("--size", help="simulated bag size WxH (640x480; tiny 96x72)")
    p.add_argument(
        "--backgrounds",
        help="real backgrounds (folder or list file) for projected objects, never the eval "
        f"list; 'none' for none (default: {BACKGROUNDS} when it exists)",
    )
    p.add_argument(
        "--exclude-backgrounds",
        help="list of background names never projected into ('none' for none; default: "
        f"{EXCLUDED.relative_to(REPO)} with the default backgrounds)",
    )
    p.add_argument(
        "--hold-out-designs",
        type=int,
        help="designs per class kept for the unseen-design test (2; tiny 1)",
    )
    p.add_argument("--seed", type=int, default=3000, help="first synthesis seed (chunks count up)")
    p.add_argument(
        "--target-fpr", type=float, default=0.05, help="calibration: benign share flagged"
    )
    p.add_argument(
        "--eval-images", type=int, help="eval-detector on the first N images per test set"
    )
    p.add_argument(
        "--overlap",
        action=argparse.BooleanOptionalAction,
        help="train the judges beside the detector (default: on a GPU)",
    )
    p.add_argument("--parallel", type=int, help="commands at a time in the final stage")
    p.add_argument("--detector-config", default=DETECTOR_CONFIG)
    p.add_argument("--judge-config", default=JUDGE_CONFIG)
    p.add_argument(
        "--detector-set",
        dest="detector_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for train-detector (repeat)",
    )
    p.add_argument(
        "--judge-set",
        dest="judge_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for train-classifier (repeat)",
    )
    p.add_argument(
        "--synth-config", type=Path, help="YAML of changes to the simulator's defaults (synth)"
    )
    p.add_argument(
        "--synth-set",
        dest="synth_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for synth (repeat), e.g. bag.categories=[laptop]",
    )
    p.add_argument(
        "--judges-only",
        action="store_true",
        help="no detector, bundle or calibration: the judges of --classes, scored on seen and "
        "unseen designs (the learnability check)",
    )
    p.add_argument("--classes", help="comma-separated classes to judge (default: every class)")
    p.add_argument("--name", default="gpu", help="the bundle's name in the GUI")
    p.add_argument("--python", default=sys.executable, help="the Python that runs engine.cli")
    p.add_argument(
        "--tiny",
        action="store_true",
        help="the whole chain on the CPU in minutes: a few small bags, two steps",
    )
    args = p.parse_args(argv)
    if args.synth_config is not None and not args.synth_config.is_file():
        p.error(f"--synth-config {args.synth_config}: no such file")
    if args.synth_config is not None:
        args.synth_config = args.synth_config.resolve()
    args.classes = [c.strip() for c in (args.classes or "").split(",") if c.strip()] or None
    tiny = args.tiny
    defaults = {
        "out": Path("runs/gpu-tiny" if tiny else "runs/gpu"),
        "budget_min": 4.0 if tiny else 9.0,
        "workers": 1 if tiny else (os.cpu_count() or 1),
        "bags": 48 if tiny else 3600,
        "tip_bags": 4 if tiny else 1200,
        "size": "96x72" if tiny else "640x480",
        "hold_out_designs": 1 if tiny else 2,
        "eval_images": 6 if tiny else 800,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.exclude_backgrounds is None and args.backgrounds is None:
        args.exclude_backgrounds = EXCLUDED if EXCLUDED.is_file() else None
    elif args.exclude_backgrounds == "none":
        args.exclude_backgrounds = None
    if args.exclude_backgrounds is not None:
        args.exclude_backgrounds = Path(args.exclude_backgrounds).resolve()
    if args.backgrounds is None:
        args.backgrounds = BACKGROUNDS if BACKGROUNDS.is_file() else None
    elif args.backgrounds == "none":
        args.backgrounds = None
    if args.backgrounds is not None:
        args.backgrounds = Path(args.backgrounds).resolve()
        if "eval" in args.backgrounds.name:
            p.error(f"--backgrounds {args.backgrounds}: the eval list is never trained on")
    if tiny and args.device == "auto":
        args.device = "cpu"
    args.cuda, args.device_name = _device(args.device)
    if args.overlap is None:
        args.overlap = args.cuda
    cores = os.cpu_count() or 1
    args.parallel = args.parallel or (min(cores, 8) if args.cuda else max(1, min(cores, 2)))
    # CPU cores: the detector's loaders get a quarter, each judge one (crops are the work)
    args.detector_workers = 0 if tiny else max(2, cores // 4)
    args.judge_workers = 0 if tiny else None if args.judges_only else 1
    return args


def _device(device: str) -> tuple[bool, str]:
    """(whether it is CUDA, its name): torch says whether there is one (without making a CUDA
    context in this process), nvidia-smi what it is."""
    cores = f"{os.cpu_count()} CPU cores"
    if device == "cpu":
        return False, cores
    try:
        import torch

        available = torch.cuda.is_available()
    except ImportError:
        available = False
    if device == "auto" and not available:
        return False, cores
    if not available:
        raise SystemExit(f"gpu_model: --device {device}: this machine has no CUDA GPU")
    index = device.partition(":")[2] or "0"
    query = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader", "-i", index]
    try:
        name = subprocess.run(query, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        name = ""
    return True, f"{name or 'CUDA GPU ' + index} + {cores}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out if args.out.is_absolute() else REPO / args.out
    if out.exists() and any(out.iterdir()):
        print(f"gpu_model: {out} is not empty: remove it or pass --out", file=sys.stderr)
        return 2
    data, runs, logs = out / "data", out / "runs", out / "logs"
    for folder in (data, runs, logs):
        folder.mkdir(parents=True, exist_ok=True)
    shares = SHARES if args.overlap else SEQUENTIAL_SHARES
    clock = Clock(60 * args.budget_min, JUDGES_ONLY_SHARES if args.judges_only else shares)
    threads = 1 if args.overlap or args.tiny else 2
    runner = Runner([args.python, "-m", "engine.cli"], logs, args.parallel, threads)
    print(f"gpu_model: {args.device_name}, {args.budget_min:g} min, into {out}", flush=True)

    def interrupt(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    synth, split_info, final_info, error = {}, {}, None, None
    try:
        synth = synthesise(args, clock, runner, data)
        split_info = split(args, clock, runner, data, synth)
        classes = split_info.get("classes", [])
        if classes and args.classes:
            missing = sorted(set(args.classes) - set(classes))
            classes = [c for c in classes if c in args.classes]
            if missing:
                error = f"--classes {','.join(missing)}: not in the data"
        if classes and not error:
            train(args, clock, runner, data, runs, classes)
            final_info = final(args, clock, runner, data, runs, classes, out)
        elif not error:
            error = "no data to train on"
    except (Interrupted, KeyboardInterrupt) as exc:
        error = f"interrupted ({exc or 'Ctrl-C'})"
        runner.stop_all()
    summary = summarise(args, clock, runner, out, data, runs, synth, split_info, final_info, error)
    print((out / "summary.md").read_text())
    print(out / "summary.json")
    if args.judges_only:  # every judge scored on seen designs, and on unseen ones where held out
        unseen = not args.tiny and "test_unseen_designs" in (split_info.get("files") or {})
        scored = summary["judges"] and all(
            j["test"] and (j["test_unseen_designs"] or not unseen)
            for j in summary["judges"].values()
        )
        return 0 if scored and not error else 1
    return 0 if summary["bundle"]["path"] and not error else 1


if __name__ == "__main__":
    sys.exit(main())
