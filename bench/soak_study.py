"""The study half of the soak (bench/soak.py): participants who come through their Prolific links, consent, start
and judge pairs over htmx, with misbehaviour mixed in, and the audit of what the database kept.

Each participant joins through its own link (own cookie jar), agrees on the consent page, starts, then judges the
pair on screen until its plan is done: double submits (two POSTs of one slot at once), replays of an answered slot,
and a few who leave mid-plan (their reservations stay held until the study's reservation lapses; the audit counts
reservations held by participants who are no longer judging, which must be none). The audit's counts must all be 0:
lost (acknowledged judgments with no row), duplicated (two judgments for one slot and criterion), over_assigned
(pairs with more comparisons than the study's quota), stale_pair_counters (a pair's `taken` that disagrees with
its slots), leaked_reservations (reserved slots of participants past judging), participants_stuck (judging, with
no slot at their position)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time

import aiohttp

SLUG = "soak-study"
SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')
JUDGE_RE = re.compile(r'hx-post="(/s/p/[^"]+/judge/)"')
FORM_RE = re.compile(r'<form[^>]*action="(/s/p/[^"]+/(consent|survey|start)/)"')
CRITERIA = [{"name": "overall", "question": "Which reply is the more empathetic response?", "ties": True},
            {"name": "reception", "question": "Which reply would you rather receive?", "ties": False}]
PAIRS_EACH = 6
JUDGMENTS_PER_PAIR = 3


def study_seed(*, participants: int) -> str:
    """An open two-system study with room for every participant's whole plan (consent, no survey)."""
    from django.contrib.auth import get_user_model

    from studies import services
    from studies.spec import spec_parse

    owner, _ = get_user_model().objects.get_or_create(username="soak-owner", defaults={"role": "researcher"})
    prompts = max(PAIRS_EACH, participants * PAIRS_EACH // JUDGMENTS_PER_PAIR + PAIRS_EACH)
    spec = spec_parse({
        "slug": SLUG, "title": "Soak study", "participant_title": "Compare two replies",
        "consent": {"text": "You will read short conversations and compare two replies."},
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": f"({i}) I lost my job today."}]}
                    for i in range(prompts)],
        "systems": [{"name": "system-one"}, {"name": "system-two"}], "criteria": CRITERIA,
        "pairs_per_participant": PAIRS_EACH, "judgments_per_pair": JUDGMENTS_PER_PAIR,
    })
    study = services.study_load(spec=spec, owner=owner)
    lines = [json.dumps({"prompt_id": p["id"], "system": s["name"], "response": f"I am sorry. ({s['name']} {i})"})
             for i, p in enumerate(spec["prompts"]) for s in spec["systems"]]
    services.responses_import(study=study, lines=lines, source="soak")
    services.study_open(study=study)
    return SLUG


class StudyLedger:
    def __init__(self):
        self.acknowledged: list[str] = []  # slot tokens answered as stored
        self.latencies: list[float] = []
        self.server_errors = 0
        self.judgments = self.double_submits = self.replays = self.left = self.finished = 0


async def _send(session, method: str, url: str, ledger: StudyLedger, **kwargs):
    started = time.perf_counter()
    async with session.request(method, url, **kwargs) as response:
        text = await response.text()
    ledger.latencies.append(time.perf_counter() - started)
    if response.status >= 500 and response.status != 503:
        ledger.server_errors += 1
    return response.status, text, response.headers


def _csrf(session) -> str:
    return next((c.value for c in session.cookie_jar if c.key == "csrftoken"), "")


