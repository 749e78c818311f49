"""Results page, report and export API: who may see them, and what they show."""

import json

import pytest

from tests.factories import UserFactory
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(make_study):
    study = make_study()
    rows = [
        (f"w{k}", prompt(i), ALPHA, BETA, "a" if k else "b", "ab"[k % 2], "overall")
        for i in range(3)
        for k in range(3)
    ]
    import_judgments(study, rows)
    return study


def users(researcher, other_researcher, annotator, participant):
    return {
        "owner": researcher, "other researcher": other_researcher, "annotator": annotator,
        "participant": participant, "anonymous": None,
    }  # fmt: skip


EXPECTED = {
    "owner": 200,
    "other researcher": 404,  # another group's study is not revealed
    "annotator": 403,
    "participant": 403,
    "anonymous": (302, 401, 403),
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize(
    "url",
    [
        "/studies/{slug}/results/?bootstrap=20",
        "/studies/{slug}/results/export/?kind=raw",
        "/api/studies/{slug}/report/?bootstrap=20",
        "/api/studies/{slug}/export/?kind=dpo",
    ],
)
def test_permission_matrix(client, study, researcher, other_researcher, annotator, participant, who, url):
    user = users(researcher, other_researcher, annotator, participant)[who]
    if user is not None:
        client.force_login(user)
    response = client.get(url.format(slug=study.slug))
    expected = EXPECTED[who]
    assert response.status_code in (expected if isinstance(expected, tuple) else (expected,))


def test_collaborator_sees_the_report(client, study):
    collaborator = UserFactory(username="collab", role="researcher")
    study.collaborators.add(collaborator)
    client.force_login(collaborator)
    assert client.get(f"/api/studies/{study.slug}/report/?bootstrap=0").status_code == 200


def test_api_report_carries_the_comparisons(client, study, researcher):
    client.force_login(researcher)
    report = client.get(f"/api/studies/{study.slug}/report/?bootstrap=20").json()
    [comparison] = report["comparisons"]
    assert (comparison["wins_a"], comparison["wins_b"], comparison["ties"]) == (6, 3, 0)
    assert set(report["bradley_terry"]) == {ALPHA, BETA}


def test_api_rejects_an_unknown_export_format(client, study, researcher):
    client.force_login(researcher)
    assert client.get(f"/api/studies/{study.slug}/export/?kind=parquet").status_code == 400


def test_api_export_streams_jsonl_with_the_spec_hash(client, study, researcher):
    client.force_login(researcher)
    response = client.get(f"/api/studies/{study.slug}/export/?kind=dpo")
    assert response.streaming and response["X-Spec-Hash"] == study.spec_hash
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [line["chosen_system"] for line in lines] == [ALPHA] * 3


def test_results_page_shows_tables_and_both_svg_plots_without_scripts(client, make_study, researcher):
    study = make_study(slug="three-way", n_systems=3)
    names = [s["name"] for s in study.spec["systems"]]
    rows = [
        (f"w{k}", prompt(i), names[0], names[j], "ab"[k % 2], "a", "overall")
        for i in range(3)
        for j in (1, 2)
        for k in range(2)
    ]
    import_judgments(study, rows)
    client.force_login(researcher)
    html = client.get(f"/studies/{study.slug}/results/?bootstrap=20").content.decode()
    assert html.count("<svg") == 2 and "<script" not in html.split("<main", 1)[1]
    assert "Bradley–Terry strengths" in html and "Position bias" in html
    fragment = client.get(
        f"/studies/{study.slug}/results/?bootstrap=0", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in fragment and 'id="results-body"' in fragment


def test_study_page_loads_the_results_fragment_lazily(client, study, researcher):
    client.force_login(researcher)
    html = client.get(f"/studies/{study.slug}/").content.decode()
    assert f'hx-get="/studies/{study.slug}/results/"' in html
    assert f'href="/studies/{study.slug}/results/"' in html


def test_results_page_of_a_study_without_judgments_says_so(client, make_study, researcher):
    study = make_study(slug="empty-study")
    client.force_login(researcher)
    response = client.get(f"/studies/{study.slug}/results/")
    assert response.status_code == 200 and "No judgments yet." in response.content.decode()
