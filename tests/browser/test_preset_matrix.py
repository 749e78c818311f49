"""The proof matrix: every preset project (and the demo's own project) × phone and desktop × keyboard-only and
pointer-only, each walked from a Prolific link to the completion code through the real pages, at least three items,
then the stored labels read back and compared with what the page showed as entered. axe-core runs on every page."""

import pytest
import yaml

from annotations.models import Enrollment, Item, Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import annotator_walk
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, ITEMS_BY_KIND, demo_spec_paths, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS_PER_WALK = 3
SPECS = {path.stem: path for path in demo_spec_paths()}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def _project(spec_name: str):
    spec = yaml.safe_load(demo_spec_text(SPECS[spec_name]))
    spec["limits"] = {**(spec.get("limits") or {}), "items_per_annotator": ITEMS_PER_WALK}
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / ITEMS_BY_KIND[project.kind])
    return project


def _stored_as(dimension: dict, shown: str):
    """What a value the page showed must be once stored, by the dimension's type (independent of the parser)."""
    if dimension["type"] in {"likert", "levels"}:
        return int(shown)
    if dimension["type"] in {"slider", "number"}:
        return float(shown)
    if dimension["type"] == "choice":
        return next(choice["value"] for choice in dimension["choices"] if str(choice["value"]) == shown)
    return shown.strip()


def _expected(project, shown: dict[str, str]) -> dict:
    values: dict = {}
    for dimension in project.dimensions:
        name = dimension["name"]
        if dimension.get("per_turn"):
            prefix = f"d__{name}__"
            turns = {field[len(prefix):]: _stored_as(dimension, v) for field, v in shown.items()
                     if field.startswith(prefix) and v != ""}
            if turns:
                values[name] = turns
        elif shown.get(f"d__{name}", "") != "":
            values[name] = _stored_as(dimension, shown[f"d__{name}"])
    return values


@pytest.mark.parametrize("mode", ["keyboard", "pointer"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_annotator_completes_preset_project_and_labels_are_stored_as_entered(spec_name, size, mode, new_page):
    project = _project(spec_name)
    page = new_page(VIEWPORTS[size])
    walk = annotator_walk(page, slug=project.slug, worker=f"{spec_name}-{size}-{mode}", keyboard=mode == "keyboard",
                          name=f"annotator-{spec_name}-{size}-{mode}")

    assert walk.code == project.spec["crowd"]["completion_code"]
    enrollment = Enrollment.objects.get(project=project)
    assert enrollment.stage == Enrollment.Stage.DONE
    assert enrollment.crowd["worker_id"] == f"{spec_name}-{size}-{mode}"
    tasks = Label.objects.filter(project=project, item__role=Item.Role.TASK).count()
    assert tasks >= ITEMS_PER_WALK
    for assignment_id, shown in walk.entered.items():
        label = Label.objects.get(assignment_id=assignment_id)
        assert label.values == _expected(project, shown), f"assignment {assignment_id}"
        assert label.seconds and label.seconds > 0
