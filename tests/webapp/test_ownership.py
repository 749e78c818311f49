"""owned_or_shared and sharing: one rule for projects and studies, superusers included."""

import pytest
from django.core.exceptions import PermissionDenied

from annotations.models import Project
from studies import services
from studies.models import Study
from tests.factories import ProjectFactory, UserFactory
from tests.studies.conftest import study_spec
from webapp.people.ownership import ShareError, collaborator_add, collaborator_remove, owned_or_shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(researcher, other_researcher, annotator, participant):
    collaborator = UserFactory(username="collab", role="researcher")
    admin = UserFactory(username="admin", role="annotator", is_superuser=True)
    project = ProjectFactory(owner=researcher, slug="owned")
    study = services.study_load(spec=study_spec(slug="owned-study"), owner=researcher)
    project.collaborators.add(collaborator)
    study.collaborators.add(collaborator)
    return {"objects": {Project: project, Study: study},
            "users": {"owner": researcher, "collaborator": collaborator, "other": other_researcher,
                      "superuser": admin, "annotator": annotator, "participant": participant}}


@pytest.mark.parametrize("model", [Project, Study])
@pytest.mark.parametrize("who, sees", [("owner", True), ("collaborator", True), ("other", False),
                                       ("superuser", True), ("annotator", False), ("participant", False)])
def test_owned_or_shared_is_one_rule_for_projects_and_studies(world, model, who, sees):
    obj = world["objects"][model]
    rows = list(owned_or_shared(model.objects.all(), world["users"][who]))
    assert rows == ([obj] if sees else [])


@pytest.mark.parametrize("model", [Project, Study])
def test_a_row_shared_with_two_collaborators_is_listed_once(world, model):
    obj = world["objects"][model]
    obj.collaborators.add(world["users"]["other"])
    assert list(owned_or_shared(model.objects.all(), world["users"]["owner"])) == [obj]


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not owned_or_shared(Project.objects.all(), AnonymousUser()).exists()


@pytest.mark.parametrize("model", [Project, Study])
def test_only_the_owner_or_a_superuser_shares_and_unshares(world, model):
    obj, users = world["objects"][model], world["users"]
    with pytest.raises(PermissionDenied):
        collaborator_add(obj=obj, username="other-researcher", by=users["collaborator"])
    collaborator_add(obj=obj, username="other-researcher", by=users["superuser"])
    assert obj.collaborators.filter(username="other-researcher").exists()
    with pytest.raises(PermissionDenied):
        collaborator_remove(obj=obj, username="other-researcher", by=users["collaborator"])
    collaborator_remove(obj=obj, username="other-researcher", by=users["owner"])
    assert not obj.collaborators.filter(username="other-researcher").exists()


@pytest.mark.parametrize("model", [Project, Study])
def test_sharing_names_who_cannot_be_given_access(world, model):
    obj, owner = world["objects"][model], world["users"]["owner"]
    with pytest.raises(ShareError, match="'annotator' is not a researcher"):
        collaborator_add(obj=obj, username="annotator", by=owner)
    with pytest.raises(ShareError, match="'nobody' is not a researcher"):
        collaborator_add(obj=obj, username="nobody", by=owner)
    with pytest.raises(ShareError, match="not shared with 'other-researcher'"):
        collaborator_remove(obj=obj, username="other-researcher", by=owner)
    collaborator_add(obj=obj, username="researcher", by=owner)  # the owner: nothing to add
    assert not obj.collaborators.filter(username="researcher").exists()
