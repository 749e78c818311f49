"""The annotation loop under load, end to end: gunicorn + PostgreSQL + the htmx submit the page sends.

    python bench/annotation_loop.py            # projects of 1k, 100k and 1M items
    python bench/annotation_loop.py --quick    # 1k and 100k items, shorter runs
    python bench/annotation_loop.py --sweep    # also compare gunicorn worker counts and classes (on 100k items)
    python bench/annotation_loop.py --quick --profile-only --sizes 100000   # queries and CPU per loop only

One loop = what an annotator's browser does per item: POST /annotate/<slug>/submit/ with the form fields (htmx
headers), which stores the label and answers with the next item's fragment; the next assignment id is parsed from
that HTML. Each simulated annotator joins through its own Prolific-style crowd link (own cookie jar).

(0) in process: the same loop through Django's test client on the largest project, counting SQL queries and CPU
    per loop (CPU is steadier than loops/s on a shared machine); the loop is the one write path
    (annotations.services.turn) that SQLite runs too;
(1) closed loop: 50 annotators, no pause — loops/s, p50/p95 per project size;
(2) open loop: Poisson arrivals at 50 loops/s in all (500 annotators taking 10 s an item) — p50/p95.
Targets: at most 4 queries and 5 ms CPU per loop in process; closed >= 200 loops/s and within 1.5x from 1k to
1M items; open-loop p95 < 50 ms.
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); uses a throwaway database `resonance_bench_<pid>`.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_args, percentile, print_result  # noqa: E402
from _load import run_closed_loop, run_open_loop  # noqa: E402
from _server import bench_database_create, bench_database_drop, django_setup, gunicorn_server, migrate  # noqa: E402

SPEC = {
    "title": "Bench", "kind": "narrative", "overlap": 20,
    "dimensions": [
        {"name": "empathy", "question": "How empathic is the narrator?", "type": "likert", "min": 1, "max": 7,
         "level": "ordinal", "labels": {"1": "not at all", "7": "very"}},
        {"name": "warmth", "question": "How warm is the tone?", "type": "likert", "min": 1, "max": 5,
         "level": "ordinal"},
    ],
}
SENTENCES = [
    "I lost my job last spring and did not tell anyone for weeks.", "My sister called every night that winter.",
    "The doctor said the results would take another month.", "We moved to a city where I knew nobody.",
    "I still keep the letter my grandfather wrote before the war.", "Nobody at school noticed I had stopped eating.",
    "My friend sat with me in the hospital corridor until morning.", "I was angry for a long time, then just tired.",
    "The dog waited at the door every evening after he was gone.", "I finally asked for help, and it was easier.",
]
ASSIGNMENT_RE = re.compile(r'name="assignment" value="(\d+)"')
SIZES_FULL, SIZES_QUICK = [1_000, 100_000, 1_000_000], [1_000, 100_000]


def _size_name(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 else f"{size // 1_000}k"


def _text_pool(rng: random.Random, size: int = 4096) -> list[str]:
    """Narratives of 3-5 sentences, already escaped for a JSON string inside a COPY text field."""
    pool = []
    for _ in range(size):
        text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 5)))
        pool.append(json.dumps(text)[1:-1].replace("\\", "\\\\"))
    return pool


def _item_rows(project_id: int, size: int, rng: random.Random):
    """Tab-separated COPY lines for `size` narrative items, texts drawn from a pool (per-row JSON encoding and
    sentence sampling would dominate the seeding time)."""
    pool = _text_pool(rng)
    mask = len(pool) - 1
    tail = f"\t{{}}\ttask\tf\t%d\t{SPEC['overlap']}\t0\t0\tf\n"
    getrandbits = rng.getrandbits
    for index in range(size):
        yield f'{project_id}\tn{index}\tnarrative\t{{"text": "({index}) {pool[index & mask]}"}}' + tail % getrandbits(62)


@contextmanager
def item_indexes_deferred(cursor):
    """Drops the item table's secondary indexes, unique and foreign-key constraints for a bulk load and restores
    them after: building an index (or checking a key) once for all rows is much faster than row by row.
    Bench databases only."""
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = 'annotations_item'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC")
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'annotations_item' "
                   "AND indexname NOT LIKE '%%_pkey'")
    indexes = [(name, definition) for name, definition in cursor.fetchall() if name not in dict(constraints)]
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE annotations_item DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE annotations_item ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("ANALYZE annotations_item")


def projects_seed(*, sizes: list[int], owner) -> dict[str, tuple[str, float]]:
    """Creates project `bench-<size>` per size and COPYs its items in; returns {name: (slug, seconds)}, the index
    rebuild counted in the last project's seconds."""
    from django.db import connection, transaction

    from annotations.models import Project
    from annotations.spec import spec_hash, spec_normalize

    columns = "project_id, external_id, kind, data, metadata, role, distressing, shuffle_key, needed, taken, " \
              "labels_count, is_full"
    seeded = {}
    with transaction.atomic(), connection.cursor() as cursor:
        with item_indexes_deferred(cursor):
            for size in sizes:
                started = time.perf_counter()
                slug = f"bench-{_size_name(size)}"
                spec = spec_normalize({**SPEC, "slug": slug})
                project = Project.objects.create(slug=slug, title=f"Bench {size:,} items", kind="narrative",
                                                 spec=spec, spec_hash=spec_hash(spec), owner=owner,
                                                 overlap=SPEC["overlap"])
                with cursor.cursor.copy(f"COPY annotations_item ({columns}) FROM STDIN") as copy:
                    batch: list[str] = []
                    for line in _item_rows(project.id, size, random.Random(size)):
                        batch.append(line)
                        if len(batch) == 50_000:
                            copy.write("".join(batch))
                            batch.clear()
                    copy.write("".join(batch))
                seeded[_size_name(size)] = (slug, time.perf_counter() - started)
            rebuild_started = time.perf_counter()
    last = _size_name(sizes[-1])
    seeded[last] = (seeded[last][0], seeded[last][1] + time.perf_counter() - rebuild_started)
    return seeded


