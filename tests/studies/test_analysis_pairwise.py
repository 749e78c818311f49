"""Wins, ties and win rates per pair and criterion, checked against counts made by hand."""

import pandas as pd
import pytest

from studies.analysis.frame import judgments_canonical
from studies.analysis.pairwise import comparisons


def judgments(rows):
    columns = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]
    return pd.DataFrame(rows, columns=columns)


def test_pair_stored_in_either_order_is_counted_as_one_pair():
    frame = judgments(
        [
            # stored as (perm, base): "a" = perm won -> a win for perm
            ("p1", "q1", "perm", "base", "a", "a", "overall", 5.0),
            # stored as (base, perm): "b" = perm won
            ("p2", "q1", "base", "perm", "b", "b", "overall", 6.0),
            ("p3", "q1", "base", "perm", "a", "a", "overall", 7.0),
            ("p4", "q1", "perm", "base", "tie", "b", "overall", 8.0),
        ]
    )
    [record] = comparisons(frame)
    # Canonical order is alphabetical: base is "a". base won once (p3), perm twice (p1, p2), one tie.
    assert (record["system_a"], record["system_b"]) == ("base", "perm")
    assert (record["wins_a"], record["wins_b"], record["ties"], record["n"]) == (1, 2, 1, 4)


def test_mirroring_keeps_the_side_that_was_on_the_left():
    frame = judgments([("p1", "q1", "perm", "base", "a", "a", "overall", 5.0)])
    row = judgments_canonical(frame).iloc[0]
    # perm was stored as a and shown left; after mirroring perm is b, still on the left, and chosen.
    assert (row["system_a"], row["choice"], row["left"], bool(row["chose_left"])) == ("base", "b", "b", True)


def test_win_rates_with_and_without_ties_by_hand():
    # base vs perm on "overall": base wins 3, perm wins 5, 2 ties (10 judgments).
    rows = [(f"p{i}", "q1", "base", "perm", "a", "a", "overall", 1.0) for i in range(3)]
    rows += [(f"p{i}", "q1", "base", "perm", "b", "a", "overall", 1.0) for i in range(3, 8)]
    rows += [(f"p{i}", "q1", "base", "perm", "tie", "a", "overall", 1.0) for i in range(8, 10)]
    [record] = comparisons(judgments(rows))
    # Ties left out: 3 / (3 + 5) = 0.375.
    assert record["win_rate_a"] == pytest.approx(0.375)
    # Ties counted half: (3 + 2/2) / 10 = 0.4.
    assert record["win_rate_a_ties_half"] == pytest.approx(0.4)
    assert record["tie_rate"] == pytest.approx(0.2)
    # Sign test on 3 of 8: P(X <= 3 | n=8) = (1 + 8 + 28 + 56) / 256 = 93/256; two-sided x2.
    assert record["p_value"] == pytest.approx(2 * 93 / 256)
    # Wilson 95% for 3/8 by hand: z = 1.959964, p = .375, n = 8
    #   centre = (p + z^2/2n) / (1 + z^2/n) = (.375 + .240091) / 1.480182 = .415551
    #   half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2) = 1.324137 * sqrt(.029297 + .015006) = .278707
    assert record["win_rate_a_ci"] == pytest.approx([0.136844, 0.694258], abs=1e-5)


def test_criteria_are_reported_separately_primary_first():
    frame = judgments(
        [
            ("p1", "q1", "base", "perm", "a", "a", "empathy", 1.0),
            ("p1", "q1", "base", "perm", "b", "a", "overall", 1.0),
        ]
    )
    records = comparisons(frame, criteria=["overall", "empathy"])
    assert [(r["criterion"], r["wins_a"], r["wins_b"]) for r in records] == [
        ("overall", 0, 1),
        ("empathy", 1, 0),
    ]


def test_a_pair_with_only_ties_has_no_win_rate_but_a_ties_half_rate():
    [record] = comparisons(judgments([("p1", "q1", "base", "perm", "tie", "a", "overall", 1.0)]))
    assert record["win_rate_a"] is None and record["win_rate_a_ci"] is None and record["p_value"] is None
    assert record["win_rate_a_ties_half"] == 0.5


def test_invalid_choice_is_rejected_with_its_value():
    with pytest.raises(ValueError, match="left-ish"):
        comparisons(judgments([("p1", "q1", "base", "perm", "left-ish", "a", "overall", 1.0)]))
