"""Reads that decide who may see what. Views never filter projects by hand."""

from collections import Counter
from datetime import timedelta
from statistics import median

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from annotations.models import Assignment, ControlResult, Enrollment, Item, Label, Project
from webapp.people.ownership import owned_or_shared, owned_or_shared_get
from webapp.specs.cache import spec_cached


def projects_for_user(*, user) -> QuerySet[Project]:
    """Projects a researcher owns or collaborates on (superusers see all)."""
    return owned_or_shared(Project.objects.all(), user)


def project_get_for_user(*, user, slug: str) -> Project:
    """The project if `user` owns it or collaborates on it (``owned_or_shared_get``: Http404 for another
    researcher's, PermissionDenied for other roles)."""
    return owned_or_shared_get(Project.objects.all(), user, slug=slug)


def project_get_open(*, slug: str) -> Project:
    """A project that accepts annotators through its link."""
    project = Project.objects.filter(slug=slug, is_open=True).first()
    if project is None:
        raise PermissionDenied("this project is not open")
    return project


def project_task_total(*, project_id: int) -> int:
    """The project's task items (not controls), counted at most every minute (the cache is shared by the page and
    the API)."""
    key = f"project-task-total:{project_id}"
    total = cache.get(key)
    if total is None:
        total = Item.objects.filter(project_id=project_id, role=Item.Role.TASK).count()
        cache.set(key, total, 60)
    return total


def enrollment_reachable_goal(*, enrollment: Enrollment, current_is_task: bool) -> int:
    """What this annotator can still reach (the "of N" of the progress line): their labels, the item in hand, and
    the open task items they have not had. Counted at most every 15 seconds per enrollment, as the project's open
    tasks (at most every 15 seconds per project, one count for every annotator) less the open ones this annotator
    already had, so a cold count costs as much as their own assignments, not the project's size."""
    key = f"reachable-goal:{enrollment.id}"
    reachable = cache.get(key)
    if reachable is None:
        open_key = f"project-open-tasks:{enrollment.project_id}"
        open_tasks = cache.get(open_key)
        if open_tasks is None:
            open_tasks = Item.objects.filter(project_id=enrollment.project_id, role=Item.Role.TASK,
                                             is_full=False).count()
            cache.set(open_key, open_tasks, 15)
        had = Assignment.objects.filter(annotator_id=enrollment.annotator_id, item__project_id=enrollment.project_id,
                                        item__role=Item.Role.TASK, item__is_full=False).count()
        reachable = enrollment.labels_done + int(current_is_task) + max(0, open_tasks - had)
        cache.set(key, reachable, 15)
    return max(reachable, enrollment.labels_done + int(current_is_task))


def project_spec_cached(*, project_id: int, spec_hash: str) -> dict:
    """The spec of ``project_id`` at ``spec_hash``, decoded once per process (``webapp.specs.cache``)."""
    return spec_cached(Project, pk=project_id, spec_hash=spec_hash)


def enrollment_get(*, project: Project, user) -> Enrollment | None:
    return Enrollment.objects.filter(project=project, annotator=user).first()


def project_progress(*, project: Project) -> dict:
    """Headline figures for the dashboard: items complete, labels, active annotators, median seconds per item."""


    tasks = Item.objects.filter(project=project, role=Item.Role.TASK)
    totals = tasks.aggregate(items=Count("id"), complete=Count("id", filter=Q(labels_count__gte=F("needed"))))
    recent = timezone.now() - timedelta(minutes=15)
    active = (Assignment.objects.filter(project=project, reserved_at__gte=recent)
              .values("annotator_id").distinct().count())
    seconds = list(Label.objects.filter(project=project, seconds__isnull=False)
                   .order_by("-id").values_list("seconds", flat=True)[:5000])
    return {
        "items": totals["items"], "complete": totals["complete"],
        "labels": Label.objects.filter(project=project).count(),
        "active_annotators": active,
        "median_seconds": round(median(seconds), 1) if seconds else None,
        "enrolled": Enrollment.objects.filter(project=project).count(),
    }


def annotator_table(*, project: Project) -> list[dict]:
    """One row per annotator: labels, skips, median time, attention and gold results, stage."""

    times: dict[int, list[float]] = {}
    for annotator_id, seconds in Label.objects.filter(project=project).values_list("annotator_id", "seconds").iterator():
        if seconds is not None:
            times.setdefault(annotator_id, []).append(seconds)
    controls: dict[tuple[int, str], list[bool]] = {}
    for annotator_id, kind, passed in ControlResult.objects.filter(project=project).values_list("annotator_id", "kind", "passed"):
        controls.setdefault((annotator_id, kind), []).append(passed)
    rows = []
    for enrollment in Enrollment.objects.filter(project=project).select_related("annotator").order_by("-labels_done"):
        annotator_id = enrollment.annotator_id
        attention = controls.get((annotator_id, "attention"), [])
        gold = controls.get((annotator_id, "gold"), [])
        rows.append({
            "pseudonym": enrollment.annotator.pseudonym, "platform": enrollment.annotator.crowd_platform or "account",
            "stage": enrollment.get_stage_display(), "labels": enrollment.labels_done, "skipped": enrollment.skipped,
            "median_seconds": round(median(times[annotator_id]), 1) if times.get(annotator_id) else None,
            "attention": f"{sum(attention)}/{len(attention)}" if attention else "—",
            "gold": f"{sum(gold)}/{len(gold)}" if gold else "—",
        })
    return rows


def rating_distributions(*, project: Project, max_labels: int = 200_000) -> list[dict]:
    """Counts per scale point for each numeric or choice dimension (per-turn values pooled)."""

    dimensions = [d for d in project.dimensions if d["type"] != "text"]
    counters = {d["name"]: Counter() for d in dimensions}
    for values in Label.objects.filter(project=project).values_list("values", flat=True)[:max_labels].iterator():
        for name, counter in counters.items():
            value = values.get(name)
            if isinstance(value, dict):
                counter.update(str(v) for v in value.values())
            elif value is not None:
                counter[str(value)] += 1
    result = []
    for dimension in dimensions:
        counter = counters[dimension["name"]]
        if dimension["type"] in {"likert", "levels"}:
            keys = [str(v) for v in range(int(dimension["min"]), int(dimension["max"]) + 1, int(dimension["step"] or 1))]
        elif dimension["type"] == "choice":
            keys = [str(choice["value"]) for choice in dimension["choices"]]
        else:
            keys = sorted(counter, key=lambda k: float(k))
        total = sum(counter.values()) or 1
        peak = max(counter.values(), default=0) or 1
        result.append({"name": dimension["name"], "question": dimension["question"], "total": sum(counter.values()),
                       "bars": [{"key": key, "count": counter.get(key, 0), "share": round(100 * counter.get(key, 0) / total),
                                 "height": round(100 * counter.get(key, 0) / peak)} for key in keys]})
    return result
