"""Intraclass correlations in Shrout & Fleiss (1979) form.

Two designs, chosen from the data:

* ``crossed`` — the same annotators rated the same units. Units labelled by every annotator
  of the dimension form a complete targets × judges table (used when it holds at least half
  the pairable units), and all six forms come from its two-way ANOVA: ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k).
* ``one-way`` — crowd data, where each unit has its own set of annotators and few or no
  units were seen by all. Only Shrout & Fleiss case 1 is defined there (annotators nested in
  targets); it comes from a one-way ANOVA over units with two or more labels, unbalanced
  group sizes handled with the usual k0 = (N - sum m_i^2 / N) / (n - 1). ICC(2,·) and
  ICC(3,·) are None.
"""

from __future__ import annotations

import numpy as np

from annotations.agreement.matrix import Ratings

FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


def icc_table(table: np.ndarray) -> dict[str, float]:
    """All six forms for a complete **targets × judges** array (Shrout & Fleiss Table 2 layout).

    Note the orientation: this takes the ANOVA layout, which is the transpose of the
    package's annotators × units matrix; ``icc`` does that transpose once."""
    x = np.asarray(table, dtype=np.float64)
    n, k = x.shape
    grand = x.mean()
    ss_total = ((x - grand) ** 2).sum()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_error = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    ms_within = (ss_total - ss_rows) / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "ICC(1,1)": (ms_rows - ms_within) / (ms_rows + (k - 1) * ms_within),
            "ICC(2,1)": (ms_rows - ms_error)
            / (ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n),
            "ICC(3,1)": (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error),
            "ICC(1,k)": (ms_rows - ms_within) / ms_rows,
            "ICC(2,k)": (ms_rows - ms_error) / (ms_rows + (ms_cols - ms_error) / n),
            "ICC(3,k)": (ms_rows - ms_error) / ms_rows,
        }


def icc_one_way(ratings: Ratings) -> dict[str, float | None]:
    """ICC(1,1) and ICC(1,k) from a one-way ANOVA over units with two or more labels."""
    pairable = ratings.pairable()
    n_units = len(pairable.units)
    if n_units < 2:
        return {}
    sizes = np.bincount(pairable.unit, minlength=n_units).astype(np.float64)
    sums = np.bincount(pairable.unit, weights=pairable.value, minlength=n_units)
    means = sums / sizes
    total = sizes.sum()
    grand = pairable.value.mean()
    ms_between = (sizes * (means - grand) ** 2).sum() / (n_units - 1)
    ms_within = ((pairable.value - means[pairable.unit]) ** 2).sum() / (total - n_units)
    k0 = (total - (sizes**2).sum() / total) / (n_units - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "ICC(1,1)": (ms_between - ms_within) / (ms_between + (k0 - 1) * ms_within),
            "ICC(1,k)": (ms_between - ms_within) / ms_between,
            "k": k0,
        }


def icc(ratings: Ratings) -> dict | None:
    """The six forms plus ``design``, ``k`` (judges per target) and ``n_units`` used.

    None when neither design has at least two units."""
    matrix = ratings.matrix()  # annotators × units
    complete = ~np.isnan(matrix).any(axis=0)
    n_annotators = matrix.shape[0]
    n_pairable = int(((~np.isnan(matrix)).sum(axis=0) >= 2).sum())
    # a complete block that holds under half the pairable units would throw most data away
    if n_annotators >= 2 and complete.sum() >= 2 and complete.sum() * 2 >= n_pairable:
        table = matrix[:, complete].T  # targets × judges for the ANOVA
        forms = icc_table(table)
        result = {"design": "crossed", "k": n_annotators, "n_units": int(complete.sum())}
    else:
        one_way = icc_one_way(ratings)
        if not one_way:
            return None
        forms = {form: one_way.get(form) for form in FORMS}
        result = {"design": "one-way", "k": float(one_way["k"]), "n_units": int(len(ratings.pairable().units))}
    for form in FORMS:
        value = forms.get(form)
        result[form] = None if value is None or not np.isfinite(value) else float(value)
    return result
