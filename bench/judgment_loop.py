"""The study judging loop under load, end to end: gunicorn + PostgreSQL + the htmx POST the pair page sends.

    python bench/judgment_loop.py            # 20 s closed loop, 30 s open loop
    python bench/judgment_loop.py --quick    # under a minute in all
    python bench/judgment_loop.py --quick --profile-only   # queries and CPU per loop only (no server)

One loop = what a participant's browser does per comparison: POST /s/p/<token>/judge/ with the answers (htmx
headers), which stores the judgments and answers with the next pair's fragment; the next slot token is parsed
from that HTML. Each simulated participant arrives through its own Prolific link (/s/<slug>/?PROLIFIC_PID=...,
own cookie jar) and lands on its pair page.

(0) in process: the same loop through Django's test client, counting SQL queries and CPU per loop;
(1) closed loop: 50 participants, no pause — loops/s, p50/p95, and the gunicorn workers' CPU per loop (from
    /proc; steadier than loops/s when the machine is shared);
(2) open loop: Poisson arrivals at 50 judgments/s (500 participants taking ~10 s a pair) — p50/p95.
Targets: at most 4 queries and 5 ms CPU per loop in process; closed >= 200 loops/s; open-loop p95 < 50 ms.
The loop is the one write path (studies.services.judging) that SQLite runs too.

The study is seeded directly (bulk rows: participants already judging, their first `pairs_reserved_at_once` pairs
reserved and the rest of their plans left for later, as participant_start leaves them), not through
participant_start, so seeding takes seconds; the loop measured is the real one. Needs PostgreSQL on
127.0.0.1:5432 (user postgres, trust); uses a throwaway database `resonance_bench_<pid>`.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_args, percentile, print_result  # noqa: E402
from _load import run_closed_loop, run_open_loop  # noqa: E402
from _server import bench_database_create, bench_database_drop, django_setup, gunicorn_server, migrate  # noqa: E402

SLUG = "bench-study"
SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')
ACTION_RE = re.compile(r'hx-post="(/s/p/[^"]+/judge/)"')
CRITERIA = [{"name": "overall", "question": "Overall, which reply is the more empathetic response?", "ties": True},
            {"name": "reception", "question": "If you had written the message, which reply would you rather receive?",
             "ties": True}]
SEEKER = ("I moved to a new city for work and I have not talked to anyone in days. Everyone at work already has "
          "their own friends and I do not know where to start.")
REPLY = ("That sounds really isolating, and it makes sense that you feel this way after such a big change. "
         "Would it help to think together about one small place to start meeting people?")


def study_seed(*, owner, prompts: int, plans: list[tuple[str, int]]) -> dict[str, int]:
    """Creates an open two-system study with `prompts` prompts, then for each (crowd id, length) in `plans` a
    Prolific participant already judging, with `length` slots (distinct prompts, sides alternating): the first
    `pairs_reserved_at_once` hold their pairs, the later ones are released slots that the loop reserves as it
    reaches them.

    Rows go in with bulk inserts (the participants' plans are not drawn by participant_start, which reserves pair
    by pair); the rows are the ones participant_start would make. Returns counts and seconds."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import F

    from studies import services
    from studies.models import Assignment, Pair, Participant
    from studies.services.reservation import pairs_held_at_once
    from studies.spec import spec_parse

    started = time.perf_counter()
    longest = max(length for _, length in plans)
    if longest > prompts:
        raise ValueError("a participant never sees a prompt twice: give at least as many prompts as slots")
    spec = spec_parse({
        "slug": SLUG, "title": "Bench: system-one vs. system-two", "participant_title": "Compare two replies",
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": f"({i}) {SEEKER}"}]}
                    for i in range(prompts)],
        "systems": [{"name": "system-one"}, {"name": "system-two"}], "criteria": CRITERIA,
        "pairs_per_participant": min(10, prompts), "judgments_per_pair": len(plans),
        "reservation_minutes": 600,
    })
    study = services.study_load(spec=spec, owner=owner)
    lines = [json.dumps({"prompt_id": p["id"], "system": s["name"], "response": f"{REPLY} ({s['name'][-3:]}{i})"})
             for i, p in enumerate(spec["prompts"]) for s in spec["systems"]]
    services.responses_import(study=study, lines=lines, source="bench")
    services.study_open(study=study)
    pairs = list(Pair.objects.filter(study=study).order_by("prompt_id"))
    cap = pairs_held_at_once(study.spec)
    user_model = get_user_model()
    with transaction.atomic():
        users = user_model.objects.bulk_create([
            user_model(username=f"prolific-p-{crowd_id}", role="participant", crowd_platform="prolific",
                       crowd_id=crowd_id) for crowd_id, _ in plans])
        participants = Participant.objects.bulk_create([
            Participant(study=study, user=user, index=index, seed=index, stage=Participant.Stage.WORK,
                        total=length, crowd={"platform": "prolific", "study_id": "bench"})
            for index, (user, (_, length)) in enumerate(zip(users, plans, strict=True))])
        slots = []
        for index, (participant, (_, length)) in enumerate(zip(participants, plans, strict=True)):
            for position in range(length):
                pair = pairs[(index + position) % len(pairs)]
                held = position < cap
                slots.append(Assignment(participant=participant, position=position, pair=pair if held else None,
                                        system_a_id=pair.system_a_id, system_b_id=pair.system_b_id,
                                        left="ab"[(index + position) % 2],
                                        status=Assignment.Status.RESERVED if held else Assignment.Status.RELEASED))
        Assignment.objects.bulk_create(slots, batch_size=5000)
        taken: dict[int, int] = {}
        for slot in slots:
            if slot.pair_id:
                taken[slot.pair_id] = taken.get(slot.pair_id, 0) + 1
        by_count: dict[int, list[int]] = {}
        for pair_id, count in taken.items():
            by_count.setdefault(count, []).append(pair_id)
        for count, pair_ids in by_count.items():
            Pair.objects.filter(pk__in=pair_ids).update(taken=F("taken") + count)
    return {"prompts": prompts, "participants": len(plans), "slots": len(slots),
            "seconds": round(time.perf_counter() - started, 2)}


