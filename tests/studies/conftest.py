import json

import pytest

from studies import services
from studies.spec import spec_parse

SYSTEM_NAMES = ("sysname-alpha-7731", "sysname-beta-4402", "sysname-gamma-9913", "sysname-delta-1187")


def study_spec(*, slug="ab-study", n_prompts=6, n_systems=2, pairs_per_participant=3, judgments_per_pair=2, **overrides):
    spec = {
        "slug": slug,
        "title": f"{SYSTEM_NAMES[0]} versus the rest",  # researchers' title names systems: must not leak
        "prompts": [{"id": f"prompt-ext-{i}", "context": [{"speaker": "seeker", "text": f"I feel low today ({i})."}]}
                    for i in range(n_prompts)],
        "systems": [{"name": name, "kind": "imported"} for name in SYSTEM_NAMES[:n_systems]],
        "pairs_per_participant": pairs_per_participant,
        "judgments_per_pair": judgments_per_pair,
    }
    spec.update(overrides)
    return spec_parse(spec)


def responses_jsonl(spec, *, blind: bool = False) -> list[str]:
    """One response per prompt and system. ``blind`` texts say nothing about their system or prompt, so the
    blinding test can search pages for names; the default names both (export tests rely on that)."""
    return [json.dumps({"prompt_id": p["id"], "system": s["name"],
                        "response": f"Reply text {i}-{j}: that sounds hard." if blind
                        else f"Reply from {s['name']} to {p['id']}"})
            for i, p in enumerate(spec["prompts"]) for j, s in enumerate(spec["systems"])]


@pytest.fixture
def make_study(researcher):
    def make(*, blind_texts: bool = False, **kwargs):
        spec = study_spec(**kwargs)
        study = services.study_load(spec=spec, owner=researcher)
        services.responses_import(study=study, lines=responses_jsonl(spec, blind=blind_texts),
                                  source="responses.jsonl")
        return services.study_open(study=study)

    return make


def answer(criteria, side="left"):
    return {c["name"]: {"side": side, "strength": 1 if c["strength"] else None, "rationale": "because"}
            for c in criteria}


def run_participant(study, user, *, side="left", stop_after=None):
    """Enrols and judges every slot (choosing `side`); returns the participant."""
    participant = services.participant_enroll(study=study, user=user)
    participant = services.participant_consent(participant=participant, agreed=True)
    if participant.stage == "survey":
        participant = services.participant_survey_submit(participant=participant, answers={}, attributes={})
    participant = services.participant_start(participant=participant)
    done = 0
    while participant.stage == "work" and (stop_after is None or done < stop_after):
        slot = services.slot_for_display(participant=participant)
        if slot is None:
            break
        services.judgment_submit(participant=participant, token=slot.token,
                                 answers=answer(study.spec["criteria"], side))
        participant.refresh_from_db()
        done += 1
    return participant
