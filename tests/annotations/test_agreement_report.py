import numpy as np
import pandas as pd
import pytest

from annotations.agreement.aggregate import aggregate_rows, aggregate_table
from annotations.agreement.annotators import annotator_quality
from annotations.agreement.report import agreement_report
from tests.annotations.agreement_examples import KRIPPENDORFF_ALPHAS, KRIPPENDORFF_CODERS_X_UNITS

DIMENSIONS = [
    {"name": "empathy", "type": "likert", "level": "ordinal", "min": 1, "max": 5, "step": 1, "choices": []},
    {"name": "warmth", "type": "slider", "level": "interval", "min": 0, "max": 100, "step": 1, "choices": []},
    {
        "name": "mechanism", "type": "choice", "level": "nominal", "min": None, "max": None, "step": None,
        "choices": [{"value": "none", "label": "None"}, {"value": "weak", "label": "Weak"},
                    {"value": "strong", "label": "Strong"}],
    },
    {"name": "why", "type": "text", "level": None, "choices": []},
]


def _krippendorff_frame():
    rows = []
    for coder, values in enumerate(KRIPPENDORFF_CODERS_X_UNITS):
        for unit, value in enumerate(values):
            if not np.isnan(value):
                rows.append({"item": f"u{unit}", "unit": f"u{unit}", "annotator": f"c{coder}", "dimension": "empathy",
                             "value": int(value), "seconds": 10.0})
    return pd.DataFrame(rows)


