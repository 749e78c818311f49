"""Registry writes: register a model version (checked loadable first), promote it, register the defaults."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ml.core.errors import ModelLoadError
from ml.core.registry_checks import check_loadable
from ml.models import ModelKind, ModelVersion
from webapp.people.roles import can_manage_models


class RegistryError(ValueError):
    """A model version cannot be registered or promoted as asked; the message says why in words, after the
    ``field`` at fault when there is one ("path: ...")."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@transaction.atomic
def model_version_register(
    *,
    name: str,
    kind: str,
    path: str | Path,
    registered_by=None,
    base: str = "",
    parent: ModelVersion | None = None,
    export: str = "",
    training_settings: dict | None = None,
    metrics: dict | None = None,
    activate: bool = False,
    by=None,
) -> ModelVersion:
    """Registers a new version after ``check_loadable(path, kind)`` (files only, no weights loaded).

    Raises ``RegistryError`` when the name is taken, the kind unknown, or the folder is not a
    loadable model of that kind (the message is the check's reason). ``activate`` promotes it.

    ``by``: the person asking through the web (page or API). They must be a model manager (PermissionDenied
    otherwise), and ``path`` must be a folder inside the model store (``RESONANCE_MODEL_STORE``, given relative
    to it or absolute): errors then name paths relative to the store only. Commands and jobs on the hosts pass
    no ``by``.
    """
    if by is not None:
        _require_model_manager(by)
        path, shown = _in_model_store(path)
    else:
        shown = None
    name = name.strip()
    if not name:
        raise RegistryError("is required", field="name")
    if kind not in ModelKind.values:
        raise RegistryError(f"{kind!r} is not one of {', '.join(ModelKind.values)}", field="kind")
    if ModelVersion.objects.filter(name=name).exists():
        raise RegistryError(f"a model version called {name!r} is already registered", field="name")
    folder = Path(path).expanduser()
    try:
        check_loadable(folder, kind)
    except ModelLoadError as exc:
        reason = str(exc) if shown is None else str(exc).replace(str(folder), shown)
        raise RegistryError(f"not a loadable {kind}: {reason}", field="path") from exc
    version = ModelVersion.objects.create(
        name=name, kind=kind, path=str(folder.resolve()), base=base, parent=parent, export=export,
        training_settings=training_settings or {}, metrics=metrics or {}, registered_by=registered_by,
    )
    if activate:
        version = model_version_promote(version=version, by=by)
    return version


def _require_model_manager(user) -> None:
    if not can_manage_models(user):
        raise PermissionDenied("registering and promoting models is for model managers; ask an administrator")


def _in_model_store(path: str | Path) -> tuple[Path, str]:
    """The folder inside the model store that ``path`` names, and how to show it (relative to the store).
    RegistryError, naming no other path, when it points outside (links included)."""
    store = Path(settings.RESONANCE_MODEL_STORE).expanduser().resolve()
    given = Path(str(path).strip()).expanduser()
    folder = (given if given.is_absolute() else store / given).resolve()
    if folder != store and store not in folder.parents:
        raise RegistryError("must be a folder inside the model store (give it relative to the store, "
                            "e.g. 'reward-models/rm-3')", field="path")
    shown = str(folder.relative_to(store)) or "."
    return folder, f"model store/{shown}"


@transaction.atomic
def model_version_promote(*, version: ModelVersion, by=None) -> ModelVersion:
    """Makes ``version`` the active one of its kind (the others of that kind stop being active).

    Locks every version of the kind, so two promotions at once end with exactly one active. ``by``: the person
    asking through the web, who must be a model manager (PermissionDenied otherwise).
    """
    if by is not None:
        _require_model_manager(by)
    list(ModelVersion.objects.select_for_update().filter(kind=version.kind).values_list("pk", flat=True))
    ModelVersion.objects.filter(kind=version.kind, is_active=True).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True, promoted_at=timezone.now())
    version.refresh_from_db()
    return version


def model_version_active(*, kind: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


# name, kind, which default folder, promote when no version of the kind is active yet
DEFAULT_MODELS = (
    ("smollm2-135m-instruct", ModelKind.GENERATOR, "generator", True),
    ("smollm2-135m-instruct-judge", ModelKind.JUDGE, "generator", True),
    ("all-minilm-l6-v2", ModelKind.SIMILARITY, "encoder", True),
    # An encoder with an untrained head: a base to train reward models from, never promoted by default.
    ("all-minilm-l6-v2-scorer-base", ModelKind.SCORER, "encoder", False),
)


def model_defaults_register(*, registered_by=None) -> list[ModelVersion]:
    """Registers the offline defaults (SmolLM2-135M-Instruct as generator and judge, MiniLM as similarity
    encoder and scorer base), converting the generator on first use. Idempotent by name: a version
    already registered is kept as it is. A kind with no active version gets its default promoted."""
    from ml import defaults

    folders = {"generator": defaults.default_generator_path, "encoder": defaults.default_encoder_path}
    paths = {}
    versions = []
    for name, kind, source, promote in DEFAULT_MODELS:
        existing = ModelVersion.objects.filter(name=name).first()
        if existing is None:
            if source not in paths:
                try:
                    paths[source] = folders[source]()
                except ModelLoadError as exc:
                    raise RegistryError(f"default {source}: {exc}") from exc
            base = "HuggingFaceTB/SmolLM2-135M-Instruct" if source == "generator" else "sentence-transformers/all-MiniLM-L6-v2"
            existing = model_version_register(name=name, kind=kind, path=paths[source], registered_by=registered_by,
                                              base=base, training_settings={"source": "offline default"})
        if promote and model_version_active(kind=kind) is None:
            existing = model_version_promote(version=existing)
        versions.append(existing)
    return versions
