"""Wilson intervals and exact binomial tests against published and hand-computed values."""

import pytest

from studies.analysis.intervals import binomial_p_value, share, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score,
        # no continuity correction), the four worked examples.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval == pytest.approx([low, high], abs=5e-5)


def test_wilson_interval_accepts_half_counts_between_the_integer_neighbours():
    # 7.5 of 10 (ties counted half) must lie between the intervals of 7/10 and 8/10.
    seven, half, eight = wilson_interval(7, 10), wilson_interval(7.5, 10), wilson_interval(8, 10)
    assert seven[0] < half[0] < eight[0]
    assert seven[1] < half[1] < eight[1]


def test_wilson_interval_is_undefined_without_trials():
    assert wilson_interval(0, 0) is None


def test_binomial_p_value_nine_of_ten_is_twice_the_upper_tail():
    # P(X >= 9 | n=10, p=1/2) = (C(10,9) + C(10,10)) / 2^10 = 11/1024; two-sided doubles it.
    assert binomial_p_value(9, 10) == pytest.approx(22 / 1024, rel=1e-12)


def test_binomial_p_value_seven_of_twenty_by_hand():
    # P(X <= 7 | n=20) = (1 + 20 + 190 + 1140 + 4845 + 15504 + 38760 + 77520) / 2^20
    #                 = 137980 / 1048576; the distribution is symmetric, so two-sided = 2x.
    assert binomial_p_value(7, 20) == pytest.approx(2 * 137980 / 1048576, rel=1e-12)


def test_binomial_p_value_of_an_even_split_is_one():
    assert binomial_p_value(5, 10) == pytest.approx(1.0)
    assert binomial_p_value(0, 0) is None


def test_share_is_none_for_an_empty_whole():
    assert share(3, 4) == 0.75
    assert share(0, 0) is None
