"""The report's figures are honest for small runs: points, not boxes, below 5 seeds; no curve of
one point; axes that hold what the metric can be; tick labels that do not overlap."""

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import PathPatch

from bench import schema
from bench.report import figures

FID, SCORE, KID = (schema.final_column(k) for k in (schema.FID, schema.CLASSIFIER_SCORE,
                                                    schema.KID))


def _finals(seeds_by_config: dict) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"config": config, "seed": seed, FID: 40 + rng.normal(0, 3),
             SCORE: 8.1 + rng.normal(0, 0.01), KID: 0.01 + rng.normal(0, 0.001),
             schema.FINAL_OUTCOME: "digits"}
            for config, seeds in seeds_by_config.items() for seed in range(seeds)]
    return pd.DataFrame(rows)


def _boxes(fig) -> int:
    return sum(isinstance(p, PathPatch) for ax in fig.axes for p in ax.patches)


def test_a_box_is_drawn_only_for_a_configuration_with_five_seeds_or_more():
    assert _boxes(figures.final_metrics(_finals({"a": 2, "b": 4}), ["a", "b"])) == 0
    # three panels (FID, classifier score, KID), one box each for the configuration with 5
    assert _boxes(figures.final_metrics(_finals({"a": 2, "b": 5}), ["a", "b"])) == 3


def test_tick_labels_of_close_scores_do_not_overlap():
    fig = figures.final_metrics(_finals({"a": 6, "b": 6}), ["a", "b"])
    renderer = FigureCanvasAgg(fig).get_renderer()
    for ax in fig.axes:
        boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()
                 if label.get_text()]
        assert len(boxes) >= 2
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 <= right.x0, (ax.get_xlabel(), [t.get_text()
                                                           for t in ax.get_xticklabels()])


def _evals(steps_by_config: dict, classes=0) -> pd.DataFrame:
    return pd.DataFrame([{"config": c, "seed": 0, "step": step, "batch_size": 64, "fid": 900.0,
                          "classes_covered": classes, "confident_fraction": 0.0, "status": "ok"}
                         for c, steps in steps_by_config.items() for step in steps])


def test_no_curve_of_one_point_and_axes_that_hold_what_the_metric_can_be():
    colors = {"a": "#1f77b4", "b": "#ff7f0e"}
    assert figures.training_curves(_evals({"a": [40], "b": [40]}), colors) is None
    fig = figures.training_curves(_evals({"a": [20, 40], "b": [40]}), colors)
    top = fig.axes[:3]
    # only "a" has a curve; no seed made a digit, and the classes axis still runs 0 to 10
    assert [line.get_label() for line in top[0].get_lines() if not
            line.get_label().startswith("_")] in ([], ["a"])
    assert top[1].get_ylim() == (0, 10.5) and top[2].get_ylim() == (0, 1)
    assert top[0].get_ylim()[0] == 0
