"""Combination rules for per-dimension scores, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from ml.core.scores import PERM_DIMENSIONS, ScoreResult, combine, combine_columns


@pytest.mark.parametrize(
    ("rule", "weights", "expected"),
    [
        ("mean", None, 7 / 3),  # (1 + 2 + 4) / 3
        ("geometric", None, 2.0),  # cube root of 1 * 2 * 4 = 8
        ("harmonic", None, 12 / 7),  # 3 / (1 + 1/2 + 1/4)
        ("weighted", [1, 1, 2], 2.75),  # (1 + 2 + 8) / 4
        ("geometric", [1, 1, 2], 2**1.25),  # (1 * 2 * 4**2) ** (1/4) = 32 ** (1/4)
        ("harmonic", [1, 1, 2], 4 / (1 + 0.5 + 0.5)),  # 4 / (1/1 + 1/2 + 2/4) = 2
    ],
)
def test_rules_match_hand_computed_values(rule, weights, expected):
    assert combine([1.0, 2.0, 4.0], rule, weights) == pytest.approx(expected)


def test_missing_scores_are_left_out_and_weights_renormalised():
    assert combine([4.0, math.nan, 2.0], "mean") == pytest.approx(3.0)
    # weights 1, 3, 1 with the middle one missing: (4 + 2) / 2
    assert combine([4.0, math.nan, 2.0], "weighted", [1, 3, 1]) == pytest.approx(3.0)
    assert combine([4.0, math.nan, 1.0], "geometric") == pytest.approx(2.0)


def test_all_missing_gives_nan_not_zero():
    assert math.isnan(combine([math.nan, math.nan], "mean"))


def test_weights_by_name_follow_the_dimension_names():
    value = combine([5.0, 1.0], "weighted", {"expression": 3.0, "resonation": 1.0}, names=["resonation", "expression"])
    assert value == pytest.approx((5 * 1 + 1 * 3) / 4)


def test_a_zero_weight_drops_that_dimension():
    assert combine([5.0, 1.0, 3.0], "weighted", [1, 0, 1]) == pytest.approx(4.0)


@pytest.mark.parametrize("rule", ["geometric", "harmonic"])
def test_geometric_and_harmonic_refuse_non_positive_scores(rule):
    with pytest.raises(ValueError, match="positive"):
        combine([3.0, 0.0], rule)


def test_weighted_needs_weights_and_unknown_rules_are_refused():
    with pytest.raises(ValueError, match="needs weights"):
        combine([1.0, 2.0], "weighted")
    with pytest.raises(ValueError, match="unknown combine rule"):
        combine([1.0, 2.0], "median")
    with pytest.raises(ValueError, match="2 weights for 3 scores"):
        combine([1.0, 2.0, 3.0], "weighted", [1, 1])


def test_columns_are_combined_row_by_row():
    columns = {"resonation": [1.0, 5.0], "expression": [3.0, math.nan]}
    assert combine_columns(columns, "mean") == pytest.approx([2.0, 5.0])
    assert combine_columns({}, "mean") == []


def test_score_result_names_its_dimensions_in_order():
    result = ScoreResult(per_dimension={name: [1.0] for name in PERM_DIMENSIONS}, reward=[1.0])
    assert result.dimensions == PERM_DIMENSIONS
    assert PERM_DIMENSIONS == ("resonation", "expression", "reception", "bystander")
