"""The spec editor's text: a stored (normalised) spec written back as YAML that loads to the same spec.

The normaliser fills every default in (an empty consent, `choices: []` on a likert survey question, `min: null`
on a number); written out as they are, several of those fail validation when read again. Empty values are
left out instead, so the editor shows what a researcher would write and saving it changes nothing."""

import yaml

from annotations.spec import SpecError, spec_load
from webapp.specs import DEFAULT_LANGUAGE


def _pruned(value):
    if isinstance(value, dict):
        kept = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def spec_editable_text(spec: dict) -> str:
    """YAML for the editor. Raises SpecError if even the pruned text would not load to the same spec (a spec
    stored by an older version), naming the first part that differs, so the editor can say so."""
    pruned = _pruned(spec)
    checks = pruned.get("attention_checks") or {}
    # a check item is written as an item is imported (its text fields beside id and expect), not as stored
    checks["items"] = [{"id": item["id"], **(item.get("data") or {}), "expect": item["expect"]}
                       for item in checks.get("items") or []]
    if not checks["items"]:
        checks.pop("items")
    consent = spec.get("consent") or {}
    if not consent.get("text"):
        pruned.pop("consent", None)  # no consent page: leaving it out is how a spec says so
    text = yaml.safe_dump(pruned, sort_keys=False, allow_unicode=True)
    again = spec_load(text)
    spec = {**spec, "language": spec.get("language", DEFAULT_LANGUAGE)}  # stored before specs named one: English
    if again != spec:
        differing = next((key for key in spec if again.get(key) != spec.get(key)), "spec")
        raise SpecError(differing, "the stored spec does not read back unchanged; edit it with care")
    return text
