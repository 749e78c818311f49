"""Demo content for `manage.py demo`: accounts, one project per preset with its demo items, a blinded study.

Every function is idempotent: running the demo twice leaves the same accounts, projects, items and study.
The texts in this folder were written for Resonance (see README.md here); nothing is copied from a dataset.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from webapp.people.models import User

DEMO_DIR = Path(__file__).resolve().parent
PRESETS_DIR = Path(settings.BASE_DIR) / "annotations" / "presets"
ITEMS_BY_KIND = {
    "narrative": "narratives.jsonl",
    "pair": "pairs.jsonl",
    "dialogue": "dialogues.jsonl",
    "response": "responses.jsonl",
}
# Demo-only specs that live beside the items (the presets have no project of single narratives).
EXTRA_SPECS = ("narrative-feelings.yaml",)
STUDY_SPEC = DEMO_DIR / "study.yaml"
STUDY_RESPONSES = DEMO_DIR / "study_responses.jsonl"
SLUG_PREFIX = "demo-"
RESEARCHERS = ("researcher", "collaborator")
ANNOTATORS = ("annotator1", "annotator2", "annotator3")


@dataclass(frozen=True)
class DemoProject:
    slug: str
    title: str
    kind: str
    items: int
    imported_now: int


def demo_password() -> str:
    """The demo accounts' password: `RESONANCE_DEMO_PASSWORD`, else the one kept in `VAR_DIR/demo-password`,
    else a new random one written there (owner-only), so every run prints the same password."""
    configured = os.environ.get("RESONANCE_DEMO_PASSWORD", "").strip()
    if configured:
        return configured
    stored = Path(settings.VAR_DIR) / "demo-password"
    if stored.is_file() and stored.read_text(encoding="utf-8").strip():
        return stored.read_text(encoding="utf-8").strip()
    stored.parent.mkdir(parents=True, exist_ok=True)
    password = "demo-" + secrets.token_urlsafe(9)
    stored.write_text(password + "\n", encoding="utf-8")
    stored.chmod(0o600)
    return password


@transaction.atomic
def demo_accounts_ensure(*, password: str) -> dict[str, object]:
    """Creates (or resets the password of) the researchers and lab annotators; returns them by username."""
    users = get_user_model().objects
    accounts = {}
    for username in (*RESEARCHERS, *ANNOTATORS):
        role = User.Role.RESEARCHER if username in RESEARCHERS else User.Role.ANNOTATOR
        user, _ = users.get_or_create(username=username, defaults={"role": role})
        if user.role != role:
            user.role = role
        user.set_password(password)
        user.save()
        accounts[username] = user
    return accounts


def demo_spec_text(preset_path: Path) -> str:
    """A preset turned into a demo spec: `demo-` slug (so researchers can still load the preset itself) and a
    completion code, so a crowd link ends the way a Prolific study would."""
    spec = yaml.safe_load(preset_path.read_text(encoding="utf-8"))
    if not str(spec["slug"]).startswith(SLUG_PREFIX):
        spec["slug"] = SLUG_PREFIX + spec["slug"]
    crowd = dict(spec.get("crowd") or {})
    crowd.setdefault("completion_code", "DEMO-" + spec["slug"].removeprefix(SLUG_PREFIX).upper()[:20])
    spec["crowd"] = crowd
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def demo_spec_paths() -> list[Path]:
    return sorted(PRESETS_DIR.glob("*.yaml")) + [DEMO_DIR / name for name in EXTRA_SPECS]


def demo_projects_load(*, owner, collaborator=None) -> list[DemoProject]:
    """Loads one project per preset (plus the demo-only specs) and imports the demo items of its kind once.

    A project that already holds task items is left as it is, so labels collected in the demo survive."""
    from annotations.models import Item
    from annotations.services.importing import items_import, project_load_spec
    from annotations.services.projects import project_share

    loaded = []
    for path in demo_spec_paths():
        project = project_load_spec(spec_text=demo_spec_text(path), owner=owner)
        imported = 0
        if not Item.objects.filter(project=project, role=Item.Role.TASK).exists():
            imported = items_import(project=project, path_or_file=DEMO_DIR / ITEMS_BY_KIND[project.kind])
        if collaborator is not None:
            project_share(project=project, username=collaborator.username, by=owner)
        total = Item.objects.filter(project=project, role=Item.Role.TASK).count()
        loaded.append(DemoProject(project.slug, project.title, project.kind, total, imported))
    return loaded


def demo_study_load(*, owner):
    """Loads the demo blinded study, imports both systems' responses and opens it. Returns the study, or None
    when the studies app has no services (an older tree)."""
    try:
        from studies.services import responses_import_file, responses_missing, study_load, study_open
        from studies.spec import spec_load_file
    except ImportError:
        return None
    study = study_load(spec=spec_load_file(STUDY_SPEC), owner=owner)
    if not study.is_open:
        responses_import_file(study=study, path=STUDY_RESPONSES)
        if not responses_missing(study=study):
            study = study_open(study=study)
    return study


def demo_models_register() -> list[str]:
    """Registers the offline default models (idempotent; converts the generator on first use) and returns one
    line per model version. Empty when the ml app has no registry service (an older tree)."""
    try:
        from ml.services import RegistryError, model_defaults_register
    except ImportError:
        return []
    try:
        versions = model_defaults_register()
    except RegistryError as exc:  # the demo still runs without models; say why they are missing
        return [f"not registered: {exc}"]
    return [f"{version.name} ({version.kind}, {'active' if version.is_active else 'inactive'})" for version in versions]
