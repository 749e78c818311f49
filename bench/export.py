"""Import and export throughput on PostgreSQL.

Creates a throwaway database ``resonance_bench_export`` on the server of ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/test), migrates it, then measures

* ``import_items_s``: ``items_import`` of 100k narrative items from a JSONL file (--quick: 10k);
* ``export_s`` / ``export_peak_rss_mb``: ``labels_export`` of 1M labels to JSONL (--quick: 50k),
  run in a fresh child process so that its peak memory is the export's own (Django included),
  plus the rate in labels per second. Targets: import of 100k items < 60 s, export of 1M labels
  < 60 s with < 300 MB peak;
* ``majority_export_s`` / ``majority_peak_rss_mb``: the aggregated (``majority``) export of the same
  labels, one row per item and dimension with the item's text, also in a fresh child process.

Ends with one JSON line (``bench/_common.print_result``). ``--keep`` leaves the database behind.

    python bench/export.py --quick
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ensure_repo_on_path, parse_args, peak_rss_mb, print_result  # noqa: E402

ensure_repo_on_path()

# Its own name: other benchmarks recreate `resonance_bench` and would drop this one mid-run.
BENCH_DB = "resonance_bench_export"
SPEC = """
slug: bench-export
title: Export benchmark
kind: narrative
overlap: 10
dimensions:
  - {name: empathy, question: "How much do you empathize?", type: likert, min: 1, max: 4}
  - {name: closeness, question: "How close are you?", type: slider}
  - {name: feeling, question: "Main feeling?", type: choice, choices: [sad, happy, angry, afraid]}
  - {name: reasons, question: "Why?", type: text}
export: {allow_attributes: true}
"""


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        raise SystemExit("bench/export.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DB}", parts.query, parts.fragment))


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.test")
    import django

    django.setup()


def write_items(path: Path, count: int) -> None:
    words = "loss hope fear joy anger moving school family friend work illness home".split()
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            text = " ".join(rng.choices(words, k=60))
            handle.write(json.dumps({"id": f"s{i}", "text": text, "source": "bench", "index": i}) + "\n")


def create_annotators(count: int) -> list[int]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    countries, genders = ["US", "IN", "GB", "NG", "BR"], ["woman", "man", "non-binary"]
    users = [user_model(username=f"bench-{i}", role=user_model.Role.ANNOTATOR,
                        crowd_platform=user_model.Platform.IMPORTED, crowd_id=f"bench-{i}",
                        attributes={"country": countries[i % 5], "gender": genders[i % 3], "age_band": "25-34"})
             for i in range(count)]
    return [u.pk for u in user_model.objects.bulk_create(users, batch_size=2000)]


def insert_labels(project, annotator_ids: list[int], total: int, per_item: int) -> int:
    """COPYs ``total`` labels, ``per_item`` distinct annotators per item (fast setup, not measured)."""
    from django.db import connection
    from django.utils import timezone

    item_ids = list(project.items.order_by("id").values_list("id", flat=True)[: (total + per_item - 1) // per_item])
    rng = random.Random(11)
    now = timezone.now()
    feelings = ["sad", "happy", "angry", "afraid"]
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY annotations_label (project_id, item_id, annotator_id, values, seconds, source, created_at) FROM STDIN"
        ) as copy:
            for index, item_id in enumerate(item_ids):
                for k in range(per_item):
                    if written >= total:
                        break
                    annotator = annotator_ids[(index * per_item + k) % len(annotator_ids)]
                    values = {"empathy": rng.randint(1, 4), "closeness": float(rng.randint(0, 100)),
                              "feeling": rng.choice(feelings)}
                    if rng.random() < 0.3:
                        values["reasons"] = "It reminded me of my own move abroad."
                    copy.write_row((project.id, item_id, annotator, json.dumps(values), rng.uniform(3, 40),
                                    "import", now))
                    written += 1
    return written


def export_child(out: str, aggregate: str = "none") -> None:
    """Runs in a fresh process: one export, then its own figures as JSON on stdout."""
    from annotations.models import Project
    from annotations.services.exporting import labels_export

    project = Project.objects.get(slug="bench-export")
    baseline = peak_rss_mb()
    started = time.perf_counter()
    manifest = labels_export(project=project, out=out, fmt="jsonl", aggregate=aggregate)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": manifest["rows"], "baseline_rss_mb": baseline,
                      "peak_rss_mb": peak_rss_mb(), "bytes": os.path.getsize(out)}))


def main() -> None:
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--export-child":
        django_setup(bench_database_url())
        export_child(*sys.argv[2:])
        return
    args = parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--keep", action="store_true"))
    n_items, n_labels = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
    url = bench_database_url()
    recreate_database(url)
    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotations.services.importing import items_import, project_load_spec

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    owner = user_model.objects.create(username="bench-owner", role=user_model.Role.RESEARCHER)
    project = project_load_spec(spec_text=SPEC, owner=owner)
    with tempfile.TemporaryDirectory() as tmp:
        items_path = Path(tmp) / "items.jsonl"
        write_items(items_path, n_items)
        started = time.perf_counter()
        imported = items_import(project=project, path_or_file=items_path)
        import_seconds = time.perf_counter() - started
        annotators = create_annotators(1000)
        labels = insert_labels(project, annotators, n_labels, per_item=10)
        out = Path(tmp) / "labels.jsonl"
        env = {**os.environ, "DATABASE_URL": url}
        child = subprocess.run([sys.executable, __file__, "--export-child", str(out)], env=env, check=True,
                               capture_output=True, text=True)
        export = json.loads(child.stdout.strip().splitlines()[-1])
        child = subprocess.run([sys.executable, __file__, "--export-child", str(out), "majority"], env=env,
                               check=True, capture_output=True, text=True)
        majority = json.loads(child.stdout.strip().splitlines()[-1])
    from django.db import connections

    connections.close_all()
    if not args.keep:
        recreate_database(url, drop_only=True)
    print_result("export", {
        "quick": args.quick,
        "items_imported": imported,
        "import_items_s": round(import_seconds, 2),
        "import_items_per_s": round(imported / import_seconds),
        "labels": labels,
        "export_rows": export["rows"],
        "export_s": round(export["seconds"], 2),
        "export_labels_per_s": round(export["rows"] / export["seconds"]),
        "export_mb": round(export["bytes"] / 2**20, 1),
        "export_baseline_rss_mb": round(export["baseline_rss_mb"], 1),
        "export_peak_rss_mb": round(export["peak_rss_mb"], 1),
        "majority_rows": majority["rows"],
        "majority_export_s": round(majority["seconds"], 2),
        "majority_mb": round(majority["bytes"] / 2**20, 1),
        "majority_peak_rss_mb": round(majority["peak_rss_mb"], 1),
    })


if __name__ == "__main__":
    main()
