"""Position bias: share of left choices with its exact test, per participant, and the one-sided rule."""

import pandas as pd
import pytest

from studies.analysis import study_report
from studies.analysis.frame import judgments_canonical
from studies.analysis.position import one_sided_participants, position_bias

COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def row(participant, *, chose_left, left="a", choice=None, prompt="q1"):
    if choice is None:
        choice = left if chose_left else ("b" if left == "a" else "a")
    return (participant, prompt, "base", "perm", choice, left, "overall", 4.0)


def test_fifteen_left_of_twenty_by_hand():
    rows = [row(f"p{i}", chose_left=i < 15, left="ab"[i % 2]) for i in range(20)]
    rows.append(row("p0", chose_left=False, choice="tie"))  # a tie picks no side: not counted
    bias = position_bias(judgments_canonical(pd.DataFrame(rows, columns=COLUMNS)))
    assert (bias["left"], bias["n"], bias["left_share"]) == (15, 20, 0.75)
    # P(X >= 15 | n=20, 1/2) = (C(20,15)+C(20,16)+...+C(20,20)) / 2^20
    #                        = (15504 + 4845 + 1140 + 190 + 20 + 1) / 1048576 = 21700 / 1048576
    assert bias["p_value"] == pytest.approx(2 * 21700 / 1048576, rel=1e-12)


def test_balanced_choices_show_no_bias():
    rows = [row("p1", chose_left=k % 2 == 0, left="ab"[k // 2 % 2], prompt=f"q{k}") for k in range(8)]
    bias = position_bias(judgments_canonical(pd.DataFrame(rows, columns=COLUMNS)))
    assert bias["left_share"] == 0.5 and bias["p_value"] == pytest.approx(1.0)


def test_participant_who_always_picks_left_is_flagged_only_above_the_floor():
    rows = [row("always", chose_left=True, left="ab"[k % 2], prompt=f"q{k}") for k in range(6)]
    rows += [row("short", chose_left=True, prompt=f"q{k}") for k in range(2)]
    rows += [row("mixed", chose_left=k < 3, left="ab"[k % 2], prompt=f"q{k}") for k in range(6)]
    canonical = judgments_canonical(pd.DataFrame(rows, columns=COLUMNS))
    assert one_sided_participants(canonical, min_judgments=4) == ["always"]
    by_participant = {p["participant"]: p for p in position_bias(canonical)["by_participant"]}
    # 6 of 6 left: two-sided exact p = 2 / 2^6.
    assert by_participant["always"]["p_value"] == pytest.approx(2 / 64)
    assert by_participant["always"]["one_sided"] and not by_participant["mixed"]["one_sided"]


def test_report_recomputes_results_without_one_sided_participants():
    # "lefty" always picks the left side, which is always perm: 6 wins for perm.
    rows = [("lefty", f"q{k}", "base", "perm", "b", "b", "overall", 2.0) for k in range(6)]
    # Two honest participants: base wins 3, perm wins 1, sides alternate.
    rows += [
        ("h1", "q1", "base", "perm", "a", "a", "overall", 9.0),
        ("h1", "q2", "base", "perm", "a", "b", "overall", 9.0),
    ]
    rows += [
        ("h2", "q1", "base", "perm", "a", "b", "overall", 9.0),
        ("h2", "q2", "base", "perm", "b", "a", "overall", 9.0),
    ]
    report = study_report(pd.DataFrame(rows, columns=COLUMNS), n_bootstrap=0)
    [everyone] = report["comparisons"]  # the winner first: perm 7, base 3
    assert (everyone["system_a"], everyone["wins_a"], everyone["wins_b"]) == ("perm", 7, 3)
    cleaned = report["without_one_sided"]
    assert cleaned["excluded_participants"] == ["lefty"]
    [kept] = cleaned["comparisons"]  # kept in the main table's order, so base's 3 wins read as perm's losses
    assert (kept["system_a"], kept["wins_a"], kept["wins_b"]) == ("perm", 1, 3)
    assert cleaned["bradley_terry"]["base"]["strength"] > 0 > report["bradley_terry"]["base"]["strength"]


def test_judgments_without_a_recorded_side_count_for_wins_but_not_for_position():
    rows = [
        row("p1", chose_left=True, left="a", prompt="q1"),
        row("p1", chose_left=False, left="b", prompt="q2"),
    ]
    rows += [
        ("p2", "q1", "base", "perm", "a", "", "overall", 4.0),
        ("p2", "q2", "base", "perm", "b", None, "overall", 4.0),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    report = study_report(frame, n_bootstrap=0)
    assert report["comparisons"][0]["wins_a"] + report["comparisons"][0]["wins_b"] == 4
    assert (report["position_bias"]["left"], report["position_bias"]["n"]) == (1, 2)
    assert [p["participant"] for p in report["position_bias"]["by_participant"]] == ["p1"]
