"""The export streams: three times the judgments must not need more memory.

Rows are fetched in chunks of 2000 (``QuerySet.iterator``), so both studies here span several
chunks and the peak is one chunk plus one item, whatever the total.
"""

import tracemalloc

import pytest

from studies.export import export_filters, export_write
from studies.models import Judgment, Participant, Prompt, System
from tests.factories import UserFactory


def add_judgments(study, count):
    systems = list(System.objects.filter(study=study).order_by("position"))
    prompts = list(Prompt.objects.filter(study=study))
    users = UserFactory.create_batch(20, role="participant")
    participants = [
        Participant.objects.create(study=study, user=user, index=i, seed=i, stage=Participant.Stage.DONE)
        for i, user in enumerate(users)
    ]
    Judgment.objects.bulk_create(
        [
            Judgment(
                study=study, participant=participants[k % 20], prompt=prompts[k % len(prompts)],
                system_a=systems[0], system_b=systems[1], choice="ab"[k % 3 == 0], left="ab"[k % 2],
                criterion="overall", seconds=5.0, rationale="x" * 200,
            )
            for k in range(count)
        ],
        batch_size=2000,
    )  # fmt: skip


def peak_bytes(study, path, kind):
    """Peak Python allocation during one export (tracemalloc: the database driver's C buffers are not seen)."""
    tracemalloc.start()
    export_write(study, path=path, format=kind, filters=export_filters(study, per_judgment=True))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["raw", "dpo"])
def test_export_memory_stays_flat_as_judgments_grow(make_study, tmp_path, kind):
    # many prompts keep each item (prompt x pair) small, as in a real study
    small, large = (
        make_study(slug="small-study", n_prompts=300),
        make_study(slug="large-study", n_prompts=300),
    )
    add_judgments(small, 6_000)
    add_judgments(large, 18_000)
    peak_bytes(small, tmp_path / "warm.jsonl", kind)  # first call pays for imports and query compilation
    small_peak = peak_bytes(small, tmp_path / "small.jsonl", kind)
    large_peak = peak_bytes(large, tmp_path / "large.jsonl", kind)
    assert (tmp_path / "large.jsonl").stat().st_size > 2.5 * (tmp_path / "small.jsonl").stat().st_size
    assert large_peak < 1.25 * small_peak, (small_peak, large_peak)
