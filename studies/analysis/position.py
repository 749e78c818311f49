"""Position (left/right) bias: overall, per participant, and who always picks one side.

Only decisive judgments with a recorded side count: a tie picks no side, and judgments imported
without the side shown cannot say which side was picked. Under no bias a participant picks the left
response half of the time, whatever the systems, because the study counterbalances sides; so
the test is the two-sided exact binomial test of left choices against one half.

The pooled test treats judgments as independent. Because a few participants with a strong habit
can drive it, ``participant_level_p_value`` also tests the per-participant left shares against
one half (one-sample t-test, each participant weighted equally).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import ttest_1samp

from studies.analysis.intervals import binomial_p_value, share, wilson_interval

DEFAULT_MIN_JUDGMENTS_ONE_SIDED = 4


def one_sided_participants(
    canonical: pd.DataFrame, *, min_judgments: int = DEFAULT_MIN_JUDGMENTS_ONE_SIDED
) -> list:
    """Participants who chose the same side in every one of at least ``min_judgments`` decisive judgments.

    The floor exists because with one or two judgments "always left" is what chance gives a
    quarter to a half of honest participants.
    """
    decisive = canonical[canonical["sided"]]
    per = decisive.groupby("participant")["chose_left"].agg(["sum", "count"])
    always = per[(per["count"] >= min_judgments) & ((per["sum"] == 0) | (per["sum"] == per["count"]))]
    return sorted(always.index.tolist(), key=str)


def position_bias(canonical: pd.DataFrame, *, min_judgments: int = DEFAULT_MIN_JUDGMENTS_ONE_SIDED) -> dict:
    """Left share with Wilson interval and exact test, overall, per criterion and per participant.

    Returns ``{"left_share", "left_share_ci", "p_value", "n", "participant_level_p_value",
    "by_criterion": {criterion: {...}}, "by_participant": [{"participant", "left", "n",
    "left_share", "p_value", "one_sided"}], "one_sided_participants": [...]}``.
    """
    decisive = canonical[canonical["sided"]]
    result = _left_summary(decisive)
    result["by_criterion"] = {
        str(criterion): _left_summary(group) for criterion, group in decisive.groupby("criterion", sort=True)
    }
    one_sided = set(one_sided_participants(canonical, min_judgments=min_judgments))
    per_participant = []
    shares = []
    for participant, group in decisive.groupby("participant", sort=True):
        left, n = int(group["chose_left"].sum()), int(len(group))
        shares.append(left / n)
        per_participant.append(
            {
                "participant": participant,
                "left": left,
                "n": n,
                "left_share": left / n,
                "p_value": binomial_p_value(left, n),
                "one_sided": participant in one_sided,
            }
        )
    result["by_participant"] = per_participant
    result["one_sided_participants"] = sorted(one_sided, key=str)
    result["participant_level_p_value"] = _participant_level_p_value(shares)
    return result


def _left_summary(decisive: pd.DataFrame) -> dict:
    left, n = int(decisive["chose_left"].sum()), int(len(decisive))
    return {
        "left": left,
        "n": n,
        "left_share": share(left, n),
        "left_share_ci": wilson_interval(left, n),
        "p_value": binomial_p_value(left, n),
    }


def _participant_level_p_value(shares: list[float]) -> float | None:
    if len(shares) < 2:
        return None
    if len(set(shares)) == 1:
        # Zero spread leaves the t statistic undefined; say so rather than invent a p-value.
        return None
    p = float(ttest_1samp(shares, 0.5).pvalue)
    return None if math.isnan(p) else p
