import numpy as np
import pandas as pd

from annotations.agreement.matrix import Ratings


def test_matrix_rows_are_annotators_and_columns_units_on_non_square_data():
    frame = pd.DataFrame(
        {
            "item": ["i1", "i2", "i3", "i4", "i5", "i1"],
            "unit": ["i1", "i2", "i3", "i4", "i5", "i1"],
            "annotator": ["ann", "ann", "ann", "ann", "ann", "bob"],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 9.0],
        }
    )
    ratings = Ratings.from_frame(frame)
    matrix = ratings.matrix()
    assert matrix.shape == (2, 5)
    assert list(ratings.annotators) == ["ann", "bob"]
    assert list(ratings.units) == ["i1", "i2", "i3", "i4", "i5"]
    np.testing.assert_array_equal(matrix[0], [1, 2, 3, 4, 5])
    assert matrix[1, 0] == 9 and np.isnan(matrix[1, 1:]).all()


def test_from_matrix_reads_rows_as_annotators():
    ratings = Ratings.from_matrix([[1, 2, 3], [4, np.nan, 6]], annotators=["a", "b"], units=["x", "y", "z"])
    assert ratings.n_labels == 5
    np.testing.assert_array_equal(ratings.matrix(), [[1, 2, 3], [4, np.nan, 6]])
    second_annotator = ratings.value[ratings.annotator == 1]
    np.testing.assert_array_equal(np.sort(second_annotator), [4, 6])


def test_pairs_list_every_within_unit_pair_once_with_lower_annotator_first():
    ratings = Ratings.from_matrix([[1, np.nan], [2, 7], [3, 8]])
    pairs = ratings.pairs()
    got = sorted(zip(pairs.unit, pairs.annotator_a, pairs.annotator_b, pairs.value_a, pairs.value_b, strict=True))
    assert got == [(0, 0, 1, 1, 2), (0, 0, 2, 1, 3), (0, 1, 2, 2, 3), (1, 1, 2, 7, 8)]


def test_duplicate_label_keeps_the_last_and_missing_values_are_dropped():
    frame = pd.DataFrame(
        {"unit": ["u", "u", "v"], "annotator": ["a", "a", "a"], "value": [1.0, 2.0, None], "item": ["u", "u", "v"]}
    )
    ratings = Ratings.from_frame(frame)
    assert ratings.n_labels == 1 and ratings.value[0] == 2.0
