"""One import point for scoring: the interface, the combination rules and both scorers.

``RewardModelScorer`` lives in ``ml.core.reward_model`` and ``LLMJudgeScorer`` in
``ml.core.judge``; both return ``ScoreResult`` from ``score(texts, contexts=None)``.
"""

from ml.core.judge import RUBRICS, LLMJudgeScorer, parse_judge_score
from ml.core.reward_model import RewardModelScorer
from ml.core.scores import COMBINE_RULES, PERM_DIMENSIONS, Scorer, ScoreResult, combine, combine_columns

__all__ = [
    "COMBINE_RULES",
    "PERM_DIMENSIONS",
    "RUBRICS",
    "LLMJudgeScorer",
    "RewardModelScorer",
    "ScoreResult",
    "Scorer",
    "combine",
    "combine_columns",
    "parse_judge_score",
]
