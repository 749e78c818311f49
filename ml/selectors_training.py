"""Reads for trained model versions: the line of a version, and its held-out items where model and
humans disagree most."""

from __future__ import annotations

from ml.models import ModelVersion


def _trained_on(version: ModelVersion) -> str:
    settings = version.training_settings or {}
    if "recipe" not in settings:
        return ""
    target = settings.get("project") or settings.get("study")
    sizes = settings.get("split", {}).get("sizes", {})
    return (f"{settings['recipe']} on {target}, snapshot {settings['snapshot']['sha256'][:12]}, split "
            f"{sizes.get('train', 0)}/{sizes.get('validation', 0)}/{sizes.get('heldout', 0)}")


def version_lineage(*, version: ModelVersion) -> list[dict]:
    """The version first, then its parent, up to the first version not trained here."""
    line, seen = [], set()
    current: ModelVersion | None = version
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        settings = current.training_settings or {}
        line.append({"name": current.name, "kind": current.kind, "active": current.is_active, "base": current.base,
                     "parent": current.parent.name if current.parent_id else None,
                     "export": current.export, "trained_on": _trained_on(current),
                     "recipe": settings.get("recipe"), "split_sizes": settings.get("split", {}).get("sizes"),
                     "metrics": (current.metrics or {}).get("heldout"),
                     "parent_metrics": (current.metrics or {}).get("parent"),
                     "created_at": current.created_at.isoformat()})
        current = current.parent
    return line


def version_disagreements(*, version: ModelVersion, top: int = 10) -> list[dict]:
    """Held-out items with the largest gap between the model's value and the human mean, per dimension."""
    metrics = version.metrics or {}
    predictions = metrics.get("predictions") or {}
    means = metrics.get("heldout_means") or {}
    rows = []
    for dimension, values in predictions.items():
        for item, value in values.items():
            human = means.get(dimension, {}).get(item)
            if human is not None:
                rows.append({"item": item, "dimension": dimension, "model": value, "human": human,
                             "gap": abs(value - human)})
    return sorted(rows, key=lambda r: -r["gap"])[:top]
