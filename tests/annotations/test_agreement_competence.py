import numpy as np
import pytest

from annotations.agreement.competence import dawid_skene
from annotations.agreement.matrix import Ratings


def _simulate(accuracies, n_units=600, n_classes=3, labels_per_unit=None, seed=0):
    """Annotator a gives the true class with probability accuracies[a], else a uniform other class."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, size=n_units)
    matrix = np.full((len(accuracies), n_units), np.nan)
    for a, accuracy in enumerate(accuracies):
        correct = rng.random(n_units) < accuracy
        wrong = (truth + rng.integers(1, n_classes, size=n_units)) % n_classes
        matrix[a] = np.where(correct, truth, wrong)
    if labels_per_unit:
        for unit in range(n_units):
            keep = rng.choice(len(accuracies), size=labels_per_unit, replace=False)
            drop = np.setdiff1d(np.arange(len(accuracies)), keep)
            matrix[drop, unit] = np.nan
    return matrix, truth


def test_recovers_known_annotator_accuracies():
    accuracies = [0.95, 0.85, 0.75, 0.6, 0.34]
    matrix, _ = _simulate(accuracies, labels_per_unit=None)
    model = dawid_skene(Ratings.from_matrix(matrix))
    assert model.converged
    np.testing.assert_allclose(model.reliability.to_numpy(), accuracies, atol=0.05)


def test_posterior_labels_beat_majority_vote_when_a_few_annotators_are_good():
    accuracies = [0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4]
    matrix, truth = _simulate(accuracies, n_units=800, seed=3)
    model = dawid_skene(Ratings.from_matrix(matrix))
    ds_accuracy = (model.unit_labels().to_numpy() == truth).mean()
    votes = np.stack([(matrix == c).sum(axis=0) for c in range(3)], axis=1)
    majority_accuracy = (votes.argmax(axis=1) == truth).mean()
    assert ds_accuracy > majority_accuracy + 0.03


def test_an_annotator_who_always_flips_the_answer_is_found_unreliable():
    consensus = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0] * 5, dtype=float)
    matrix = np.vstack([consensus, consensus, consensus, 1 - consensus])
    model = dawid_skene(Ratings.from_matrix(matrix))
    assert model.reliability.iloc[3] < 0.05
    assert model.reliability.iloc[:3].min() > 0.95
    np.testing.assert_array_equal(model.unit_labels().to_numpy(), consensus)
    # the flipper's confusion matrix is the anti-diagonal
    assert model.confusion[3, 0, 1] > 0.95 and model.confusion[3, 1, 0] > 0.95


def test_works_with_sparse_crowd_labels():
    matrix, truth = _simulate([0.9, 0.8, 0.8, 0.7, 0.6, 0.5], n_units=500, labels_per_unit=3, seed=5)
    model = dawid_skene(Ratings.from_matrix(matrix))
    assert model.posterior.shape == (500, 3)
    assert model.posterior.sum(axis=1) == pytest.approx(np.ones(500))
    assert (model.unit_labels().to_numpy() == truth).mean() > 0.85
