"""Forms of the dashboard pages: they validate input; the services do the writes."""

from __future__ import annotations

from django import forms

from ml.core.scores import COMBINE_RULES, PERM_DIMENSIONS
from ml.models import MlJobKind, ModelKind, ModelVersion


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ModelKind.choices)
    path = forms.CharField(max_length=1000, help_text="the model folder on the workers (absolute path)")
    base = forms.CharField(max_length=200, required=False)
    parent = forms.ModelChoiceField(queryset=ModelVersion.objects.all(), required=False)
    export = forms.CharField(max_length=500, required=False, label="Trained from export")
    activate = forms.BooleanField(required=False, label="Make it the active version of its kind")


class VersionChoiceField(forms.ModelChoiceField):
    """Each version named with its kind, so a generator is not picked for scoring by mistake."""

    def label_from_instance(self, obj: ModelVersion) -> str:
        return f"{obj.name} ({obj.get_kind_display().lower()}{', active' if obj.is_active else ''})"


class LaunchForm(forms.Form):
    """A generation or scoring job on the study or project named in the URL."""

    # exports, reports and training are launched from their own pages and commands, not from this form
    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in (MlJobKind.GENERATION, MlJobKind.SCORING)])
    model_version = VersionChoiceField(queryset=ModelVersion.objects.order_by("kind", "name"))  # the service checks the kind
    system = forms.CharField(max_length=100, required=False,
                             help_text="generation: the system to fill; scoring: only this system (empty: all)")
    batch_size = forms.IntegerField(min_value=1, max_value=1024, initial=32)
    max_new_tokens = forms.IntegerField(min_value=1, max_value=4096, initial=64, required=False)
    temperature = forms.FloatField(min_value=0, max_value=5, initial=0.7, required=False)
    seed = forms.IntegerField(min_value=0, initial=0, required=False)
    combine = forms.ChoiceField(choices=[(rule, rule) for rule in COMBINE_RULES], initial="mean", required=False)
    judge_mode = forms.ChoiceField(
        choices=[("expected", "expected score from the judge's probabilities over 1–5"),
                 ("parsed", "parse the judge's generated answer")],
        initial="expected", required=False, help_text="judge models only")
    rubrics = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="judge: one 'perspective: rubric' per line, replacing that perspective's built-in rubric")

    def clean_rubrics(self) -> dict:
        rubrics = {}
        for number, line in enumerate((self.cleaned_data.get("rubrics") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, text = line.partition(":")
            if not sep or not name.strip() or not text.strip():
                raise forms.ValidationError(f"line {number}: write 'perspective: rubric'")
            rubrics[name.strip()] = text.strip()
        return rubrics

    def params(self) -> dict:
        data = self.cleaned_data
        if data["kind"] == MlJobKind.GENERATION:
            names = ("batch_size", "max_new_tokens", "temperature", "seed")
        else:
            names = ("batch_size", "combine")
        params = {name: data[name] for name in names if data.get(name) not in (None, "")}
        if data["kind"] == MlJobKind.SCORING and data["model_version"].kind == ModelKind.JUDGE:
            if data.get("judge_mode"):
                params["judge_mode"] = data["judge_mode"]
            if data.get("rubrics"):
                params["rubrics"] = data["rubrics"]
                # a rubric for a perspective beyond the four PERM ones adds it to the job
                params["perspectives"] = list(dict.fromkeys([*PERM_DIMENSIONS, *data["rubrics"]]))
        return params
