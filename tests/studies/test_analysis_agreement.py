"""Agreement between participants on the same pair, and time per judgment."""

import numpy as np
import pandas as pd
import pytest

from studies.analysis.agreement import (
    agreement_summary,
    item_outcomes,
    nominal_alpha_from_counts,
    timing_summary,
)
from studies.analysis.frame import judgments_canonical

COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def canonical(rows):
    return judgments_canonical(pd.DataFrame(rows, columns=COLUMNS))


def test_nominal_alpha_matches_krippendorffs_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
    # observers, twelve units, nominal values 1..5 with missing data; published alpha = 0.743.
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    counts = np.zeros((12, 5))
    for values in observers:
        for unit, value in enumerate(values):
            if value is not None:
                counts[unit, value - 1] += 1
    assert nominal_alpha_from_counts(counts) == pytest.approx(0.743, abs=5e-4)


def test_agreement_on_two_items_by_hand():
    rows = [
        # item q1: a, a, b -> agreeing pairs: (1,2) of 3 pairs = 1/3
        ("p1", "q1", "base", "perm", "a", "a", "overall", 1.0),
        ("p2", "q1", "base", "perm", "a", "b", "overall", 1.0),
        ("p3", "q1", "base", "perm", "b", "a", "overall", 1.0),
        # item q2: b, b -> 1 of 1 pair agrees
        ("p1", "q2", "base", "perm", "b", "a", "overall", 1.0),
        ("p2", "q2", "base", "perm", "b", "b", "overall", 1.0),
        # item q3 has one judgment: no overlap, left out of agreement
        ("p1", "q3", "base", "perm", "tie", "b", "overall", 1.0),
    ]
    summary = agreement_summary(canonical(rows))["overall"]
    assert (summary["items"], summary["items_with_overlap"]) == (3, 2)
    assert summary["mean_pairwise_agreement"] == pytest.approx((1 / 3 + 1) / 2)
    # Nominal alpha over q1 {a,a,b} and q2 {b,b}: pairable values n = 5 (a 2, b 3).
    #   D_o = (2 * n_ab(q1)/(m-1)) / n = (2 * 2*1/2) / 5 = 2/5
    #   D_e = (2 * 2 * 3) / (5 * 4) = 12/20 = 3/5
    #   alpha = 1 - D_o / D_e = 1 - (2/5)/(3/5) = 1/3
    assert summary["krippendorff_alpha"] == pytest.approx(1 / 3)


def test_perfect_disagreement_by_hand():
    # Two items, each a vs b: D_o = 1, D_e = 1 - (2*1 + 2*1)/(4*3) = 2/3, alpha = 1 - 3/2 = -0.5.
    assert nominal_alpha_from_counts([[1, 1, 0], [1, 1, 0]]) == pytest.approx(-0.5)
    assert nominal_alpha_from_counts([[2, 0, 0]]) is None


def test_item_majority_and_its_share():
    rows = [
        ("p1", "q1", "perm", "base", "a", "a", "overall", 1.0),  # mirrored: perm is b, so "b"
        ("p2", "q1", "base", "perm", "b", "b", "overall", 1.0),
        ("p3", "q1", "base", "perm", "tie", "b", "overall", 1.0),
        ("p1", "q2", "base", "perm", "a", "b", "overall", 1.0),
        ("p2", "q2", "base", "perm", "b", "b", "overall", 1.0),
    ]
    items = item_outcomes(canonical(rows)).set_index("prompt")
    assert items.loc["q1", "majority"] == "b" and items.loc["q1", "majority_share"] == pytest.approx(2 / 3)
    assert items.loc["q2", "majority"] is None  # 1 : 1, no majority


def test_timing_quartiles_and_fast_judgments_by_hand():
    seconds = [1.0, 2.0, 10.0, 20.0, float("nan")]
    rows = [(f"p{i}", "q1", "base", "perm", "a", "a", "overall", s) for i, s in enumerate(seconds)]
    timing = timing_summary(canonical(rows), fast_seconds=3.0)
    # Four timed values 1, 2, 10, 20: median (2+10)/2 = 6, mean 33/4, linear quartiles 1.75 and 12.5.
    assert (timing["n"], timing["median"], timing["mean"]) == (4, 6.0, 8.25)
    assert (timing["q1"], timing["q3"], timing["fast"]) == (1.75, 12.5, 2)
