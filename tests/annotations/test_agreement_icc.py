import numpy as np
import pandas as pd
import pingouin
import pytest

from annotations.agreement.icc import icc, icc_table
from annotations.agreement.matrix import Ratings
from tests.annotations.agreement_examples import SHROUT_FLEISS_ICC, SHROUT_FLEISS_TARGETS_X_JUDGES


def test_all_six_forms_match_shrout_and_fleiss_table_4():
    annotators_x_units = np.array(SHROUT_FLEISS_TARGETS_X_JUDGES, dtype=float).T
    result = icc(Ratings.from_matrix(annotators_x_units))
    assert result["design"] == "crossed" and result["k"] == 4 and result["n_units"] == 6
    for form, published in SHROUT_FLEISS_ICC.items():
        assert result[form] == pytest.approx(published, abs=0.005), form


def test_icc_table_agrees_with_pingouin_on_random_data():
    rng = np.random.default_rng(2)
    table = rng.normal(size=(30, 1)) + rng.normal(scale=0.8, size=(30, 5)) + rng.normal(size=(1, 5))
    long = pd.DataFrame(
        [(t, j, table[t, j]) for t in range(30) for j in range(5)], columns=["target", "judge", "score"]
    )
    theirs = pingouin.intraclass_corr(long, targets="target", raters="judge", ratings="score").set_index("Type")
    ours = icc_table(table)
    # pingouin names the two-way forms as McGraw & Wong do: A (absolute agreement) = Shrout & Fleiss
    # case 2, C (consistency) = case 3
    names = {"ICC(1,1)": "ICC(1,1)", "ICC(A,1)": "ICC(2,1)", "ICC(C,1)": "ICC(3,1)", "ICC(1,k)": "ICC(1,k)",
             "ICC(A,k)": "ICC(2,k)", "ICC(C,k)": "ICC(3,k)"}
    for pingouin_name, form in names.items():
        assert ours[form] == pytest.approx(theirs.loc[pingouin_name, "ICC"], abs=1e-10)


def test_crowd_data_without_a_complete_block_falls_back_to_one_way():
    rng = np.random.default_rng(4)
    matrix = np.full((12, 40), np.nan)
    truth = rng.normal(size=40)
    for unit in range(40):
        raters = rng.choice(12, size=3, replace=False)
        matrix[raters, unit] = truth[unit] + rng.normal(scale=0.5, size=3)
    result = icc(Ratings.from_matrix(matrix))
    assert result["design"] == "one-way"
    assert result["ICC(2,1)"] is None and result["ICC(3,k)"] is None
    assert result["k"] == pytest.approx(3.0)
    assert 0.5 < result["ICC(1,1)"] < 1.0


def test_one_way_on_complete_data_equals_shrout_fleiss_case_one():
    """With equal group sizes the unbalanced one-way ANOVA is Shrout & Fleiss case 1."""
    from annotations.agreement.icc import icc_one_way

    annotators_x_units = np.array(SHROUT_FLEISS_TARGETS_X_JUDGES, dtype=float).T
    result = icc_one_way(Ratings.from_matrix(annotators_x_units))
    assert result["ICC(1,1)"] == pytest.approx(SHROUT_FLEISS_ICC["ICC(1,1)"], abs=0.005)
    assert result["ICC(1,k)"] == pytest.approx(SHROUT_FLEISS_ICC["ICC(1,k)"], abs=0.005)
