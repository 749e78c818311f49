"""The participant as the unit: clustered win-rate intervals, participant-level group tests, multiplicity.

References are computed independently: statsmodels' GEE (cluster-robust sandwich variance) for
the design effect and the bootstrap's spread, Fisher's exact test (scipy) and the published
tea-tasting value 34/70 for the exact permutation test, and Holm/Benjamini–Hochberg worked by hand.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import binomtest, fisher_exact

from studies.analysis import study_report
from studies.analysis.clustered import clustered_share, group_difference, p_values_adjust
from studies.analysis.frame import judgments_canonical
from studies.analysis.groups import results_by_group
from studies.analysis.intervals import wilson_interval

COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def one_heavy_participant_study():
    """30 ordinary participants (UK and IN alike) split 1–1 on two pairs each; one UK participant
    judges 60 pairs and always prefers perm. The whole "effect" is one person."""
    rows, attributes = [], []
    for k in range(30):
        country = "UK" if k % 2 else "IN"
        attributes.append((f"p{k}", country))
        for j, choice in enumerate(("a", "b")):
            rows.append((f"p{k}", f"q{j}", "base", "perm", choice, "ab"[j], "overall", 5.0))
    attributes.append(("heavy", "UK"))
    for j in range(60):
        rows.append(("heavy", f"q{j % 6}", "base", "perm", "b", "ab"[j % 2], "overall", 5.0))
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(attributes, columns=["participant", "country"])


def gee_design_effect(y, clusters):
    """Design effect from statsmodels' GEE robust variance of the intercept (delta method to the share)."""
    fit = sm.GEE(
        y, np.ones((len(y), 1)), groups=clusters, family=sm.families.Binomial(), cov_struct=sm.cov_struct.Independence()
    ).fit()
    p, n = y.mean(), len(y)
    var_p = (p * (1 - p)) ** 2 * fit.cov_params()[0, 0]
    return var_p / (p * (1 - p) / n)


def test_clustered_design_effect_equals_the_gee_sandwich_variance():
    rng = np.random.default_rng(1)
    clusters = np.repeat(np.arange(12), rng.integers(1, 8, 12))
    y = (rng.random(len(clusters)) < np.where(clusters % 3 == 0, 0.9, 0.4)).astype(float)
    out = clustered_share(np.bincount(clusters, weights=y), np.bincount(clusters))
    assert out["design_effect"] == pytest.approx(gee_design_effect(y, clusters), rel=1e-9)
    assert out["effective_n"] == pytest.approx(len(y) / max(out["design_effect"], 1.0))
    assert out["clusters"] == 12


def test_one_judgment_per_participant_gives_the_plain_wilson_interval():
    wins = np.array([1] * 7 + [0] * 5)
    out = clustered_share(wins, np.ones_like(wins))
    # With one judgment each the sandwich variance is the binomial one.
    assert out["design_effect"] == pytest.approx(1.0)
    assert out["effective_n"] == 12
    assert out["ci"] == pytest.approx(wilson_interval(7, 12))


def test_overall_win_rate_interval_is_clustered_when_one_participant_judges_many_pairs():
    frame, _ = one_heavy_participant_study()
    [record] = study_report(frame, criteria=["overall"], n_bootstrap=0)["comparisons"]
    # Judgment level: 30 base wins of 120, exact binomial p tiny, Wilson interval far from 0.5.
    assert (record["wins_a"], record["wins_b"]) == (30, 90)
    assert record["p_value"] == pytest.approx(binomtest(30, 120).pvalue) and record["p_value"] < 1e-7
    assert record["win_rate_a_ci"][1] < 0.35
    canonical = judgments_canonical(frame)
    y = (canonical["choice"] == "a").to_numpy(float)
    assert record["design_effect"] == pytest.approx(gee_design_effect(y, canonical["participant"].to_numpy()))
    # Participant level: 31 people, only one of whom leans; the interval reaches 0.5.
    low, high = record["win_rate_a_ci_clustered"]
    assert low < record["win_rate_a"] < high and high > 0.5
    assert record["participants"] == 31


def test_one_heavy_participant_makes_groups_differ_by_judgment_but_not_by_participant():
    frame, participants = one_heavy_participant_study()
    report = study_report(frame, participants, criteria=["overall"], n_bootstrap=500)
    [difference] = report["by_group"]["country"]["differences"]
    canonical = judgments_canonical(frame).merge(participants, on="participant")
    table = pd.crosstab(canonical["country"], canonical["choice"]).loc[["IN", "UK"], ["a", "b"]].to_numpy()
    assert difference["judgment_level_test"] == "fisher_exact"
    assert difference["judgment_level_p_value"] == pytest.approx(fisher_exact(table).pvalue)
    assert difference["judgment_level_p_value"] < 1e-3
    assert difference["test"] == "participant_permutation_chi2"
    assert difference["p_value"] > 0.3
    effect = difference["effect"]
    assert (effect["from"], effect["to"]) == ("UK", "IN")
    assert effect["ci"][0] < 0 < effect["ci"][1] or effect["ci"][0] <= 0.0
    assert difference["by_group"]["UK"]["participants"] == 16