def make_one_loop(slug: str):
    """The page's loop for one project: submit the held item's answers, read the next assignment off the HTML."""
    submit_path = f"/annotate/{slug}/submit/"
    headers = {"HX-Request": "true", "HX-Target": "item-slot"}

    async def one_loop(session, state: dict) -> bool:
        if "assignment" not in state:
            found = ASSIGNMENT_RE.search(state.pop("page", ""))
            if found is None:
                async with session.get(f"/annotate/{slug}/") as response:
                    found = ASSIGNMENT_RE.search(await response.text())
            if found is None:
                state["error"] = "no item on the annotate page"
                return False
            state["assignment"] = found.group(1)
        csrf = state.get("csrf")
        if csrf is None:
            csrf = state["csrf"] = next(c.value for c in session.cookie_jar if c.key == "csrftoken")
        form = {"csrfmiddlewaretoken": csrf, "assignment": state["assignment"], "seconds": "10",
                "d__empathy": str(random.randint(1, 7)), "d__warmth": str(random.randint(1, 5)), "action": "submit"}
        async with session.post(submit_path, data=form, headers=headers) as response:
            body = await response.text()
            redirect = response.headers.get("HX-Redirect")
        found = ASSIGNMENT_RE.search(body) if response.status == 200 and not redirect else None
        if found is None:
            state.pop("assignment", None)
            state["error"] = f"HTTP {response.status}{' redirect ' + redirect if redirect else ''}: {body[:120]}"
            return False
        state["assignment"] = found.group(1)
        return True

    return one_loop


def in_process(*, slug: str, loops: int) -> dict:
    """Runs `loops` annotation loops of one annotator through the test client (the full middleware stack, no
    server); returns SQL queries and CPU milliseconds per loop, and the wall-clock p50/p95."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")  # the bench settings allow loopback hosts only
    page = client.get(crowd_link(slug, "prof")(0), follow=True).content.decode()
    assignment = ASSIGNMENT_RE.search(page).group(1)
    csrf = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    rng = random.Random(0)

    def loop(assignment_id: str) -> str:
        form = {"csrfmiddlewaretoken": csrf, "assignment": assignment_id, "seconds": "10",
                "d__empathy": str(rng.randint(1, 7)), "d__warmth": str(rng.randint(1, 5)), "action": "submit"}
        # urlencoded, as htmx (and the load generator) send it; the test client would default to multipart
        response = client.post(f"/annotate/{slug}/submit/", urlencode(form),
                               content_type="application/x-www-form-urlencoded", headers={"HX-Request": "true"})
        return ASSIGNMENT_RE.search(response.content.decode()).group(1)

    for _ in range(5):  # warm caches: templates, URL resolver, the project's spec
        assignment = loop(assignment)
    wall, cpu = [], []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(loops):
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            assignment = loop(assignment)
            wall.append((time.perf_counter() - started_wall) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return {"loops": loops, "queries_per_loop": round(len(queries) / loops, 2),
            "cpu_ms_per_loop": round(sum(cpu) / loops, 2), "wall_p50_ms": round(percentile(wall, 50), 2),
            "wall_p95_ms": round(percentile(wall, 95), 2)}


def crowd_link(slug: str, phase: str):
    return lambda index: f"/p/{slug}/?PROLIFIC_PID=bench-{phase}-{index}&STUDY_ID=bench&SESSION_ID={phase}{index}"


def measure(server_url: str, slug: str, *, users: int, duration_s: float, open_users: int, open_rate: float,
            open_duration_s: float, phase: str) -> dict:
    closed = run_closed_loop(base_url=server_url, crowd_link=crowd_link(slug, f"c{phase}"), one_loop=make_one_loop(slug),
                             users=users, duration_s=duration_s, warmup_s=2.0)
    figures = {"closed": closed.figures()}
    if open_users:
        opened = run_open_loop(base_url=server_url, crowd_link=crowd_link(slug, f"o{phase}"),
                               one_loop=make_one_loop(slug), users=open_users, rate_per_s=open_rate,
                               duration_s=open_duration_s)
        figures["open"] = opened.figures()
    return figures



def in_process_targets(figures: dict) -> dict:
    """The per-loop budget of the in-process step: at most 4 SQL statements and 5 ms of this process's CPU."""
    return {"at_most_4_queries": figures["queries_per_loop"] <= 4, "cpu_under_5_ms": figures["cpu_ms_per_loop"] <= 5}

