"""LLM judge: answer parsing, unparseable counting, combination, and a run on a tiny chat model."""

from __future__ import annotations

import math

import pytest

from ml.core.judge import LLMJudgeScorer, build_judge_messages, parse_judge_score
from ml.core.scores import PERM_DIMENSIONS


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("4", 4.0),
        ("  5\n", 5.0),
        ("Score: 3", 3.0),
        ("**Rating:** 2", 2.0),
        ("I would rate it 4/5.", 4.0),
        ("3.5 out of 5", 3.5),
        ("The reply is warm. 4.", 4.0),
        ("Out of 5 points I give it 2", 2.0),
        ("My score is 5, because it is warm", 5.0),
        ("I'd say four", 4.0),
        ("Step 1: read. Score: 2", 2.0),
        ("On a scale of 1-5, I give 4", 4.0),
    ],
)
def test_scores_are_found_in_varied_answers(answer, expected):
    assert parse_judge_score(answer) == expected


@pytest.mark.parametrize("answer", ["", "I cannot rate this.", "7", "Score: 0", "10/10", "twelve"])
def test_answers_without_a_score_on_the_scale_are_unparseable(answer):
    assert math.isnan(parse_judge_score(answer))


def test_unparseable_answers_are_counted_and_left_out_of_the_reward(tiny_generator):
    judge = LLMJudgeScorer(tiny_generator, perspectives=("resonation", "reception"), combine="mean")
    answers = ["4", "no idea", "2", "Score: 5"]  # resonation for texts 0, 1; then reception for texts 0, 1

    result = judge.score_answers(answers, count=2)

    assert result.per_dimension["resonation"][0] == 4.0
    assert math.isnan(result.per_dimension["resonation"][1])
    assert result.per_dimension["reception"] == [2.0, 5.0]
    assert result.unparseable == 1
    assert result.reward == pytest.approx([3.0, 5.0])


def test_perspectives_are_combined_with_the_chosen_rule(tiny_generator):
    judge = LLMJudgeScorer(tiny_generator, perspectives=("resonation", "expression"), combine="harmonic")

    result = judge.score_answers(["2", "4", "6?", "I give it a 3"], count=2)

    # Answers run resonation (texts 0, 1) then expression (texts 0, 1); "6?" is off the scale.
    assert result.reward[0] == pytest.approx(2.0)
    assert result.reward[1] == pytest.approx(2 / (1 / 4 + 1 / 3))
    assert result.unparseable == 1


def test_judge_prompts_carry_the_rubric_the_context_and_the_reply():
    messages = build_judge_messages("Judge RESONATION.", "I am here for you", "my dog died")

    assert messages[0]["role"] == "system"
    assert "1 to 5" in messages[0]["content"]
    user = messages[1]["content"]
    assert "Judge RESONATION." in user and "my dog died" in user and "I am here for you" in user


def test_scoring_with_a_real_model_reports_every_answer(tiny_generator):
    judge = LLMJudgeScorer(tiny_generator, max_new_tokens=3)
    texts = ["I am sorry to hear that", "the weather was nice"]

    result = judge.score(texts, contexts=["I lost my job", "my dog died"])

    assert list(result.per_dimension) == list(PERM_DIMENSIONS)
    assert len(judge.last_answers) == len(texts) * len(PERM_DIMENSIONS)
    parsed = [parse_judge_score(answer) for answer in judge.last_answers]
    flat = [value for name in PERM_DIMENSIONS for value in result.per_dimension[name]]
    assert [None if math.isnan(v) else v for v in flat] == [None if math.isnan(v) else v for v in parsed]
    assert result.unparseable == sum(math.isnan(value) for value in parsed)


def test_a_perspective_without_a_rubric_is_refused(tiny_generator):
    with pytest.raises(ValueError, match="no rubric for perspective"):
        LLMJudgeScorer(tiny_generator, perspectives=("resonation", "humour"))
    judge = LLMJudgeScorer(tiny_generator, perspectives=("humour",), rubrics={"humour": "Is it funny?"})
    assert judge.rubrics == {"humour": "Is it funny?"}