def test_participant_permutation_test_is_exact_and_equals_fisher_for_one_judgment_each():
    # Fisher's tea-tasting table, one judgment per participant: UK 3 base / 1 perm, IN 1 / 3.
    per = pd.DataFrame(
        {"group": ["UK"] * 4 + ["IN"] * 4, "wins": [1, 1, 1, 0, 1, 0, 0, 0], "decisive": [1] * 8}
    )
    out = group_difference(per, n_bootstrap=0)
    # 70 ways to split 8 participants 4/4; 34 are as extreme: the published two-sided p = 34/70.
    assert out["p_value"] == pytest.approx(34 / 70, abs=1e-12)
    assert out["p_value"] == pytest.approx(fisher_exact([[3, 1], [1, 3]]).pvalue)
    assert out["effect"]["difference"] == pytest.approx(0.5) and out["effect"]["ci"] is None


def test_repeating_each_judgment_six_times_moves_fisher_but_not_the_participant_test():
    # The tea-tasting participants again, each now judging six prompts the same way.
    choices = {"uk0": "a", "uk1": "a", "uk2": "a", "uk3": "b", "in0": "a", "in1": "b", "in2": "b", "in3": "b"}
    rows = [(who, f"q{j}", "base", "perm", c, "ab"[j % 2], "overall", 4.0) for who, c in choices.items() for j in range(6)]
    participants = pd.DataFrame({"participant": list(choices), "country": ["UK"] * 4 + ["IN"] * 4})
    canonical = judgments_canonical(pd.DataFrame(rows, columns=COLUMNS))
    [difference] = results_by_group(canonical, participants, n_bootstrap=0)["country"]["differences"]
    assert difference["judgment_level_p_value"] == pytest.approx(fisher_exact([[6, 18], [18, 6]]).pvalue)
    assert difference["judgment_level_p_value"] < 0.002
    assert difference["p_value"] == pytest.approx(34 / 70, abs=1e-12)


def test_bootstrap_interval_of_the_difference_matches_the_gee_robust_standard_error():
    rng = np.random.default_rng(7)
    rows = []
    for k in range(80):
        group = "hi" if k < 40 else "lo"
        n = int(rng.integers(1, 9))
        lean = rng.beta(6, 3) if group == "hi" else rng.beta(4, 4)
        rows += [(k, group, float(rng.random() < lean)) for _ in range(n)]
    judged = pd.DataFrame(rows, columns=["participant", "group", "win"])
    per = judged.groupby("participant").agg(group=("group", "first"), wins=("win", "sum"), decisive=("win", "size"))
    out = group_difference(per.reset_index(), n_bootstrap=4000, seed=3)
    # Reference: GEE with an identity link estimates the difference of proportions with a robust SE.
    x = sm.add_constant((judged["group"] == "hi").astype(float).to_numpy())
    fit = sm.GEE(
        judged["win"].to_numpy(), x, groups=judged["participant"].to_numpy(),
        family=sm.families.Binomial(link=sm.families.links.Identity()), cov_struct=sm.cov_struct.Independence(),
    ).fit()
    assert out["effect"]["difference"] == pytest.approx(fit.params[1], abs=1e-9)
    low, high = out["effect"]["ci"]
    assert (high - low) == pytest.approx(2 * 1.96 * fit.bse[1], rel=0.12)


def test_holm_and_benjamini_hochberg_match_the_hand_worked_adjustment():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max.
    assert p_values_adjust(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted p * 4 / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top.
    assert p_values_adjust(p, correction="bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with pytest.raises(ValueError, match="correction"):
        p_values_adjust(p, correction="bonferroni-ish")


def test_group_p_values_are_corrected_across_attributes_criteria_and_pairs():
    frame, participants = one_heavy_participant_study()
    frame = pd.concat([frame, frame.assign(criterion="empathy")])
    participants["age_band"] = ["18-29", "30-44"] * 15 + ["45-59"]
    result = results_by_group(judgments_canonical(frame), participants, n_bootstrap=0)
    records = [d for block in result.values() for d in block["differences"]]
    assert len(records) == 4
    raw = np.array([d["p_value"] for d in records])
    order = np.argsort(raw)
    holm = np.maximum.accumulate(np.minimum(1, raw[order] * (4 - np.arange(4))))
    expected = np.empty(4)
    expected[order] = holm
    assert [d["p_value_adjusted"] for d in records] == pytest.approx(list(expected))
    assert {d["correction"] for d in records} == {"holm"}
    bh = results_by_group(judgments_canonical(frame), participants, n_bootstrap=0, correction="bh")
    assert all(d["correction"] == "bh" for block in bh.values() for d in block["differences"])
