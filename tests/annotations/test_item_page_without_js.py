"""Without JavaScript a slider is answered by its number box, and a rejected item comes back as a full page with
the error in plain words beside its question and the answers already given kept."""

import pytest
from django.urls import reverse

from annotations.models import Enrollment, Label
from annotations.spec import spec_hash, spec_normalize
from tests.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def slider_project(researcher):
    spec = spec_normalize({
        "slug": "sliders", "title": "Sliders", "kind": "narrative", "overlap": 1, "instructions": "Rate.",
        "dimensions": [{"name": "warmth", "question": "How warm is it?", "type": "slider"},
                       {"name": "empathy", "question": "Empathy?", "type": "likert", "min": 1, "max": 4}],
    })
    project = ProjectFactory(owner=researcher, slug="sliders", overlap=1, spec=spec, spec_hash=spec_hash(spec))
    ItemFactory.create_batch(2, project=project, needed=1)
    return project


def test_rejected_item_without_javascript_names_the_question_and_keeps_answers(client, slider_project):
    client.get("/p/sliders/?PROLIFIC_PID=nojs")
    Enrollment.objects.update(stage="work")
    page = client.get(reverse("annotations:annotate", args=["sliders"]))
    html = page.content.decode()
    assert 'class="slider-fallback" name="d__warmth"' in html and "<noscript>" not in html
    assignment = page.context["assignment"]

    rejected = client.post(reverse("annotations:annotate_submit", args=["sliders"]),
                           {"assignment": assignment.id, "d__empathy": "3", "d__warmth": ""})
    html = rejected.content.decode()
    assert rejected.status_code == 422 and "<html" in html
    assert "Please move the slider to give an answer (it is not set yet)." in html
    assert 'href="#q-d__warmth">How warm is it?</a>' in html
    assert 'value="3" required checked' in html
    assert "warmth: required" not in html

    stored = client.post(reverse("annotations:annotate_submit", args=["sliders"]),
                         {"assignment": assignment.id, "d__empathy": "3", "d__warmth": "65"})
    assert stored.status_code == 302
    assert Label.objects.get().values == {"warmth": 65.0, "empathy": 3}
