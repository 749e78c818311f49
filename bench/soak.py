"""Soak of the annotation loop on the real stack (gunicorn + PostgreSQL, loopback only): nothing lost or leaked.

    python bench/soak.py            # 100 annotators and 100 participants for 120 s
    python bench/soak.py --quick    # 20 annotators and 20 participants for 20 s (under a minute in all)

Each simulated annotator joins through its own Prolific-style link (own cookie jar) and works the htmx loop with
misbehaviour mixed in: double submits (two POSTs of one form at once), replays of an answered form, skips,
distressing skips and abandoned items that expire (reservations last RESERVATION_S seconds here). Afterwards the
database is checked; every count below must be 0:
lost (acknowledged answers with no label), duplicated (two labels for one item and annotator), over_assigned
(items with more labels than they need, or `taken` past `needed`), stale_counters (item labels_count, taken,
enrollment labels_done and skipped that disagree with the rows), leaked_reservations (reservations held by
enrollments past the work stage, or more than one live reservation per annotator), server_errors.
At the same time participants judge pairs of a blinded study on the same server (bench/soak_study.py: consent,
start, double submits, replays, leaving mid-plan); their audit's counts, prefixed `study_`, must be 0 as well.
The last line printed is one JSON object with every figure and the p95 latency of a turn (annotators) and of a
request (participants).
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); uses a throwaway database `resonance_bench_<pid>`.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_args, percentile, print_result  # noqa: E402
from _server import bench_database_create, bench_database_drop, django_setup, gunicorn_server, migrate  # noqa: E402
from soak_study import StudyLedger, participant, study_audit, study_seed  # noqa: E402

RESERVATION_S = 6
ASSIGNMENT_RE = re.compile(r'name="assignment" value="(\d+)"')
SPEC = {
    "title": "Soak", "kind": "narrative", "overlap": 3, "slug": "soak",
    "dimensions": [{"name": "empathy", "question": "How empathic is the narrator?", "type": "likert", "min": 1,
                    "max": 5, "level": "ordinal"}],
}


def _arguments(parser) -> None:
    parser.add_argument("--annotators", type=int, default=None)
    parser.add_argument("--participants", type=int, default=None, help="study participants at the same time")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--items", type=int, default=None, help="items in the project (overlap 3)")


def project_seed(items: int, slug: str = "soak") -> str:
    from django.contrib.auth import get_user_model

    from annotations.models import Item, Project
    from annotations.spec import spec_hash, spec_normalize

    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(username="soak-owner", defaults={"role": user_model.Role.RESEARCHER})
    spec = spec_normalize({**SPEC, "slug": slug})
    project = Project.objects.create(slug=slug, title="Soak", kind="narrative", spec=spec, spec_hash=spec_hash(spec),
                                     owner=owner, overlap=3)
    Item.objects.bulk_create([Item(project=project, external_id=f"n{i}", kind="narrative",
                                   data={"text": f"Narrative {i}: I finally asked for help."}, needed=3)
                              for i in range(items)])
    return project.slug


class Ledger:
    def __init__(self):
        self.acknowledged: list[tuple[str, int]] = []  # (crowd id, assignment id) answered as stored
        self.latencies: list[float] = []
        self.server_errors = 0
        self.statuses: Counter = Counter()
        self.turns = self.double_submits = self.replays = self.skips = self.abandoned = 0


async def _post(session, url: str, data: dict, ledger: Ledger):
    started = time.perf_counter()
    async with session.post(url, data=data, headers={"HX-Request": "true"}, allow_redirects=False) as response:
        text = await response.text()
    ledger.latencies.append(time.perf_counter() - started)
    ledger.statuses[response.status] += 1
    if response.status >= 500 and response.status != 503:  # 503: the database is away, nothing stored (faults.py)
        ledger.server_errors += 1
    return response.status, text


async def _page(session, url: str, ledger: Ledger) -> str:
    """GETs a page, waiting out a database outage (503) for up to 15 s."""
    for _attempt in range(30):
        async with session.get(url) as page:
            text = await page.text()
        ledger.statuses[page.status] += 1
        if page.status >= 500 and page.status != 503:
            ledger.server_errors += 1
        if page.status != 503:
            return text
        await asyncio.sleep(0.5)
    return text


async def annotator(base: str, slug: str, index: int, until: float, ledger: Ledger, rng: random.Random) -> None:
    pid = f"soak-{index}"
    submit = f"{base}/annotate/{slug}/submit/"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        text = await _page(session, f"{base}/p/{slug}/?PROLIFIC_PID={pid}&STUDY_ID=soak&SESSION_ID=s{index}", ledger)
        csrf = next((c.value for c in session.cookie_jar if c.key == "csrftoken"), "")
        answered: list[str] = []
        while time.monotonic() < until:
            found = ASSIGNMENT_RE.search(text)
            if not found:
                return  # finished: the final stage
            held = found.group(1)
            form = {"assignment": held, "d__empathy": str(rng.randint(1, 5)), "action": "submit",
                    "csrfmiddlewaretoken": csrf}
            roll = rng.random()
            if roll < 0.05:
                ledger.abandoned += 1
                await asyncio.sleep(RESERVATION_S + 1)  # the reservation lapses; the submit may then be refused
            elif roll < 0.15:
                form["action"] = rng.choice(["skip", "distressing"])
                ledger.skips += 1
            elif roll < 0.25:
                ledger.double_submits += 1
                (status, text), (other, _) = await asyncio.gather(_post(session, submit, form, ledger),
                                                                  _post(session, submit, form, ledger))
                if other in (200, 204) and form["action"] == "submit":
                    ledger.acknowledged.append((pid, int(held)))
                if status in (200, 204):
                    ledger.acknowledged.append((pid, int(held)))
                    answered.append(held)
                ledger.turns += 1
                if status == 204:
                    return
                if status == 503:
                    text = await _page(session, f"{base}/annotate/{slug}/", ledger)
                continue
            elif roll < 0.32 and answered:
                ledger.replays += 1
                replay = {**form, "assignment": rng.choice(answered)}
                await _post(session, submit, replay, ledger)  # a resent old form: must reserve nothing new
            status, text = await _post(session, submit, form, ledger)
            ledger.turns += 1
            if status in (200, 204) and form["action"] == "submit":
                ledger.acknowledged.append((pid, int(held)))
                answered.append(held)
            if status == 204:
                return
            if status in (409, 422, 503):  # not stored (expired and taken, or the database away): reload
                text = await _page(session, f"{base}/annotate/{slug}/", ledger)


async def drive(base: str, slug: str, *, annotators: int, seconds: float, participants: int = 0,
                study_ledger: StudyLedger | None = None) -> Ledger:
    """Runs the annotators (and, with `participants`, the study's participants into `study_ledger`) at once."""
    ledger = Ledger()
    until = time.monotonic() + seconds
    crowd = [annotator(base, slug, index, until, ledger, random.Random(index)) for index in range(annotators)]
    crowd += [participant(base, index, until, study_ledger, random.Random(10_000 + index))
              for index in range(participants)]
    await asyncio.gather(*crowd)
    return ledger


def audit(slug: str, ledger: Ledger) -> dict:
    from django.db import connection

    from annotations.models import Assignment, Label

    stored = set(Label.objects.filter(project__slug=slug).values_list("annotator__crowd_id", "assignment_id"))
    lost = sum(1 for key in set(ledger.acknowledged) if key not in stored)
    queries = {
        "duplicated": "SELECT count(*) FROM (SELECT 1 FROM annotations_label GROUP BY item_id, annotator_id "
                      "HAVING count(*) > 1) d",
        "over_assigned": "SELECT count(*) FROM annotations_item i WHERE i.taken > i.needed OR "
                         "(SELECT count(*) FROM annotations_label l WHERE l.item_id = i.id) > i.needed",
        "stale_item_counters": "SELECT count(*) FROM annotations_item i WHERE i.labels_count <> "
                               "(SELECT count(*) FROM annotations_label l WHERE l.item_id = i.id) OR i.taken <> "
                               "(SELECT count(*) FROM annotations_label l WHERE l.item_id = i.id) + "
                               "(SELECT count(*) FROM annotations_assignment a WHERE a.item_id = i.id "
                               "AND a.status = 'reserved')",
        "stale_enrollment_counters": "SELECT count(*) FROM annotations_enrollment e WHERE e.labels_done <> "
                                     "(SELECT count(*) FROM annotations_label l WHERE l.project_id = e.project_id "
                                     "AND l.annotator_id = e.annotator_id) OR e.skipped <> "
                                     "(SELECT count(*) FROM annotations_assignment a WHERE a.project_id = e.project_id"
                                     " AND a.annotator_id = e.annotator_id AND a.status IN ('skipped', 'distressing'))",
        "leaked_reservations": "SELECT count(*) FROM annotations_assignment a JOIN annotations_enrollment e ON "
                               "e.project_id = a.project_id AND e.annotator_id = a.annotator_id "
                               "WHERE a.status = 'reserved' AND e.stage <> 'work'",
        "annotators_holding_two": "SELECT count(*) FROM (SELECT 1 FROM annotations_assignment WHERE status = "
                                  "'reserved' AND expires_at > now() GROUP BY annotator_id HAVING count(*) > 1) h",
    }
    figures = {"lost": lost}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            figures[name] = cursor.fetchone()[0]
    figures["labels"] = Label.objects.filter(project__slug=slug).count()
    figures["reserved_now"] = Assignment.objects.filter(project__slug=slug, status="reserved").count()
    return figures


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _arguments)
    annotators = args.annotators or (20 if args.quick else 100)
    seconds = args.seconds or (20.0 if args.quick else 120.0)
    participants = args.participants if args.participants is not None else (20 if args.quick else 100)
    items = args.items or (150 if args.quick else 1500)
    database_url = bench_database_create()
    try:
        migrate(database_url=database_url)
        django_setup(database_url=database_url)
        slug = project_seed(items)
        study_slug = study_seed(participants=participants) if participants else None
        study_ledger = StudyLedger()
        from django.db import connections

        connections.close_all()
        extra = {"RESONANCE_RESERVATION_SECONDS": str(RESERVATION_S)}
        with gunicorn_server(database_url=database_url, workers=3, worker_class="gthread", threads=4,
                             extra_env=extra) as server:
            ledger = asyncio.run(drive(server.base_url, slug, annotators=annotators, seconds=seconds,
                                       participants=participants, study_ledger=study_ledger))
        figures = audit(slug, ledger)
        if study_slug:
            figures.update({f"study_{name}": value for name, value in study_audit(study_slug, study_ledger).items()})
        connections.close_all()
    finally:
        bench_database_drop()
    figures.update({
        "annotators": annotators, "seconds": seconds, "items": items, "turns": ledger.turns,
        "acknowledged": len(ledger.acknowledged), "double_submits": ledger.double_submits,
        "replays": ledger.replays, "skips": ledger.skips, "abandoned": ledger.abandoned,
        "server_errors": ledger.server_errors,
        "p95_ms": round(percentile(ledger.latencies, 95) * 1000, 1) if ledger.latencies else None,
        "participants": participants, "study_judgments": study_ledger.judgments,
        "study_acknowledged": len(set(study_ledger.acknowledged)), "study_double_submits": study_ledger.double_submits,
        "study_replays": study_ledger.replays, "study_left": study_ledger.left, "study_finished": study_ledger.finished,
        "study_server_errors": study_ledger.server_errors,
        "study_p95_ms": round(percentile(study_ledger.latencies, 95) * 1000, 1) if study_ledger.latencies else None,
    })
    must_be_zero = ("lost", "duplicated", "over_assigned", "stale_item_counters", "stale_enrollment_counters",
                    "leaked_reservations", "annotators_holding_two", "server_errors")
    if participants:
        must_be_zero += ("study_lost", "study_duplicated", "study_over_assigned", "study_stale_pair_counters",
                         "study_leaked_reservations", "study_participants_stuck", "study_server_errors")
    figures["ok"] = all(figures[name] == 0 for name in must_be_zero)
    print_result("soak", figures)


if __name__ == "__main__":
    main()
