"""Dawid & Skene (1979) annotator competence by expectation–maximisation.

Each annotator a has a confusion matrix pi[a, true, given]; each unit a latent true class
with prior p. EM alternates the posterior of each unit's class given its labels (E) and the
maximum-likelihood priors and confusion matrices given those posteriors (M), starting from
the per-unit vote shares. A small Dirichlet ``smoothing`` keeps unseen cells off zero.

An annotator's *reliability* is the probability their label equals the true class:
sum_k p_k pi[a, k, k].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from annotations.agreement.matrix import Ratings


@dataclass(frozen=True)
class DawidSkene:
    classes: np.ndarray  # category codes, sorted
    priors: np.ndarray  # (K,)
    confusion: np.ndarray  # (annotators, K true, K given); rows sum to 1
    posterior: np.ndarray  # (units, K)
    reliability: pd.Series  # per annotator label
    units: pd.Index
    iterations: int
    converged: bool
    log_likelihood: float

    def unit_labels(self) -> pd.Series:
        """Most probable class per unit (category codes), indexed by unit id."""
        return pd.Series(self.classes[self.posterior.argmax(axis=1)], index=self.units)


def dawid_skene(
    ratings: Ratings, *, max_iter: int = 200, tol: float = 1e-7, smoothing: float = 0.01
) -> DawidSkene | None:
    """Fits the model to ``ratings`` (values are category codes). None with no labels."""
    if ratings.n_labels == 0:
        return None
    classes, given = np.unique(ratings.value, return_inverse=True)
    n_classes = classes.size
    n_units, n_annotators = len(ratings.units), len(ratings.annotators)
    unit, annotator = ratings.unit, ratings.annotator

    votes = np.zeros((n_units, n_classes))
    np.add.at(votes, (unit, given), 1.0)
    posterior = votes / votes.sum(axis=1, keepdims=True)
    previous = -np.inf
    converged = False
    iterations = 0
    log_likelihood = -np.inf
    for _ in range(max_iter):
        iterations += 1
        # M-step
        priors = (posterior.sum(axis=0) + smoothing) / (n_units + smoothing * n_classes)
        confusion = np.full((n_annotators, n_classes, n_classes), smoothing)
        for true_class in range(n_classes):
            np.add.at(confusion[:, true_class, :], (annotator, given), posterior[unit, true_class])
        confusion /= confusion.sum(axis=2, keepdims=True)
        # E-step: log p(true = k) + sum over the unit's labels of log pi[a, k, given]
        log_terms = np.log(confusion[annotator, :, given])  # labels × K
        log_joint = np.tile(np.log(priors), (n_units, 1))
        np.add.at(log_joint, unit, log_terms)
        peak = log_joint.max(axis=1, keepdims=True)
        joint = np.exp(log_joint - peak)
        evidence = joint.sum(axis=1, keepdims=True)
        posterior = joint / evidence
        log_likelihood = float((np.log(evidence) + peak).sum())
        if abs(log_likelihood - previous) < tol * max(1.0, abs(log_likelihood)):
            converged = True
            break
        previous = log_likelihood
    reliability = np.einsum("k,akk->a", priors, confusion)
    return DawidSkene(
        classes=classes,
        priors=priors,
        confusion=confusion,
        posterior=posterior,
        reliability=pd.Series(reliability, index=ratings.annotators, name="reliability"),
        units=ratings.units,
        iterations=iterations,
        converged=converged,
        log_likelihood=log_likelihood,
    )