def _crowd_frame(seed=0, n_items=40, n_annotators=9):
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(n_items):
        truth = rng.integers(1, 6)
        for annotator in rng.choice(n_annotators, size=4, replace=False):
            noisy = annotator >= 6
            value = rng.integers(1, 6) if noisy else int(np.clip(truth + rng.integers(-1, 2), 1, 5))
            common = {"item": f"i{item}", "unit": f"i{item}", "annotator": f"a{annotator}", "seconds": 5.0 + annotator}
            rows.append({**common, "dimension": "empathy", "value": value})
            rows.append({**common, "dimension": "warmth", "value": float(value * 20 + rng.normal(scale=5))})
            rows.append({**common, "dimension": "mechanism", "value": ["none", "weak", "strong"][min(value // 2, 2)]})
            rows.append({**common, "dimension": "why", "value": "because"})
    return pd.DataFrame(rows)


def test_report_alpha_uses_each_dimensions_level_and_can_be_asked_for_another():
    frame = _krippendorff_frame()
    report = agreement_report(frame, DIMENSIONS[:1], n_bootstrap=0)
    assert report["dimensions"]["empathy"]["krippendorff_alpha"] == pytest.approx(KRIPPENDORFF_ALPHAS["ordinal"], abs=5e-4)
    for level in ("nominal", "interval", "ratio"):
        other = agreement_report(frame, DIMENSIONS[:1], n_bootstrap=0, level=level)["dimensions"]["empathy"]
        assert other["level"] == level
        assert other["krippendorff_alpha"] == pytest.approx(KRIPPENDORFF_ALPHAS[level], abs=5e-4)


def test_report_has_every_figure_key_and_nulls_what_does_not_apply():
    report = agreement_report(_crowd_frame(), DIMENSIONS, n_bootstrap=50)
    assert set(report["dimensions"]) == {"empathy", "warmth", "mechanism"}  # text has no agreement
    keys = {"level", "krippendorff_alpha", "alpha_ci", "fleiss_kappa", "cohen_kappa_mean", "icc", "pearson_mean",
            "spearman_mean", "n_items", "n_annotators", "n_labels"}
    for figures in report["dimensions"].values():
        assert keys <= set(figures)
    warmth, mechanism, empathy = (report["dimensions"][n] for n in ("warmth", "mechanism", "empathy"))
    assert warmth["fleiss_kappa"] is None and warmth["cohen_kappa_mean"] is None
    assert mechanism["icc"] is None and mechanism["pearson_mean"] is None
    assert empathy["fleiss_kappa"] is not None and empathy["icc"]["design"] == "one-way"
    assert empathy["n_items"] == 40 and empathy["n_labels"] == 160 and empathy["n_annotators"] == 9
    low, high = warmth["alpha_ci"]
    assert low < warmth["krippendorff_alpha"] < high


def test_groups_report_counts_and_between_group_alpha():
    frame = _crowd_frame(1)
    attributes = pd.DataFrame(
        {"country": ["uk"] * 4 + ["in"] * 4 + [None]}, index=[f"a{i}" for i in range(9)]
    )
    report = agreement_report(frame, DIMENSIONS, attributes, by=["country"], n_bootstrap=20)
    groups = report["groups"]["country"]
    assert set(groups) == {"uk", "in", "(not given)"}
    assert groups["uk"]["n_annotators"] == 4
    assert groups["uk"]["n_labels"] == int(frame["annotator"].isin(["a0", "a1", "a2", "a3"]).sum())
    assert groups["uk"]["dimensions"]["empathy"]["n_annotators"] == 4
    between = report["between_groups"]["country"]["empathy"]
    assert between["n_groups"] == 3 and between["krippendorff_alpha"] is not None


def test_per_turn_dimensions_are_analysed_per_turn_unit():
    rows = []
    for item in range(5):
        for turn in range(3):
            for annotator in range(3):
                rows.append({"item": f"d{item}", "unit": f"d{item}#{turn}", "turn": turn, "annotator": f"a{annotator}",
                             "dimension": "empathy", "value": 1 + (item + turn + (annotator == 2)) % 5, "seconds": 3.0})
    per_turn = [{**DIMENSIONS[0], "per_turn": True}]
    figures = agreement_report(pd.DataFrame(rows), per_turn, n_bootstrap=0)["dimensions"]["empathy"]
    assert figures["n_units"] == 15 and figures["n_items"] == 5 and figures["per_turn"] is True


def test_aggregation_keeps_the_spread_and_states_ties():
    frame = pd.DataFrame(
        {
            "item": ["x"] * 4 + ["y"] * 3,
            "unit": ["x"] * 4 + ["y"] * 3,
            "annotator": ["a", "b", "c", "d", "a", "b", "c"],
            "dimension": ["empathy"] * 7,
            "value": [1, 1, 5, 5, 2, 2, 3],
            "seconds": [1.0] * 7,
        }
    )
    table = aggregate_table(frame, DIMENSIONS[:1]).set_index("unit")
    assert table.loc["x", "mean"] == 3 and table.loc["x", "median"] == 3
    assert table.loc["x", "majority"] is None and table.loc["x", "tied_values"] == [1, 5]
    assert table.loc["y", "majority"] == 2 and table.loc["y", "tied_values"] == []
    assert table.loc["x", "distribution"] == {"1": 0.5, "5": 0.5}
    assert table.loc["x", "std"] == pytest.approx(np.std([1, 1, 5, 5], ddof=1))
    assert table.loc["x", "disagreement"] > table.loc["y", "disagreement"]
    rows = {r["unit"]: r for r in aggregate_rows(frame, "majority", dimensions=DIMENSIONS[:1])}
    assert rows["x"]["value"] is None and rows["x"]["tied_values"] == [1, 5] and rows["y"]["n_labels"] == 3
    assert len(list(aggregate_rows(frame, "none"))) == 7


def test_weighted_aggregation_follows_given_weights_and_dawid_skene_for_choices():
    frame = pd.DataFrame(
        {"item": ["x"] * 2, "unit": ["x"] * 2, "annotator": ["good", "bad"], "dimension": ["empathy"] * 2,
         "value": [4, 2], "seconds": [1.0, 1.0]}
    )
    rows = list(aggregate_rows(frame, "weighted", {"good": 3.0, "bad": 1.0}, dimensions=DIMENSIONS[:1]))
    assert rows[0]["value"] == pytest.approx(3.5)
    crowd = _crowd_frame(2)
    choice_rows = list(aggregate_rows(crowd, "weighted", dimensions=[DIMENSIONS[2]]))
    assert len(choice_rows) == 40
    assert all(r["value"] in ("none", "weak", "strong") for r in choice_rows)
    assert all(sum(r["distribution"].values()) == pytest.approx(1.0) for r in choice_rows)


def test_annotator_quality_reports_time_gold_attention_and_agreement():
    frame = _crowd_frame(3)
    frame["expected"] = None
    frame["is_gold"] = frame["item"] == "i0"
    frame["is_attention_check"] = frame["item"] == "i1"
    gold_mask = frame["item"].isin(["i0", "i1"]) & (frame["dimension"] == "mechanism")
    frame.loc[gold_mask, "expected"] = "weak"
    table = annotator_quality(frame, DIMENSIONS, too_fast_seconds=8.0).set_index("annotator")
    assert table.loc["a0", "median_seconds"] == 5.0 and table.loc["a0", "too_fast_share"] == 1.0
    assert table.loc["a8", "too_fast_share"] == 0.0
    gold = frame[gold_mask & frame["is_gold"]]
    for annotator, group in gold.groupby("annotator"):
        assert table.loc[annotator, "gold_n"] == len(group)
        assert table.loc[annotator, "gold_accuracy"] == (group["value"] == "weak").mean()
    attention = frame[gold_mask & frame["is_attention_check"]]
    for annotator, group in attention.groupby("annotator"):
        assert table.loc[annotator, "attention_failed"] == (group["value"] != "weak").sum()
    # the three noisy annotators (a6..a8) agree less with the others than the careful ones
    careful = table.loc[["a0", "a1", "a2", "a3", "a4", "a5"], "loo_pearson"].mean()
    noisy = table.loc[["a6", "a7", "a8"], "loo_pearson"].mean()
    assert careful > noisy
    assert table.loc[["a6", "a7", "a8"], "reliability"].mean() < table.loc[["a0", "a1", "a2"], "reliability"].mean()
