"""Bradley–Terry strengths on cases whose answer is known in closed form."""

import math

import pandas as pd
import pytest

from studies.analysis.bradley_terry import bradley_terry
from studies.analysis.frame import judgments_canonical


def decisive_rows(winner, loser, count, *, participant_prefix="p"):
    return [
        (
            f"{participant_prefix}{winner}{loser}{k}",
            "q1",
            winner,
            loser,
            "a",
            "a" if k % 2 else "b",
            "overall",
            1.0,
        )
        for k in range(count)
    ]


def frame_of(rows):
    columns = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]
    return judgments_canonical(pd.DataFrame(rows, columns=columns))


def known_three_system_frame(scale=10):
    # True weights w = (A 1, B 2, C 4). BT gives P(i beats j) = w_i / (w_i + w_j):
    #   B over A 2/3, C over B 2/3, C over A 4/5.
    # Win counts in exactly those proportions make the likelihood equations
    # (observed wins of i = sum_j n_ij P(i beats j)) hold at the true weights, so the maximum
    # likelihood estimate is log w centred: (-ln 2, 0, ln 2).
    rows = []
    rows += decisive_rows("B", "A", 2 * scale) + decisive_rows("A", "B", 1 * scale)
    rows += decisive_rows("C", "B", 2 * scale) + decisive_rows("B", "C", 1 * scale)
    rows += decisive_rows("C", "A", 4 * scale) + decisive_rows("A", "C", 1 * scale)
    return frame_of(rows)


def test_strengths_recover_the_log_weights_of_a_known_three_system_case():
    result = bradley_terry(known_three_system_frame(), n_bootstrap=0, alpha=0.0)
    strengths = {name: v["strength"] for name, v in result["systems"].items()}
    assert strengths == pytest.approx({"A": -math.log(2), "B": 0.0, "C": math.log(2)}, abs=1e-6)
    assert result["win_probability"]["C"]["A"] == pytest.approx(4 / 5, abs=1e-6)
    assert result["win_probability"]["B"]["C"] == pytest.approx(1 / 3, abs=1e-6)


def test_default_regularisation_barely_moves_a_well_connected_case():
    result = bradley_terry(known_three_system_frame(), n_bootstrap=0)
    assert result["systems"]["C"]["strength"] == pytest.approx(math.log(2), abs=0.01)


def test_symmetric_case_gives_equal_strengths_and_intervals_around_zero():
    rows = []
    for x, y in [("A", "B"), ("B", "C"), ("A", "C")]:
        rows += decisive_rows(x, y, 5, participant_prefix="u") + decisive_rows(
            y, x, 5, participant_prefix="v"
        )
    result = bradley_terry(frame_of(rows), n_bootstrap=200, seed=3)
    for name in "ABC":
        system = result["systems"][name]
        assert system["strength"] == pytest.approx(0.0, abs=1e-9)
        assert system["ci"][0] < 0 < system["ci"][1]
        assert (system["wins"], system["losses"]) == (10, 10)


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible_with_a_seed():
    frame = known_three_system_frame(scale=3)
    first = bradley_terry(frame, n_bootstrap=300, seed=7)
    again = bradley_terry(frame, n_bootstrap=300, seed=7)
    assert first == again
    for system in first["systems"].values():
        low, high = system["ci"]
        assert low < system["strength"] < high


def test_a_system_that_wins_everything_gets_a_finite_top_strength():
    rows = (
        decisive_rows("A", "B", 6)
        + decisive_rows("A", "C", 6)
        + decisive_rows("B", "C", 3)
        + decisive_rows("C", "B", 3)
    )
    result = bradley_terry(frame_of(rows), n_bootstrap=50)
    strengths = {name: v["strength"] for name, v in result["systems"].items()}
    assert math.isfinite(strengths["A"]) and strengths["A"] > strengths["B"]
    assert strengths["B"] == pytest.approx(strengths["C"], abs=1e-6)


def test_ties_only_gives_no_strengths():
    rows = [("p1", "q1", "A", "B", "tie", "a", "overall", 1.0)]
    assert bradley_terry(frame_of(rows))["systems"] == {}
