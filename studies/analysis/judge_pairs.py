"""An LLM judge's pairwise verdicts held against the study's human judgments, and its position bias.

Every judged (prompt, system pair) is shown to the judge twice, once in each order. A verdicts
frame has one row per pair and order-free columns::

    prompt, system_a, system_b   the pair, canonical order (system_a sorts first)
    p_a_first                    P(system_a better) when system_a was shown first
    p_a_second                   P(system_a better) when system_a was shown second

From them: the judge's **position bias** (how often it picks whichever reply is shown first,
over both orders; an unbiased judge picks first half the time, tested by the exact binomial
test), its **consistency** (the same system wins in both orders), and its **agreement with the
humans** (the order-averaged verdict against the human majority of the decisive judgments of
that prompt and pair; pairs without a human majority are left out).
"""

from __future__ import annotations

import pandas as pd

from studies.analysis.intervals import binomial_p_value, share, wilson_interval

VERDICT_COLUMNS = ("prompt", "system_a", "system_b", "p_a_first", "p_a_second")


def judge_versus_humans(verdicts: pd.DataFrame, canonical: pd.DataFrame) -> dict:
    """``{"pairs", "position": {"first_share", "first_share_ci", "p_value", "n", "mean_p_first"},
    "consistency", "agreement": {"share", "ci", "n", "agree"}, "judge_win_rate_a",
    "human_win_rate_a", "rows": [...]}`` (shares None without data).

    ``canonical`` is the judgments frame of one criterion after
    :func:`studies.analysis.frame.judgments_canonical`.
    """
    missing = [c for c in VERDICT_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"verdicts frame lacks columns {missing}")
    v = verdicts.copy()
    # P(the reply shown first wins), in each order
    first_when_a_first = v["p_a_first"]
    first_when_b_first = 1.0 - v["p_a_second"]
    picks_first = int((first_when_a_first > 0.5).sum() + (first_when_b_first > 0.5).sum())
    decisions = 2 * len(v)
    v["judge_p_a"] = (v["p_a_first"] + v["p_a_second"]) / 2
    v["consistent"] = (v["p_a_first"] > 0.5) == (v["p_a_second"] > 0.5)

    decisive = canonical[canonical["decisive"]]
    humans = (
        decisive.assign(a_won=decisive["choice"] == "a")
        .groupby(["prompt", "system_a", "system_b"])["a_won"]
        .agg(["sum", "count"])
        .rename(columns={"sum": "human_a", "count": "human_n"})
        .reset_index()
    )
    merged = v.merge(humans, on=["prompt", "system_a", "system_b"], how="left")
    merged[["human_a", "human_n"]] = merged[["human_a", "human_n"]].fillna(0).astype(int)
    majority = merged[(merged["human_n"] > 0) & (2 * merged["human_a"] != merged["human_n"])]
    judged = majority[majority["judge_p_a"] != 0.5]
    agree = int(((judged["judge_p_a"] > 0.5) == (2 * judged["human_a"] > judged["human_n"])).sum())
    human_total = int(merged["human_n"].sum())
    return {
        "pairs": int(len(v)),
        "position": {
            "first_share": share(picks_first, decisions),
            "first_share_ci": wilson_interval(picks_first, decisions),
            "p_value": binomial_p_value(picks_first, decisions),
            "n": decisions,
            "mean_p_first": float(pd.concat([first_when_a_first, first_when_b_first]).mean()) if len(v) else None,
        },
        "consistency": share(int(v["consistent"].sum()), len(v)),
        "agreement": {
            "share": share(agree, len(judged)),
            "ci": wilson_interval(agree, len(judged)),
            "n": int(len(judged)),
            "agree": agree,
        },
        "judge_win_rate_a": float(v["judge_p_a"].mean()) if len(v) else None,
        "human_win_rate_a": share(int(merged["human_a"].sum()), human_total),
        "rows": merged[[*VERDICT_COLUMNS, "judge_p_a", "consistent", "human_a", "human_n"]].to_dict("records"),
    }