def crowd_link(prefix: str):
    return lambda index: f"/s/{SLUG}/?PROLIFIC_PID={prefix}{index}&STUDY_ID=bench&SESSION_ID=s{prefix}{index}"


async def one_loop(session, state: dict) -> bool:
    """Answers the pair on screen (left for the first question, right for the second) and reads the next one."""
    if "slot" not in state:
        page = state.pop("page", "")
        slot, action = SLOT_RE.search(page), ACTION_RE.search(page)
        if slot is None or action is None:
            state["error"] = "no pair on the participant's page"
            return False
        state["slot"], state["action"] = slot.group(1), action.group(1)
        state["csrf"] = next(c.value for c in session.cookie_jar if c.key == "csrftoken")
    form = {"csrfmiddlewaretoken": state["csrf"], "slot": state["slot"], "choice_overall": "1",
            "choice_reception": "2"}
    async with session.post(state["action"], data=form, headers={"HX-Request": "true", "HX-Target": "slot"}) as response:
        body = await response.text()
        status, redirect = response.status, response.headers.get("HX-Redirect")
    found = SLOT_RE.search(body) if status == 200 else None
    if found is None:
        state["error"] = f"HTTP {status}{' redirect ' + redirect if redirect else ''}: {body[:120]}"
        return False
    state["slot"] = found.group(1)
    return True


def in_process(*, prefix: str, loops: int) -> dict:
    """Runs `loops` judging loops of one participant through the test client (the full middleware stack, no
    server); returns SQL queries and CPU milliseconds per loop (CPU is this process's, steadier than wall time
    on a shared machine)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")  # the bench settings allow loopback hosts only
    page = client.get(crowd_link(prefix)(0), follow=True).content.decode()
    slot, action = SLOT_RE.search(page).group(1), ACTION_RE.search(page).group(1)
    csrf = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""

    def loop(slot_token: str) -> str:
        response = client.post(action, {"csrfmiddlewaretoken": csrf, "slot": slot_token, "choice_overall": "1",
                                        "choice_reception": "2"}, headers={"HX-Request": "true"})
        return SLOT_RE.search(response.content.decode()).group(1)

    for _ in range(5):  # warm caches: templates, URL resolver, the study's spec
        slot = loop(slot)
    wall, cpu = [], []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(loops):
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            slot = loop(slot)
            wall.append((time.perf_counter() - started_wall) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return {"loops": loops, "queries_per_loop": round(len(queries) / loops, 2),
            "cpu_ms_per_loop": round(sum(cpu) / loops, 2), "wall_p50_ms": round(percentile(wall, 50), 2),
            "wall_p95_ms": round(percentile(wall, 95), 2)}


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn workers under `master_pid` (Linux /proc). Unlike
    latency, CPU per loop hardly moves with other people's load on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == master_pid:  # fields[1] is the parent pid (field 4 of stat)
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15)
    return total


def judgments_stored() -> int:
    from studies.models import Judgment

    return Judgment.objects.count()



def in_process_targets(figures: dict) -> dict:
    """The per-loop budget of the in-process step: at most 4 SQL statements and 5 ms of this process's CPU."""
    return {"at_most_4_queries": figures["queries_per_loop"] <= 4, "cpu_under_5_ms": figures["cpu_ms_per_loop"] <= 5}


