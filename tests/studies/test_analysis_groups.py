"""Results by participant group, and the test of whether groups differ."""

import pandas as pd
import pytest

from studies.analysis.frame import judgments_canonical
from studies.analysis.groups import MISSING, results_by_group

COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def tea_tasting_frame():
    # Fisher's tea-tasting table as two countries x (base wins, perm wins):
    #   UK: 3 base, 1 perm;  IN: 1 base, 3 perm.  Published two-sided p = 0.4857 (34/70).
    rows = []
    outcomes = {"uk": ["a", "a", "a", "b"], "in": ["a", "b", "b", "b"]}
    for country, choices in outcomes.items():
        for k, choice in enumerate(choices):
            rows.append((f"{country}{k}", "q1", "base", "perm", choice, "a", "overall", 3.0))
    rows.append(("nobody", "q1", "base", "perm", "tie", "a", "overall", 3.0))
    participants = pd.DataFrame(
        {
            "participant": [f"uk{k}" for k in range(4)] + [f"in{k}" for k in range(4)] + ["nobody"],
            "country": ["UK"] * 4 + ["IN"] * 4 + [None],
        }
    )
    return judgments_canonical(pd.DataFrame(rows, columns=COLUMNS)), participants


def test_groups_get_their_own_counts_and_missing_answers_their_own_group():
    canonical, participants = tea_tasting_frame()
    groups = results_by_group(canonical, participants)["country"]["groups"]
    assert set(groups) == {"UK", "IN", MISSING}
    [uk] = groups["UK"]["comparisons"]
    assert (uk["wins_a"], uk["wins_b"], groups["UK"]["participants"]) == (3, 1, 4)
    [missing] = groups[MISSING]["comparisons"]
    assert missing["ties"] == 1


def test_two_group_difference_keeps_fisher_exact_beside_the_participant_test_published_tea_tasting_value():
    canonical, participants = tea_tasting_frame()
    [difference] = results_by_group(canonical, participants)["country"]["differences"]
    # The tie-only group has no decisive judgment and drops out of the 2 x 2 table.
    assert difference["judgment_level_test"] == "fisher_exact" and difference["groups"] == 2
    assert difference["judgment_level_p_value"] == pytest.approx(34 / 70, abs=1e-9)
    # One judgment per participant: the exact participant permutation test gives the same 34/70.
    assert difference["test"] == "participant_permutation_chi2"
    assert difference["p_value"] == pytest.approx(34 / 70, abs=1e-9)


def test_unknown_attribute_is_skipped_and_no_participants_means_no_groups():
    canonical, participants = tea_tasting_frame()
    assert "age_band" not in results_by_group(canonical, participants, attributes=["age_band"])
    assert results_by_group(canonical, None) == {}
