"""Writes for studies. Import from here: ``from studies.services import study_load, judgment_submit``."""

from studies.services.importing import judgments_import, judgments_parse
from studies.services.judging import (
    JudgmentInvalid,
    SubmitOutcome,
    answers_validate,
    judgment_context_fetch,
    judgment_submit,
    slot_for_display,
)
from studies.services.participation import (
    StudyFull,
    participant_consent,
    participant_enroll,
    participant_start,
    participant_survey_submit,
)
from studies.services.reservation import pair_reserve, pairs_release, reservations_release_expired
from studies.services.setup import (
    StudyError,
    responses_import,
    responses_import_file,
    responses_missing,
    responses_parse,
    responses_store,
    study_close,
    study_create,
    study_delete,
    study_delete_refusal,
    study_load,
    study_open,
    study_share,
    study_unshare,
    study_update,
)

__all__ = [
    "JudgmentInvalid", "StudyError", "StudyFull", "SubmitOutcome", "answers_validate", "judgment_context_fetch",
    "judgment_submit", "judgments_import", "judgments_parse", "pair_reserve", "pairs_release", "participant_consent",
    "participant_enroll", "participant_start", "participant_survey_submit", "reservations_release_expired",
    "responses_import", "responses_import_file", "responses_missing", "responses_parse", "responses_store",
    "slot_for_display", "study_close", "study_create", "study_delete", "study_delete_refusal", "study_load", "study_open", "study_share",
    "study_unshare", "study_update",
]
