"""One participant's whole way through a study, in process: SQL statements and CPU per request.

    python bench/participant_walk.py            # 40 participants
    python bench/participant_walk.py --quick    # 15 participants

Each participant opens its Prolific link (the join and the redirect to its page), agrees on the consent page,
starts (the POST that plans its slots and reserves its first pairs), reads its first pair page, and judges its whole
plan over htmx (the usual turns, and every ``pairs_reserved_at_once``-th one that refills). Through Django's test
client (the full middleware stack, no server), each participant with its own cookie jar; the figures are medians
over the participants after the first (warm caches). Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust);
uses a throwaway database ``resonance_bench_<pid>``. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_args, print_result  # noqa: E402
from _server import bench_database_create, bench_database_drop, django_setup, migrate  # noqa: E402
from soak_study import CRITERIA, FORM_RE, JUDGE_RE, PAIRS_EACH, SLOT_RE  # noqa: E402 - the pages read alike

SLUG = "walk-study"


def study_seed(*, participants: int) -> None:
    """An open three-system study with an attention check every third pair and room for every plan."""
    from django.contrib.auth import get_user_model

    from studies import services
    from studies.spec import spec_parse

    owner = get_user_model().objects.create_user(username="walk-owner", role="researcher")
    prompts = participants * PAIRS_EACH + PAIRS_EACH
    spec = spec_parse({
        "slug": SLUG, "title": "Walk study", "participant_title": "Compare two replies",
        "consent": {"text": "You will read short conversations and compare two replies."},
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": f"({i}) I lost my job today."}]}
                    for i in range(prompts)],
        "systems": [{"name": "one"}, {"name": "two"}, {"name": "three"}], "criteria": CRITERIA,
        "pairs_per_participant": PAIRS_EACH, "judgments_per_pair": 3,
        "attention_checks": {"every": 3, "warn_after": 0, "end_after": 0, "items": [
            {"id": "c1", "context": [{"speaker": "seeker", "text": "I feel alone."}],
             "good": "That sounds hard; I am here.", "bad": "Whatever."}]},
    })
    study = services.study_load(spec=spec, owner=owner)
    lines = [json.dumps({"prompt_id": p["id"], "system": s["name"], "response": f"I am sorry. ({s['name']} {i})"})
             for i, p in enumerate(spec["prompts"]) for s in spec["systems"]]
    services.responses_import(study=study, lines=lines, source="walk")
    services.study_open(study=study)


def walk(client, index: int) -> dict[str, list[tuple[int, float]]]:
    """One participant's requests: (statements, CPU ms) per kind of request. ``client``: a test client whose
    handler (its middleware loaded once, as in a server process) every participant shares, each with fresh
    cookies."""
    from http.cookies import SimpleCookie

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.cookies = SimpleCookie()
    steps: dict[str, list[tuple[int, float]]] = {}

    def step(kind: str, send, *args, **kwargs):
        started = time.process_time()
        with CaptureQueriesContext(connection) as queries:
            response = send(*args, **kwargs)
        steps.setdefault(kind, []).append((len(queries), (time.process_time() - started) * 1000))
        return response

    link = f"/s/{SLUG}/?PROLIFIC_PID=walk{index}&STUDY_ID=walk&SESSION_ID=s{index}"
    page = step("join", client.get, link, follow=True).content.decode()
    csrf = lambda: client.cookies["csrftoken"].value  # noqa: E731
    while (form := FORM_RE.search(page)) is not None:
        url, kind = form.groups()
        data = {"csrfmiddlewaretoken": csrf(), **({"agree": "yes"} if kind == "consent" else {})}
        step(kind, client.post, url, data)
        page = step(f"page_after_{kind}", client.get, url.rsplit("/", 2)[0] + "/").content.decode()
    judged = 0
    while (slot := SLOT_RE.search(page)) is not None:
        action = JUDGE_RE.search(page).group(1)
        form = {"csrfmiddlewaretoken": csrf(), "slot": slot.group(1), "choice_overall": "1", "choice_reception": "2"}
        response = step("turn", client.post, action, form, headers={"HX-Request": "true"})
        judged += 1
        if response.headers.get("HX-Redirect"):
            break
        page = response.content.decode()
    steps["judged"] = [(judged, 0.0)]
    return steps


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    participants = 15 if args.quick else 40
    database_url = bench_database_create()
    try:
        migrate(database_url=database_url)
        django_setup(database_url=database_url)
        study_seed(participants=participants)
        from django.test import Client

        client = Client(SERVER_NAME="127.0.0.1")  # the bench settings allow loopback hosts only
        walks = [walk(client, index) for index in range(participants)]
    finally:
        from django.db import connections

        connections.close_all()
        bench_database_drop()
    figures: dict = {"participants": participants}
    for kind in walks[0]:
        if kind == "judged":
            continue
        rows = [row for one in walks[1:] for row in one.get(kind, [])]
        figures[kind] = {"statements_median": statistics.median(q for q, _ in rows),
                         "statements_max": max(q for q, _ in rows),
                         "cpu_ms_median": round(statistics.median(c for _, c in rows), 2)}
    turns = [row for one in walks[1:] for row in one["turn"]]
    figures["turn"]["statements_by_turn"] = sorted({q for q, _ in turns})
    figures["judged_each"] = sorted({one["judged"][0][0] for one in walks})
    print_result("participant_walk", figures)


if __name__ == "__main__":
    main()