async def _judge(session, base: str, page: str, ledger: StudyLedger, rng: random.Random,
                 answered: list[str]) -> str | None:
    """Answers the pair on screen; returns the next pair's fragment, or None when the page is to be read afresh
    (the plan is done, or nothing was stored)."""
    slot, action = SLOT_RE.search(page).group(1), JUDGE_RE.search(page).group(1)
    form = {"csrfmiddlewaretoken": _csrf(session), "slot": slot, "choice_overall": rng.choice("120"),
            "choice_reception": rng.choice("12")}
    post = {"data": form, "headers": {"HX-Request": "true", "HX-Target": "slot"}, "allow_redirects": False}
    roll = rng.random()
    if roll < 0.1 and answered:
        ledger.replays += 1  # a resent old slot: must store nothing new and move nothing
        await _send(session, "POST", base + action, ledger, **{**post, "data": {**form, "slot": rng.choice(answered)}})
    if roll > 0.85:
        ledger.double_submits += 1
        results = await asyncio.gather(_send(session, "POST", base + action, ledger, **post),
                                       _send(session, "POST", base + action, ledger, **post))
    else:
        results = [await _send(session, "POST", base + action, ledger, **post)]
    ledger.judgments += 1
    following = None
    for status, text, headers in results:
        if status not in (200, 204):
            continue
        if headers.get("HX-Redirect"):  # the plan is done: stored, and the page moves on to the end
            ledger.acknowledged.append(slot)
        elif (found := SLOT_RE.search(text)) and found.group(1) != slot:  # stored, and the next pair is shown
            ledger.acknowledged.append(slot)
            following = text
    answered.append(slot)
    return following


async def participant(base: str, index: int, until: float, ledger: StudyLedger, rng: random.Random) -> None:
    link = f"{base}/s/{SLUG}/?PROLIFIC_PID=soak-p{index}&STUDY_ID=soak&SESSION_ID=sp{index}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        _, page, _ = await _send(session, "GET", link, ledger)
        answered: list[str] = []
        leaves_after = rng.randint(1, PAIRS_EACH - 1) if rng.random() < 0.05 else None
        for _step in range(4 * PAIRS_EACH + 6):
            if time.monotonic() >= until:
                return
            if SLOT_RE.search(page) and JUDGE_RE.search(page):
                if leaves_after is not None and len(answered) >= leaves_after:
                    ledger.left += 1
                    return
                page = await _judge(session, base, page, ledger, rng, answered)
                if page is None:
                    _, page, _ = await _send(session, "GET", link, ledger)
                    if not SLOT_RE.search(page):
                        ledger.finished += 1
                        return
                continue
            stage = FORM_RE.search(page)
            if stage is None:
                return  # done, ended, or the study is full
            data = {"csrfmiddlewaretoken": _csrf(session)}
            if stage.group(2) == "consent":
                data["agree"] = "yes"
            _, page, _ = await _send(session, "POST", base + stage.group(1), ledger, data=data)


def study_audit(slug: str, ledger: StudyLedger) -> dict:
    from django.db.models import Count, F, Q

    from studies.models import Assignment, Judgment, Pair, Participant, Study

    study = Study.objects.get(slug=slug)
    stored = set(Judgment.objects.filter(study=study).values_list("assignment__token", flat=True))
    quota = study.spec["judgments_per_pair"]
    pairs = Pair.objects.filter(study=study).annotate(
        slots=Count("assignments", filter=Q(assignments__status__in=[Assignment.Status.RESERVED,
                                                                     Assignment.Status.DONE])),
        compared=Count("assignments", filter=Q(assignments__status=Assignment.Status.DONE)))
    judging = Participant.objects.filter(study=study, stage=Participant.Stage.WORK)
    return {
        "lost": sum(1 for token in set(ledger.acknowledged) if token not in stored),
        "duplicated": Judgment.objects.filter(study=study).values("assignment", "criterion")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
        "over_assigned": pairs.filter(Q(taken__gt=quota) | Q(compared__gt=quota)).count(),
        "stale_pair_counters": pairs.exclude(taken=F("slots")).count(),
        "leaked_reservations": Assignment.objects.filter(participant__study=study, status=Assignment.Status.RESERVED)
        .exclude(participant__stage=Participant.Stage.WORK).count(),
        "participants_stuck": judging.exclude(assignments__position=F("position")).count(),
        "judgment_rows": Judgment.objects.filter(study=study).count(),
        "participants": Participant.objects.filter(study=study).count(),
    }
