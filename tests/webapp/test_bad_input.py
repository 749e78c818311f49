"""Bad input gets a clear 4xx naming what and where, never a 500: NUL bytes, lone surrogates, NaN, specs that are
not mappings, YAML aliases, negative seeds, control characters in redirects, broken CSV, formula cells, big files."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from annotations.models import Enrollment, Item, Label
from annotations.services import flow
from annotations.services.exporting import labels_export
from annotations.spec import SpecError, spec_normalize
from studies import services as study_services
from studies.spec import SpecError as StudySpecError
from studies.spec import spec_parse
from tests.factories import LIKERT_SPEC, ItemFactory, LabelFactory, ProjectFactory, UserFactory
from tests.studies.conftest import study_spec
from webapp.people.surveys import survey_validate

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("link", ["/p/demo/", "/s/demo/"])
@pytest.mark.parametrize("value", ["a\x00b"])
def test_a_nul_byte_in_a_crowd_link_is_refused_with_a_400_naming_the_parameter(project, link, value):
    response = Client().get(link, {"PROLIFIC_PID": value})
    assert response.status_code == 400
    assert "PROLIFIC_PID" in response.content.decode() and "NUL" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/jobs/", "/annotate/demo/submit/"])
def test_a_multipart_body_without_its_boundary_is_a_400_saying_the_form_cannot_be_read(project, researcher, path):
    client = Client()
    client.force_login(researcher)
    response = client.generic("POST", path, b"kind=export", content_type="multipart/form-data")
    assert response.status_code == 400
    assert "the form body cannot be read" in response.content.decode() and "boundary" in response.content.decode()


def test_a_nul_byte_in_a_submitted_label_is_refused_and_nothing_is_stored(client, project, annotator):
    flow.enrollment_open(project=project, user=annotator)
    Enrollment.objects.filter(annotator=annotator).update(stage=Enrollment.Stage.WORK)
    client.force_login(annotator)
    response = client.post(f"/annotate/{project.slug}/submit/", {"assignment": "1", "d__empathy": "3\x00"})
    assert response.status_code == 400 and "d__empathy" in response.content.decode()
    assert not Label.objects.exists()


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800"])
def test_json_with_unstorable_text_is_refused_with_the_field_named(project, annotator, text):
    flow.enrollment_open(project=project, user=annotator)
    body = json.dumps({"assignment": "x", "values": {"empathy": text}})  # json.dumps escapes both as \\uXXXX
    response = _api(annotator).post("/api/annotate/demo/submit/", body, content_type="application/json")
    assert response.status_code == 400 and "values.empathy" in response.json()["detail"]


def test_json_nan_is_refused(project, annotator):
    flow.enrollment_open(project=project, user=annotator)
    response = _api(annotator).post("/api/annotate/demo/submit/", '{"assignment": "x", "values": {"empathy": NaN}}',
                                    content_type="application/json")
    assert response.status_code == 400 and "NaN" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["nan", "inf", "-Infinity"])
def test_a_survey_number_that_is_not_finite_is_asked_again(raw):
    answers, errors = survey_validate([{"name": "age", "question": "Age", "type": "number"}], {"age": raw})
    assert errors == {"age": "Please enter a number."} and answers == {}


@pytest.mark.parametrize("spec", [5, True, [1], "just text"])
def test_a_study_spec_that_is_not_a_mapping_is_a_400(researcher, spec):
    response = _api(researcher).post("/api/studies/", {"spec": spec}, format="json")
    assert response.status_code == 400 and "spec" in response.json()


def test_a_null_study_spec_is_a_400(researcher):
    response = _api(researcher).post("/api/studies/", {"spec": None}, format="json")
    assert response.status_code == 400 and "spec" in response.json()


def test_yaml_aliases_in_a_spec_are_refused_with_their_line(researcher):
    bomb = "slug: bomb\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b]\n"
    with pytest.raises(StudySpecError, match="aliases"):
        spec_parse(bomb)
    response = _api(researcher).post("/api/projects/", {"spec": bomb}, format="json")
    assert response.status_code == 400 and "aliases" in json.dumps(response.json())


def test_a_negative_report_seed_is_a_400(researcher):
    study = study_services.study_load(spec=study_spec(), owner=researcher)
    response = _api(researcher).get(f"/api/studies/{study.slug}/report/", {"seed": -1})
    assert response.status_code == 400 and "seed" in response.json()


@pytest.mark.parametrize("url", ["https://example.org/done\r\nSet-Cookie: x=1", "https://example.org/a\nb"])
def test_a_redirect_url_with_a_line_break_is_refused(url):
    with pytest.raises(StudySpecError, match="redirect_url"):
        study_spec(recruitment={"redirect_url": url})
    with pytest.raises(SpecError, match="redirect_url"):
        spec_normalize({**LIKERT_SPEC, "crowd": {"redirect_url": url}})


def _import(researcher, project, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return _api(researcher).post(f"/api/projects/{project.slug}/items/", {"file": upload},
                                 format="multipart")


def test_a_csv_with_an_unterminated_quote_is_refused_at_its_line(researcher):
    project = ProjectFactory(owner=researcher, slug="quoted")
    content = b'id,text\nn1,"fine"\nn2,"left open\nn3,swallowed\n'
    response = _import(researcher, project, "stories.csv", content)
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("stories.csv, line 3: bad CSV")
    assert not Item.objects.filter(project=project).exists()


def test_an_import_error_names_the_uploaded_file_and_the_line_of_a_bad_byte(researcher):
    project = ProjectFactory(owner=researcher, slug="badbyte")
    content = b'{"id": "n1", "text": "one"}\n{"id": "n2", "text": "two"}\n{"id": "n3", "text": "\xff"}\n'
    response = _import(researcher, project, "my items.jsonl", content)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("my items.jsonl, line 3: not UTF-8 text"), response.json()


@pytest.mark.parametrize("text", ["\\u0000", "\\ud800"])
def test_an_import_line_with_unstorable_text_is_refused_at_its_line(researcher, text):
    project = ProjectFactory(owner=researcher, slug="nul-import")
    content = ('{"id": "n1", "text": "one"}\n{"id": "n2", "text": "a' + text + 'b"}\n').encode()
    response = _import(researcher, project, "items.jsonl", content)
    assert response.status_code == 400 and response.json()["detail"].startswith("items.jsonl, line 2: text:")
    assert not Item.objects.filter(project=project).exists()


def test_an_import_file_over_the_limit_is_refused(researcher, settings):
    settings.RESONANCE_MAX_UPLOAD_BYTES = 1000
    project = ProjectFactory(owner=researcher, slug="big")
    response = _import(researcher, project, "big.jsonl", b'{"id": "n1", "text": "' + b"x" * 2000 + b'"}\n')
    assert response.status_code == 400 and "big.jsonl" in json.dumps(response.json())


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_formula_text_is_neutralised_in_csv_exports_and_unchanged_in_jsonl(researcher, fmt):
    project = ProjectFactory(owner=researcher, slug="formula", overlap=1)
    project.spec["dimensions"].append({**project.spec["dimensions"][0], "name": "why", "type": "text",
                                       "level": None, "min": None, "max": None, "step": None, "choices": []})
    project.save()
    item = ItemFactory(project=project, data={"text": "=HYPERLINK(\"http://x\")"})
    LabelFactory(project=project, item=item, annotator=UserFactory(role="annotator"),
                 values={"empathy": 3, "why": "+1 because @everyone -said so"})
    out = io.StringIO()
    labels_export(project=project, out=out, fmt=fmt)
    text = out.getvalue()
    if fmt == "csv":
        assert "'=HYPERLINK" in text and "'+1 because" in text
        assert "\n=" not in text and ",=" not in text and ",+" not in text
    else:
        row = json.loads(text.splitlines()[0])
        assert json.dumps(row).count("'=") == 0 and "+1 because @everyone -said so" in text


def test_the_csv_export_says_its_charset(researcher):
    project = ProjectFactory(owner=researcher, slug="charset", overlap=1)
    response = _api(researcher).get(f"/api/projects/{project.slug}/labels/export/", {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("reason", [123, True, ["why"]])
def test_a_number_or_a_list_sent_as_text_is_refused_naming_the_field(project, researcher, annotator, reason):
    flow.enrollment_open(project=project, user=annotator)
    response = _api(researcher).post(f"/api/projects/{project.slug}/annotators/{annotator.pseudonym}/exclude/",
                                     {"reason": reason}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert not project.exclusions.exists()


def test_an_api_path_that_names_no_endpoint_answers_json_and_a_page_path_html(client):
    api = client.get("/api/projects/not a slug/")
    assert api.status_code == 404 and api.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
