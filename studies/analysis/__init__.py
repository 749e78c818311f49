"""Preference-study analysis: plain pandas/scipy/statsmodels/choix, judgments frame in, dicts out.

Only :mod:`studies.analysis.load` touches Django (it builds the frames from the database); every
other module works on the frames described in :mod:`studies.analysis.frame`.
"""

from studies.analysis.report import study_report

__all__ = ["study_report"]
