"""The one place that knows how ratings are laid out.

Everything in this package reads ratings through ``Ratings``: one entry per label, holding
integer positions into ``units`` and ``annotators`` and a float ``value`` (a numeric score,
or a category's code). Statistics that need a rectangle ask ``Ratings.matrix()`` for it, and
that rectangle is always **annotators × units** (rows are annotators, columns are units,
NaN where an annotator did not label a unit) — the orientation of Krippendorff's reliability
data. Nothing else in the package builds or transposes a matrix by hand.

A *unit* is what agreement is computed over: an item, or for per-turn dimensions one turn of
a dialogue. ``cluster`` maps each unit to its item so the bootstrap can resample items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Ratings:
    """Labels of one dimension. Arrays are aligned, one entry per label, no duplicate
    (annotator, unit) pairs, no NaN values."""

    unit: np.ndarray  # int64 positions into ``units``
    annotator: np.ndarray  # int64 positions into ``annotators``
    value: np.ndarray  # float64
    units: pd.Index
    annotators: pd.Index
    cluster: np.ndarray  # int64, per unit (len == len(units)): which item the unit belongs to

    @property
    def n_labels(self) -> int:
        return int(self.value.size)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        value: str = "value",
        unit: str = "unit",
        annotator: str = "annotator",
        item: str | None = "item",
    ) -> Ratings:
        """Builds ratings from a long frame. Rows with a missing value are dropped; when one
        annotator labelled a unit twice, the last row wins. ``item`` names the column that
        groups units for the bootstrap (None: every unit is its own item)."""
        columns = [unit, annotator, value] + ([item] if item and item in frame.columns else [])
        data = frame[columns].dropna(subset=[value])
        data = data.drop_duplicates(subset=[unit, annotator], keep="last")
        unit_codes, units = pd.factorize(data[unit], sort=True)
        annotator_codes, annotators = pd.factorize(data[annotator], sort=True)
        if len(columns) == 4:
            item_of_unit = (
                pd.Series(data[item].to_numpy(), index=unit_codes).groupby(level=0).first().sort_index()
            )
            cluster = pd.factorize(item_of_unit.to_numpy())[0].astype(np.int64)
        else:
            cluster = np.arange(len(units), dtype=np.int64)
        return cls(
            unit=unit_codes.astype(np.int64),
            annotator=annotator_codes.astype(np.int64),
            value=data[value].to_numpy(dtype=np.float64),
            units=pd.Index(units),
            annotators=pd.Index(annotators),
            cluster=cluster,
        )

    @classmethod
    def from_matrix(cls, matrix, *, annotators=None, units=None) -> Ratings:
        """Reads an **annotators × units** array (NaN = missing): row i is annotator i."""
        data = np.asarray(matrix, dtype=np.float64)
        if data.ndim != 2:
            raise ValueError("reliability data must be two-dimensional: annotators × units")
        rows, cols = np.nonzero(~np.isnan(data))
        n_annotators, n_units = data.shape
        return cls(
            unit=cols.astype(np.int64),
            annotator=rows.astype(np.int64),
            value=data[rows, cols],
            units=pd.Index(range(n_units) if units is None else units),
            annotators=pd.Index(range(n_annotators) if annotators is None else annotators),
            cluster=np.arange(n_units, dtype=np.int64),
        )

    def matrix(self) -> np.ndarray:
        """The **annotators × units** array, NaN where a label is missing."""
        out = np.full((len(self.annotators), len(self.units)), np.nan)
        out[self.annotator, self.unit] = self.value
        return out

    def labels_per_unit(self) -> np.ndarray:
        return np.bincount(self.unit, minlength=len(self.units))

    def pairable(self) -> Ratings:
        """Only units with at least two labels (the others carry no agreement information)."""
        keep_unit = self.labels_per_unit() >= 2
        keep = keep_unit[self.unit]
        return self._subset(keep)

    def only_annotators(self, positions: np.ndarray) -> Ratings:
        """Labels of the annotators at ``positions`` (positions into ``annotators``)."""
        wanted = np.zeros(len(self.annotators), dtype=bool)
        wanted[np.asarray(positions, dtype=np.int64)] = True
        return self._subset(wanted[self.annotator])

    def _subset(self, keep: np.ndarray) -> Ratings:
        """Keeps the labels where ``keep`` is true, renumbering units and annotators densely."""
        unit_codes, unit_uniques = pd.factorize(self.unit[keep], sort=True)
        annotator_codes, annotator_uniques = pd.factorize(self.annotator[keep], sort=True)
        return Ratings(
            unit=unit_codes.astype(np.int64),
            annotator=annotator_codes.astype(np.int64),
            value=self.value[keep],
            units=self.units[unit_uniques],
            annotators=self.annotators[annotator_uniques],
            cluster=pd.factorize(self.cluster[unit_uniques])[0].astype(np.int64),
        )

    def pairs(self) -> LabelPairs:
        """Every unordered pair of labels given to the same unit by two annotators, oriented so
        that ``annotator_a < annotator_b``."""
        order = np.lexsort((self.annotator, self.unit))
        unit = self.unit[order]
        sizes = np.bincount(unit, minlength=len(self.units))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        position = np.arange(unit.size) - starts[unit]
        later = sizes[unit] - 1 - position  # labels after this one in its unit
        first = np.repeat(np.arange(unit.size), later)
        offset = np.arange(first.size) - np.repeat(np.cumsum(later) - later, later)
        second = first + 1 + offset
        a, b = order[first], order[second]
        return LabelPairs(
            unit=self.unit[a],
            annotator_a=self.annotator[a],
            annotator_b=self.annotator[b],
            value_a=self.value[a],
            value_b=self.value[b],
            n_annotators=len(self.annotators),
        )


@dataclass(frozen=True)
class LabelPairs:
    """Within-unit label pairs; ``annotator_a < annotator_b`` on every row."""

    unit: np.ndarray
    annotator_a: np.ndarray
    annotator_b: np.ndarray
    value_a: np.ndarray
    value_b: np.ndarray
    n_annotators: int

    def pair_codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(code per row, annotator_a per code, annotator_b per code) for grouping by pair."""
        key = self.annotator_a * self.n_annotators + self.annotator_b
        codes, uniques = pd.factorize(key, sort=True)
        return codes, uniques // self.n_annotators, uniques % self.n_annotators
