"""The report dict: its stable JSON contract, and the plot geometry drawn from it."""

import json

import numpy as np
import pandas as pd
import pytest

from studies.analysis import study_report
from studies.analysis.plots import bt_plot, winrate_plot

COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def simulated_study(seed=0, participants=30, per_participant=12):
    rng = np.random.default_rng(seed)
    strength = {"base": 0.0, "perm": 1.0, "sft": 0.5}
    rows = []
    for p in range(participants):
        for k in range(per_participant):
            a, b = rng.choice(sorted(strength), 2, replace=False)
            p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
            choice = "tie" if rng.random() < 0.1 else ("a" if rng.random() < p_a else "b")
            for criterion in ("overall", "empathy"):
                rows.append(
                    (
                        f"p{p}",
                        f"q{k % 6}",
                        a,
                        b,
                        choice,
                        "ab"[(p + k) % 2],
                        criterion,
                        float(rng.uniform(2, 30)),
                    )
                )
    attributes = pd.DataFrame(
        {"participant": [f"p{p}" for p in range(participants)], "country": ["UK", "IN"] * (participants // 2)}
    )
    return pd.DataFrame(rows, columns=COLUMNS), attributes


def test_report_keeps_the_documented_keys_and_serialises_to_json():
    frame, attributes = simulated_study()
    report = json.loads(
        json.dumps(study_report(frame, attributes, criteria=["overall", "empathy"], n_bootstrap=100))
    )
    assert report["criteria"] == ["overall", "empathy"]
    for record in report["comparisons"]:
        assert {
            "criterion",
            "system_a",
            "system_b",
            "wins_a",
            "wins_b",
            "ties",
            "win_rate_a",
            "win_rate_a_ci",
            "p_value",
        } <= set(record)
    assert set(report["bradley_terry"]) == {"base", "perm", "sft"}
    for system in report["bradley_terry"].values():
        assert {"strength", "ci"} <= set(system)
    assert {"left_share", "p_value"} <= set(report["position_bias"])
    assert set(report["by_group"]["country"]["groups"]) == {"UK", "IN"}
    assert report["counts"]["judgments"] == len(frame)


def test_report_orders_the_simulated_systems_by_their_true_strengths():
    frame, attributes = simulated_study(participants=60)
    report = study_report(frame, attributes, criteria=["overall"], n_bootstrap=50)
    strengths = {name: v["strength"] for name, v in report["bradley_terry"].items()}
    assert strengths["perm"] > strengths["sft"] > strengths["base"]
    assert sum(strengths.values()) == pytest.approx(0.0, abs=1e-9)


def test_winrate_plot_places_the_estimate_inside_its_interval_on_the_axis():
    records = [
        {
            "criterion": "overall",
            "system_a": "base",
            "system_b": "perm",
            "win_rate_a": 0.25,
            "win_rate_a_ci": [0.1, 0.5],
        },
        {
            "criterion": "overall",
            "system_a": "base",
            "system_b": "sft",
            "win_rate_a": None,
            "win_rate_a_ci": None,
        },
    ]
    plot = winrate_plot(records)
    first, second = plot["rows"]
    assert plot["ticks"][0]["x"] < first["x_low"] < first["x"] < first["x_high"] == plot["x_half"]
    assert second["x"] is None and second["y"] > first["y"]
    assert plot["height"] > second["y"]


def test_bt_plot_lists_the_strongest_first_and_zero_between_the_extremes():
    plot = bt_plot({"a": {"strength": -1.0, "ci": [-1.5, -0.5]}, "b": {"strength": 1.0, "ci": [0.5, 1.5]}})
    assert [r["label"] for r in plot["rows"]] == ["b", "a"]
    low, high = plot["rows"][1]["x"], plot["rows"][0]["x"]
    assert low < plot["x_zero"] < high


def test_a_study_without_judgments_reports_empty_results_not_errors():
    from studies.analysis.frame import judgments_frame_empty

    report = study_report(judgments_frame_empty(), pd.DataFrame({"participant": [], "country": []}))
    assert report["comparisons"] == [] and report["bradley_terry"] == {}
    assert report["position_bias"]["left_share"] is None
    json.dumps(report, allow_nan=False)