def server_measure(args, *, database_url: str, results: dict, durations: tuple[float, float]) -> None:
    """The server-side steps: closed then open loops through gunicorn."""
    from django.db import connections

    closed_s, open_s = durations
    with gunicorn_server(database_url=database_url, workers=args.workers, worker_class=args.worker_class,
                         threads=args.threads) as server:
        results["server"] = server.describe()
        cpu_before, judged_before = workers_cpu_seconds(server.process.pid), judgments_stored()
        closed = run_closed_loop(base_url=server.base_url, crowd_link=crowd_link("c"), one_loop=one_loop,
                                 users=args.users, duration_s=closed_s, warmup_s=2.0)
        results["closed"] = closed.figures()
        # every loop stores one judgment per criterion; the CPU counts the participants' arrival pages too
        loops = (judgments_stored() - judged_before) / len(CRITERIA)
        cpu = workers_cpu_seconds(server.process.pid) - cpu_before
        results["closed"]["server_cpu_ms_per_loop"] = round(1000 * cpu / loops, 2) if loops else None
        connections.close_all()
        print(f"closed {json.dumps(results['closed'])}", file=sys.stderr, flush=True)
        opened = run_open_loop(base_url=server.base_url, crowd_link=crowd_link("o"), one_loop=one_loop,
                               users=args.open_users, rate_per_s=args.open_rate, duration_s=open_s)
        results["open"] = opened.figures()


def _arguments(parser) -> None:
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--users", type=int, default=50, help="closed-loop participants")
    parser.add_argument("--open-users", type=int, default=500, help="open-loop participants")
    parser.add_argument("--open-rate", type=float, default=50.0, help="open-loop judgments per second")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database behind for EXPLAIN")
    parser.add_argument("--profile-only", action="store_true", help="only the in-process step (no server)")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _arguments)
    closed_s, open_s, profile_loops = (8.0, 8.0, 100) if args.quick else (20.0, 30.0, 300)
    # enough slots that no participant runs out: closed users at up to 600 loops/s, open users at ~10 s a pair
    closed_slots = int(600 * (closed_s + 4) / args.users) + 10
    open_slots = int(args.open_rate * open_s * 3 / args.open_users) + 10
    prompts = max(closed_slots, open_slots, profile_loops + 10)
    plans = [(f"prof{0}", profile_loops + 10)]
    if not args.profile_only:
        plans += [(f"c{i}", closed_slots) for i in range(args.users)] + [(f"o{i}", open_slots)
                                                                          for i in range(args.open_users)]
    database_url = bench_database_create()
    results: dict = {}
    try:
        migrate(database_url=database_url)
        django_setup(database_url=database_url)
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.create_user(username="bench-owner", role="researcher")
        results["seed"] = study_seed(owner=owner, prompts=prompts, plans=plans)
        print(f"seeded {json.dumps(results['seed'])}", file=sys.stderr, flush=True)
        results["in_process"] = in_process(prefix="prof", loops=profile_loops)
        print(f"in process {json.dumps(results['in_process'])}", file=sys.stderr, flush=True)
        from django.db import connections

        connections.close_all()
        if not args.profile_only:
            server_measure(args, database_url=database_url, results=results, durations=(closed_s, open_s))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            bench_database_drop()
    results["targets_met"] = in_process_targets(results["in_process"])
    if not args.profile_only:
        results["targets_met"] |= {"closed_200_loops_per_s": results["closed"]["loops_per_s"] >= 200,
                                   "open_p95_under_50_ms": results["open"]["p95_ms"] < 50}
    print_result("judgment_loop", results)


if __name__ == "__main__":
    main()