def _arguments(parser) -> None:
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--users", type=int, default=50, help="closed-loop annotators")
    parser.add_argument("--sweep", action="store_true", help="also compare worker counts and classes")
    parser.add_argument("--sizes", default="", help="comma-separated item counts (default by --quick)")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database behind for EXPLAIN")
    parser.add_argument("--profile-only", action="store_true", help="only the in-process step (no server)")


SWEEP = [(2, "sync", 1), (3, "sync", 1), (4, "sync", 1), (5, "sync", 1),
         (2, "gthread", 4), (3, "gthread", 4), (4, "gthread", 2), (5, "gthread", 2)]


def measure_all(args, *, database_url: str, seeded: dict, results: dict, durations: tuple[float, float]) -> None:
    """The server-side steps: the optional worker sweep, then closed and open loops per project size."""
    sizes = list(seeded)
    closed_s, open_s = durations
    if args.sweep:
        sweep_slug = seeded[sizes[-1] if len(sizes) < 3 else sizes[1]][0]
        results["sweep"] = []
        for workers, worker_class, threads in SWEEP:
            with gunicorn_server(database_url=database_url, workers=workers, worker_class=worker_class,
                                 threads=threads) as server:
                figures = measure(server.base_url, sweep_slug, users=args.users, duration_s=closed_s / 2,
                                  open_users=0, open_rate=0, open_duration_s=0,
                                  phase=f"s{workers}{worker_class[0]}{threads}")["closed"]
            row = {**server.describe(), "loops_per_s": figures["loops_per_s"], "p50_ms": figures["p50_ms"],
                   "p95_ms": figures["p95_ms"], "errors": figures["errors"]}
            print(json.dumps(row), file=sys.stderr, flush=True)
            results["sweep"].append(row)
    with gunicorn_server(database_url=database_url, workers=args.workers, worker_class=args.worker_class,
                         threads=args.threads) as server:
        results["server"] = server.describe()
        for name, (slug, _) in seeded.items():
            figures = measure(server.base_url, slug, users=args.users, duration_s=closed_s, open_users=500,
                              open_rate=50.0, open_duration_s=open_s, phase=name)
            print(name, json.dumps(figures), file=sys.stderr, flush=True)
            results[name] = figures


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _arguments)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (SIZES_QUICK if args.quick else SIZES_FULL)
    closed_s, open_s = (8.0, 10.0) if args.quick else (20.0, 30.0)
    database_url = bench_database_create()
    migrate(database_url=database_url)
    django_setup(database_url=database_url)
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.create_user(username="bench-owner", role="researcher")
    seeded = projects_seed(sizes=sizes, owner=owner)
    for name, (_, seconds) in seeded.items():
        print(f"seeded {name} items in {seconds:.1f} s", file=sys.stderr, flush=True)
    from django.db import connections

    results: dict = {"seed_s": {name: round(seconds, 1) for name, (_, seconds) in seeded.items()}}
    try:
        results["in_process"] = in_process(slug=seeded[_size_name(sizes[-1])][0], loops=100 if args.quick else 300)
        print(f"in process {json.dumps(results['in_process'])}", file=sys.stderr, flush=True)
        connections.close_all()
        if not args.profile_only:
            measure_all(args, database_url=database_url, seeded=seeded, results=results,
                        durations=(closed_s, open_s))
    finally:
        connections.close_all()
        if not args.keep_db:
            bench_database_drop()
    if not args.profile_only:
        names = list(seeded)
        smallest, largest = results[names[0]]["closed"]["loops_per_s"], results[names[-1]]["closed"]["loops_per_s"]
        results["throughput_ratio_smallest_to_largest"] = round(smallest / largest, 2) if largest else None
        results["sizes"] = names
        results["targets_met"] = {
            **in_process_targets(results["in_process"]),
            "closed_200_loops_per_s": all(results[n]["closed"]["loops_per_s"] >= 200 for n in names),
            "within_1_5x": bool(largest) and smallest / largest <= 1.5,
            "open_p95_under_50_ms": all(results[n]["open"]["p95_ms"] < 50 for n in names),
        }
    else:
        results["targets_met"] = in_process_targets(results["in_process"])
    print_result("annotation_loop", results)


if __name__ == "__main__":
    main()
