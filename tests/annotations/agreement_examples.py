"""Published worked examples used by the agreement tests (data only, with their sources)."""

import numpy as np

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders (rows)
# × 12 units (columns), missing values allowed.
KRIPPENDORFF_CODERS_X_UNITS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
KRIPPENDORFF_ALPHAS = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa", worked example): 10 subjects, 14 raters,
# counts per category 1..5; kappa = 0.210.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
FLEISS_KAPPA = 0.210

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) × 4 judges (columns), and Table 4's values.
SHROUT_FLEISS_TARGETS_X_JUDGES = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
SHROUT_FLEISS_ICC = {
    "ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91,
}

# Cohen's kappa worked example (Wikipedia, "Cohen's kappa", simple example): 50 proposals,
# both yes 20, both no 15, A yes B no 5, A no B yes 10; kappa = 0.4.
COHEN_TABLE = {("yes", "yes"): 20, ("no", "no"): 15, ("yes", "no"): 5, ("no", "yes"): 10}
COHEN_KAPPA = 0.4


def fleiss_ratings_matrix() -> np.ndarray:
    """The Fleiss counts as a 14 raters × 10 subjects matrix of category codes 1..5.

    Fleiss' raters are interchangeable, so rater r of a subject is simply the r-th label."""
    columns = []
    for counts in FLEISS_COUNTS:
        labels = [category for category, n in enumerate(counts, start=1) for _ in range(n)]
        columns.append(labels)
    return np.array(columns, dtype=float).T


def cohen_pair_matrix() -> np.ndarray:
    """2 annotators × 50 units, yes = 1, no = 0."""
    code = {"yes": 1.0, "no": 0.0}
    a, b = [], []
    for (first, second), n in COHEN_TABLE.items():
        a += [code[first]] * n
        b += [code[second]] * n
    return np.array([a, b])
