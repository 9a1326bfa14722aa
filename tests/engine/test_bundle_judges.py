"""Bundles with a classifier per host class: each object is judged by its class's classifier."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
import torch

from engine.bundle import (
    BundleError,
    Judge,
    build_judges,
    calibrate_bundle,
    judge_objects,
    load_bundle,
    make_bundle,
    route,
)
from engine.classification.models import ViewMean
from engine.cli import main
from engine.data.split import is_anomalous
from engine.pipeline import Screener


def _most_common_class(tiny_coco) -> str:
    data = json.loads((tiny_coco / "train.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    return Counter(names[a["category_id"]] for a in data["annotations"]).most_common(1)[0][0]


@pytest.fixture(scope="module")
def per_class(tiny_coco, tiny_bundle, tmp_path_factory):
    """(detector, all-class classifier, classifier of one class, that class), trained quickly."""
    from engine.classification.config import ClassifierConfig
    from engine.classification.train import train_classifier
    from engine.config import load_config

    bundle = load_bundle(tiny_bundle)
    host = _most_common_class(tiny_coco)
    config = load_config(
        ClassifierConfig,
        None,
        [
            f"data.train={tiny_coco}",
            f"run.out={tmp_path_factory.mktemp('runs')}",
            f"data.categories=[{host}]",
            "run.name=one_class",
            "data.num_workers=0",
            "model.input_size=32",
            "solver.batch_size=8",
            "solver.max_iters=2",
            "solver.warmup_iters=1",
        ],
    )
    one = train_classifier(config, progress=False).run_dir / "last.pt"
    return bundle["detector"]["source"], bundle["classifiers"][0]["source"], one, host


class _Constant(torch.nn.Module):
    """Logits [0, margin] for every crop: which judge scored an object shows in its score."""

    def __init__(self, margin: float) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([[0.0, self.margin]]).expand(len(x), 2)


class _TwoObjects(torch.nn.Module):
    """A detector that finds the same two objects in every scan, of the classes `labels`
    (1-based): the routing is checked on findings we chose, not on what a tiny model finds."""

    def __init__(self, labels: tuple[int, int]) -> None:
        super().__init__()
        self.labels = torch.tensor(labels)

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        h, w = images[0].shape[-2:]
        boxes = torch.tensor(
            [[0.1 * w, 0.1 * h, 0.4 * w, 0.5 * h], [0.5 * w, 0.3 * h, 0.9 * w, 0.8 * h]]
        )
        masks = torch.zeros(2, 1, h, w)
        for mask, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist(), strict=True):
            mask[0, y0:y1, x0:x1] = 1.0
        return [
            {
                "boxes": boxes,
                "labels": self.labels,
                "scores": torch.tensor([0.9, 0.8]),
                "masks": masks,
            }
        ]


def test_judge_scores_put_the_operating_threshold_at_one_half():
    judge = Judge(torch.nn.Identity(), None, threshold=0.9)
    margins = torch.tensor([math.log(9), 0.0, 10.0])  # probabilities 0.9, 0.5, ~1
    scores = judge.centred(margins)
    assert scores[0] == pytest.approx(0.5)
    assert scores[1] < 0.5 < scores[2]
    extreme = Judge(torch.nn.Identity(), None, threshold=1.0)  # a saturated threshold stays finite
    assert torch.isfinite(extreme.centred(margins)).all()


def test_route_gives_named_classes_to_their_judge_and_the_rest_to_the_default():
    judges = [
        Judge(None, frozenset({"toaster"}), 0.5),
        Judge(None, None, 0.5),
        Judge(None, frozenset({"mobile", "iron"}), 0.5),
    ]
    labels = ["toaster", "laptop", "iron", "bottle", "mobile"]
    assert route(labels, judges) == [[0], [1, 3], [2, 4]]
    assert route(labels, judges[:1]) == [[0]]  # no default: the rest is not judged


@pytest.mark.slow
def test_a_bundle_records_which_classes_each_classifier_judges(per_class, tmp_path):
    detector, everything, one, host = per_class
    path = make_bundle(detector, [one, everything], tmp_path / "two.xsb")
    bundle = load_bundle(path)
    assert [c["categories"] for c in bundle["classifiers"]] == [[host], None]
    assert len(bundle["model"]["classifiers"]) == 2
    assert bundle["thresholds"]["anomaly"] == 0.5
    assert all(0 <= c["threshold"] <= 1 for c in bundle["classifiers"])


@pytest.mark.slow
def test_a_bundle_gives_its_detector_to_a_new_bundle_with_other_judges(per_class, tmp_path):
    detector, everything, one, _ = per_class
    first = load_bundle(make_bundle(detector, [one], tmp_path / "first.xsb"))
    second = load_bundle(make_bundle(tmp_path / "first.xsb", [everything], tmp_path / "b.xsb"))
    assert second["detector"]["architecture"] == first["detector"]["architecture"]
    assert second["categories"] == first["categories"]
    assert [c["categories"] for c in second["classifiers"]] == [None]
    for k, v in first["model"]["detector"].items():
        assert torch.equal(second["model"]["detector"][k], v), k


@pytest.mark.slow
def test_a_bundle_gives_its_judges_to_a_new_detector(per_class, tmp_path):
    detector, everything, one, host = per_class
    first = load_bundle(make_bundle(detector, [one, everything], tmp_path / "first.xsb"))
    second = load_bundle(make_bundle(detector, [tmp_path / "first.xsb"], tmp_path / "b.xsb"))
    assert [c["categories"] for c in second["classifiers"]] == [[host], None]
    for old, new in zip(first["classifiers"], second["classifiers"], strict=True):
        assert new["threshold"] == old["threshold"] and new["architecture"] == old["architecture"]
    assert second["crops"] == first["crops"]
    for old, new in zip(first["model"]["classifiers"], second["model"]["classifiers"], strict=True):
        assert old.keys() == new.keys() and all(torch.equal(old[k], new[k]) for k in old)
    with pytest.raises(BundleError, match="both judge"):
        make_bundle(detector, [tmp_path / "first.xsb", one], tmp_path / "c.xsb")


@pytest.mark.slow
def test_each_finding_is_scored_by_the_judge_of_its_class(per_class, tiny_coco, tmp_path):
    detector, everything, one, host = per_class
    screener = Screener.from_bundle(make_bundle(detector, [one, everything], tmp_path / "b.xsb"))
    assert screener.judged_categories == tuple(screener.categories)
    other = next(c for c in screener.categories if c != host)
    index = screener.categories.index
    screener.detector = _TwoObjects((index(host) + 1, index(other) + 1))
    for judge, margin in zip(screener.judges, (4.0, -4.0), strict=True):
        judge.model = _Constant(margin)
    path = sorted((tiny_coco / "images").glob("bag_??????.png"))[0]
    findings = screener(path).findings
    assert [f.label for f in findings] == [host, other]
    for f, judge, margin in zip(findings, screener.judges, (4.0, -4.0), strict=True):
        expected = judge.centred(torch.tensor([margin])).item()
        assert f.anomaly_score == pytest.approx(expected, abs=1e-4)
        assert f.anomalous == (f.anomaly_score >= 0.5)
    assert findings[0].anomalous and not findings[1].anomalous


@pytest.mark.slow
def test_without_a_default_judge_other_classes_get_no_anomaly_score(per_class, tmp_path):
    detector, _, one, host = per_class
    screener = Screener.from_bundle(make_bundle(detector, [one], tmp_path / "one.xsb"))
    screener.score_threshold = 0.0
    assert screener.has_classifier and screener.judged_categories == (host,)
    from engine.synth.dataset import write_dataset

    write_dataset(tmp_path / "s", 2, seed=3, progress=False)
    paths = sorted((tmp_path / "s" / "images").glob("bag_??????.png"))
    findings = [f for path in paths for f in screener(path).findings]
    assert findings, "nothing found: the checks of each finding would check nothing"
    for f in findings:
        assert (f.anomaly_score is None) == (f.label != host)
        assert not (f.anomaly_score is None and f.anomalous)


@pytest.mark.slow
def test_conflicting_classifiers_are_refused(per_class, tmp_path):
    detector, everything, one, host = per_class
    with pytest.raises(BundleError, match=f"both judge class '{host}'"):
        make_bundle(detector, [one, one], tmp_path / "x.xsb")
    with pytest.raises(BundleError, match="both judge all other classes"):
        make_bundle(detector, [everything, everything], tmp_path / "x.xsb")
    state = torch.load(one, weights_only=True)
    state["crops"]["size"] = 48
    torch.save(state, tmp_path / "other_size.pt")
    with pytest.raises(BundleError, match="must crop alike"):
        make_bundle(detector, [everything, tmp_path / "other_size.pt"], tmp_path / "x.xsb")
    state["crops"]["size"] = load_bundle(make_bundle(detector, everything, tmp_path / "y.xsb"))[
        "crops"
    ]["size"]
    state["config"]["data"]["categories"] = ["umbrella"]
    torch.save(state, tmp_path / "umbrella.pt")
    with pytest.raises(BundleError, match="'umbrella', which the detector does not find"):
        make_bundle(detector, [tmp_path / "umbrella.pt"], tmp_path / "x.xsb")
    assert not (tmp_path / "x.xsb").exists()


@pytest.mark.slow
def test_a_bundle_without_classifier_lists_is_refused_with_a_way_out(tiny_bundle, tmp_path):
    state = torch.load(tiny_bundle, weights_only=True)
    state.pop("classifiers")
    torch.save(state, tmp_path / "old.xsb")
    with pytest.raises(BundleError, match=r"without 'classifiers'.*xray-engine bundle"):
        load_bundle(tmp_path / "old.xsb")


@pytest.mark.slow
def test_eval_classifier_scores_a_bundle_per_class(per_class, tiny_coco, tmp_path, capsys):
    detector, everything, one, _ = per_class
    bundle = make_bundle(detector, [one, everything], tmp_path / "b.xsb")
    out = tmp_path / "eval.json"
    args = ["eval-classifier", "--checkpoint", str(bundle), "--data", str(tiny_coco)]
    assert main([*args, "--out", str(out), "--device", "cpu"]) == 0
    result = json.loads(out.read_text())
    test = json.loads((tiny_coco / "test.json").read_text())
    assert result["metrics"]["n"] == len(test["annotations"])
    names = {c["id"]: c["name"] for c in test["categories"]}
    assert set(result["per_class"]) == {names[a["category_id"]] for a in test["annotations"]}
    assert sum(m["n"] for m in result["per_class"].values()) == result["metrics"]["n"]
    assert result["metrics"]["threshold"] == 0.5
    # the simulator records each anomaly's type and visibility: every anomaly lands in one row
    types = {a["attributes"]["anomaly_type"] for a in test["annotations"] if is_anomalous(a)}
    assert set(result["per_anomaly_type"]) == types
    positives = result["metrics"]["positives"]
    assert sum(g["n"] for g in result["per_anomaly_type"].values()) == positives
    assert sum(g["n"] for g in result["per_visibility"].values()) == positives
    assert sum(g["n"] for g in result["per_cover"].values()) == positives
    shown = sum(g["n"] for band, g in result["per_visibility"].items() if band != "< 3 σ")
    assert result.get("visible", {}).get("≥ 3 σ", {"n": 0})["n"] == shown
    printed = capsys.readouterr().out
    assert "all" in printed and "per anomaly type:" in printed
    assert "visible:" in printed and "per cover:" in printed
    assert [(c["views"], c["threshold_views"]) for c in result["classifiers"]] == [(1, 1)] * 2
    # every judge asked with 8 views: the same objects, the thresholds still the recorded ones
    turned = tmp_path / "turned.json"
    assert main([*args, "--out", str(turned), "--device", "cpu", "--views", "8"]) == 0
    averaged = json.loads(turned.read_text())
    assert [(c["views"], c["threshold_views"]) for c in averaged["classifiers"]] == [(8, 1)] * 2
    asked = build_judges(load_bundle(bundle), torch.device("cpu"), 8)
    assert [(type(j.model), j.model.views) for j in asked] == [(ViewMean, 8)] * 2
    with pytest.raises(BundleError, match="cannot take 3 views"):
        build_judges(load_bundle(bundle), torch.device("cpu"), 3)
    assert averaged["metrics"]["n"] == result["metrics"]["n"]
    assert averaged["metrics"]["threshold"] == 0.5
    assert main(["eval-classifier", "--checkpoint", str(tmp_path / "none.xsb"), "--data", "x"]) == 2


@pytest.mark.slow
def test_calibrate_places_each_judges_threshold_on_its_benign_objects(
    per_class, tiny_coco, tmp_path, monkeypatch
):
    detector, everything, one, host = per_class
    bundle = make_bundle(detector, [one, everything], tmp_path / "b.xsb")
    monkeypatch.setattr("engine.bundle.MIN_CALIBRATION_BENIGN", 1)  # a 12-bag set is small
    data = tiny_coco / "annotations.json"
    for target in (0.0, 0.5, 1.0):
        out = calibrate_bundle(bundle, data, tmp_path / f"c{target}.xsb", target_fpr=target)
        calibrated = load_bundle(tmp_path / f"c{target}.xsb")
        labels, scores, classes, _ = judge_objects(calibrated, data, torch.device("cpu"))
        for info, record in zip(calibrated["classifiers"], out, strict=True):
            assert info["calibration"] == record and info["target_fpr"] == target
            mine = [(c == host) == (info["categories"] == [host]) for c in classes]
            benign = labels[mine] == 0
            assert record["benign"] == benign.sum() > 0
            # the pipeline flags, at its 0.5, exactly the share of benign objects recorded
            assert (scores[mine][benign] >= 0.5).mean() == pytest.approx(record["fp_rate"])
            assert record["fp_rate"] <= target
        if target in (0.0, 1.0):
            assert all(r["fp_rate"] == target for r in out)


@pytest.mark.slow
def test_calibrate_keeps_thresholds_it_cannot_place_and_reports_bad_input(
    per_class, tiny_coco, tmp_path, monkeypatch, capsys
):
    detector, everything, one, _ = per_class
    bundle = make_bundle(detector, [one, everything], tmp_path / "b.xsb")
    monkeypatch.setattr("engine.bundle.MIN_CALIBRATION_BENIGN", 10**6)
    out = tmp_path / "kept.xsb"
    args = ["calibrate", str(bundle), "--data", str(tiny_coco), "--out", str(out)]
    assert main([*args, "--device", "cpu"]) == 0
    assert "kept" in capsys.readouterr().out
    before, after = load_bundle(bundle), load_bundle(out)
    assert [c["threshold"] for c in after["classifiers"]] == [
        c["threshold"] for c in before["classifiers"]
    ]
    detector_only = make_bundle(detector, None, tmp_path / "d.xsb")
    assert main(["calibrate", str(detector_only), "--data", str(tiny_coco), "--out", str(out)]) == 2
    assert "no anomaly threshold" in capsys.readouterr().err
    args = ["calibrate", str(bundle), "--data", str(tiny_coco), "--out", str(out)]
    assert main([*args, "--target-fpr", "1.5"]) == 2
    assert "--target-fpr must be a share in [0, 1]" in capsys.readouterr().err


def test_a_bundle_without_judges_has_none_to_give(tiny_bundle, tmp_path):
    bare = make_bundle(tiny_bundle, None, tmp_path / "bare.xsb")
    with pytest.raises(BundleError, match="without judges"):
        make_bundle(tiny_bundle, [bare], tmp_path / "b.xsb")


def test_a_judge_trained_with_views_is_asked_with_them_wherever_it_scores(
    per_class, tiny_coco, tmp_path
):
    """model.views reaches the checkpoint, eval-classifier's judge and a bundle's screening."""
    from engine.classification.config import ClassifierConfig
    from engine.classification.evaluate import load_classifier
    from engine.classification.models import ViewMean
    from engine.classification.train import train_classifier
    from engine.config import ConfigError, load_config

    detector, *_ = per_class
    settings = [
        f"data.train={tiny_coco}",
        f"data.val={tiny_coco}",
        f"run.out={tmp_path}",
        "data.num_workers=0",
        "model.input_size=32",
        "solver.batch_size=8",
        "solver.max_iters=2",
        "solver.warmup_iters=1",
    ]
    run = train_classifier(
        load_config(ClassifierConfig, None, [*settings, "model.views=2"]), progress=False
    )
    model, state = load_classifier(run.run_dir / "best.pt", "cpu")
    assert state["architecture"]["views"] == 2
    assert isinstance(model, ViewMean) and model.views == 2 and not model.training
    screener = Screener.from_bundle(
        make_bundle(detector, [run.run_dir / "best.pt"], tmp_path / "b.xsb")
    )
    assert [type(j.model) for j in screener.judges] == [ViewMean]
    for wrong in (["model.views=3"], ["model.views=8", "crops.align=true"]):
        with pytest.raises(ConfigError, match="views"):
            train_classifier(load_config(ClassifierConfig, None, [*settings, *wrong]))
