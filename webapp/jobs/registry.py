"""The kinds of job and the kinds of target the apps register, from their AppConfig.ready().

A kind says how a job of it is launched (``launch``: cleans the request's fields into params and
queues the job, raising ``JobError`` naming the field), where it runs (``queue``), what runs it
(``run(job, on_batch) -> result``), which targets it takes, the file it leaves for download and what
its page shows beside the progress. A target says who may see it, so the job pages show a job to
whoever may see its target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

from webapp.jobs.models import Job, Queue

# run(job, on_batch) -> the result dict; on_batch(done, total) -> False when the job must stop
Runner = Callable[[Job, Callable[[int, int], bool]], dict]


@dataclass(frozen=True)
class ResultFile:
    """The file a succeeded job leaves in the default storage: ``path(job)`` names it; ``name`` is what
    it is (``export``, ``report``), used in the page's wording and test ids."""

    name: str
    path: Callable[[Job], str]
    # what the file holds, in a line beside its link on the job page (rendered with ``job``)
    summary_template: str = ""


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    queue: str
    run: Runner
    # launch(*, target, created_by, data) -> Job; ``data`` is the launch's fields besides kind and target
    launch: Callable[..., Job]
    targets: tuple[type[Model], ...] = ()
    file: ResultFile | None = None
    # describe(job) -> {"with": what it runs with, "note": what else names its target}, for the job pages
    describe: Callable[[Job], dict] | None = None
    # shown inside the live progress box (rendered with ``job``), e.g. a training's loss so far
    progress_template: str = ""
    # detail(job) -> extra context for the job page, rendered by ``detail_template`` below its settings
    detail: Callable[[Job], dict] | None = None
    detail_template: str = ""
    # after(job): called once the job succeeded (outside its transaction), e.g. to open what it filled
    after: Callable[[Job], None] | None = None
    # ended(job): called once the job has ended, whatever the outcome (succeeded, failed, cancelled, also when
    # cancelled before it ran), after that is committed, e.g. to remove the input it was given
    ended: Callable[[Job], None] | None = None


@dataclass(frozen=True)
class Target:
    """A model whose rows jobs run on, named ``name`` in launches (``{"project": slug}``)."""

    name: str
    model: type[Model]
    # visible(*, user) -> the rows ``user`` may see; get_for_user(*, user, key) -> the row, or raises
    visible: Callable[..., QuerySet]
    get_for_user: Callable[..., Model]
    # the page that shows a row (``url(row) -> path``), linked from the job pages
    url: Callable[[Model], str] | None = None


_KINDS: dict[str, JobKind] = {}
_TARGETS: dict[str, Target] = {}


def job_kind_register(kind: JobKind) -> JobKind:
    """Registers ``kind``; registering the same name twice is a programming error (two apps own it)."""
    if kind.queue not in Queue.values:
        raise ValueError(f"job kind {kind.name}: unknown queue {kind.queue!r}")
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"job kind {kind.name} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def job_kind_unregister(name: str) -> None:
    """Forgets a kind (tests that register their own kinds clean up with this)."""
    _KINDS.pop(name, None)


def job_kind(name: str) -> JobKind:
    """The registered kind; ``LookupError`` when nobody registered it."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered") from None


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def target_register(target: Target) -> Target:
    _TARGETS[target.name] = target
    return target


def targets() -> dict[str, Target]:
    return dict(_TARGETS)


def target_for_model(model: type[Model]) -> Target | None:
    for target in _TARGETS.values():
        if target.model is model or isinstance(model, type) and issubclass(model, target.model):
            return target
    return None
