"""The property of ``test_value_types_property`` through the annotators' own paths: values
submitted on the page (form text) and through the API (JSON numbers and strings) come back
unchanged from agreement inputs, aggregates and exports."""

from __future__ import annotations

import io
import itertools
import json

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from annotations.models import Label
from annotations.services import flow
from annotations.services.importing import items_import, project_load_spec
from annotations.spec import dimension_value_clean
from tests.annotations.test_value_types_property import _value_strategy, dimension_specs, values_survive

pytestmark = pytest.mark.django_db
_runs = itertools.count()


@st.composite
def submissions(draw):
    dims = [draw(dimension_specs(f"d{i}")) for i in range(draw(st.integers(1, 4)))]
    items = [f"i{k}" for k in range(draw(st.integers(1, 2)))]
    annotators = [f"a{k}" for k in range(draw(st.integers(1, 3)))]
    answers = {}
    for item, annotator in itertools.product(items, annotators):
        answers[(item, annotator)] = {d["name"]: draw(_value_strategy(d)) for d in dims}
    return dims, items, annotators, answers, draw(st.sampled_from(["page", "api"]))


def _project(dims, items):
    run = next(_runs)
    owner, _ = get_user_model().objects.get_or_create(username="paths-owner", defaults={"role": "researcher"})
    spec = {"slug": f"paths-{run}", "title": "Paths", "kind": "narrative", "overlap": 3, "dimensions": dims}
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=owner)
    items_import(project=project, path_or_file=io.StringIO(
        "".join(json.dumps({"id": item, "text": f"story {item}"}) + "\n" for item in items)), fmt="jsonl")
    return project, run


def _submit_api(project, user, answers_of):
    client = APIClient()
    client.force_authenticate(user)
    held = client.get(f"/api/annotate/{project.slug}/next/").json()
    while held.get("assignment"):
        item = held["item"]["data"]["text"].split()[-1]
        response = client.post(f"/api/annotate/{project.slug}/submit/",
                               {"assignment": held["assignment"], "values": answers_of(item)}, format="json")
        assert response.status_code == 200, response.content
        held = response.json().get("next") or {}


def _submit_page(project, user, answers_of):
    from django.test import Client

    client = Client()
    client.force_login(user)
    page = client.get(reverse("annotations:annotate", args=[project.slug]), follow=True)
    while page.context and page.context.get("assignment"):
        assignment = page.context["assignment"]
        form = {"assignment": assignment.id}
        form.update({f"d__{name}": str(value) for name, value in answers_of(assignment.item.external_id).items()})
        page = client.post(reverse("annotations:annotate_submit", args=[project.slug]), form, follow=True)
        assert page.status_code == 200


@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(generated=submissions())
def test_every_value_submitted_on_the_page_or_the_api_comes_back_unchanged(generated, tmp_path):
    dims, items, annotators, answers, route = generated
    project, run = _project(dims, items)
    specs = {d["name"]: d for d in project.spec["dimensions"]}
    user_model = get_user_model()
    pseudonym = {}
    for annotator in annotators:
        user = user_model.objects.create(username=f"paths-{run}-{annotator}", role="annotator")
        pseudonym[user.pseudonym] = annotator
        flow.enrollment_open(project=project, user=user)
        submit = _submit_api if route == "api" else _submit_page
        submit(project, user, lambda item, who=annotator: answers[(item, who)])
    assert Label.objects.filter(project=project).count() == len(answers)
    # a text answer is stored as typed, trimmed (the page and API trim it)
    stored = {(item, who, name): dimension_value_clean(specs[name], value) if specs[name]["type"] != "text"
              else str(value).strip()
              for (item, who), values in answers.items() for name, value in values.items()}
    values_survive(project, stored, pseudonym, tmp_path)
