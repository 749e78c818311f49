"""The jobs API's fields for ml's kinds (``POST /api/jobs/`` with ``kind`` generation, scoring or
train), checked into the arguments of ``model_job_launch`` and ``train_job_launch``; ``JobError``
names the field at fault."""

from __future__ import annotations

import re

from ml.core.training.config import RECIPES
from ml.models import ModelVersion
from webapp.jobs.errors import JobError

HOLDOUT_GROUP = re.compile(r"^[\w-]+=.+$")


def model_version_field(value, *, field: str = "model_version", required: bool = True) -> ModelVersion | None:
    """The model version whose id is ``value``; None when not given and not ``required``."""
    if value in (None, ""):
        if required:
            raise JobError("this field is required", field=field)
        return None
    try:
        version = ModelVersion.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        raise JobError(f"{value!r} is not a model version id", field=field) from None
    if version is None:
        raise JobError(f"no model version {value}", field=field)
    return version


def train_launch_from_data(*, target, created_by, data: dict):
    """A training launch from the API's fields: recipe, base (a version id, default per recipe),
    holdout_group (``ATTR=VALUE``) and params (hyperparameter overrides)."""
    from annotations.models import Project
    from ml.services.training import train_job_launch

    recipe = data.get("recipe")
    if recipe not in RECIPES:
        raise JobError(f"must be one of {', '.join(RECIPES)}", field="recipe")
    group = data.get("holdout_group") or None
    if group is not None and not (isinstance(group, str) and HOLDOUT_GROUP.match(group)):
        raise JobError("write ATTR=VALUE", field="holdout_group")
    overrides = data.get("params") or {}
    if not isinstance(overrides, dict):
        raise JobError("must be an object of hyperparameter overrides", field="params")
    project = target if isinstance(target, Project) else None
    return train_job_launch(recipe=recipe, created_by=created_by, project=project,
                            study=None if project is not None else target,
                            base=model_version_field(data.get("base"), field="base", required=False),
                            holdout_group=tuple(group.split("=", 1)) if group else None, overrides=overrides)
