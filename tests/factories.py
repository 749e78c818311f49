import factory
from django.contrib.auth import get_user_model

from annotations.models import Item, Label, Project
from annotations.spec import spec_hash, spec_normalize

LIKERT_SPEC = {
    "slug": "demo", "title": "Demo", "kind": "narrative", "overlap": 2,
    "dimensions": [
        {"name": "empathy", "question": "How empathic is the narrator?", "type": "likert", "min": 1, "max": 5,
         "level": "ordinal"},
    ],
}


def spec_for(**overrides) -> dict:
    raw = {**LIKERT_SPEC, **overrides}
    return spec_normalize(raw)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = "annotator"
    password = factory.PostGenerationMethodCall("set_password", "pw-12345678")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    title = factory.LazyAttribute(lambda o: o.slug.title())
    kind = "narrative"
    owner = factory.SubFactory(UserFactory, role="researcher")
    overlap = 2
    spec = factory.LazyAttribute(lambda o: spec_for(slug=o.slug, overlap=o.overlap, kind=o.kind))
    spec_hash = factory.LazyAttribute(lambda o: spec_hash(o.spec))


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"item-{n}")
    kind = factory.LazyAttribute(lambda o: o.project.kind)
    data = factory.LazyAttribute(lambda o: {"text": f"A narrative {o.external_id}."})
    needed = factory.LazyAttribute(lambda o: o.project.overlap)


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    item = factory.SubFactory(ItemFactory)
    project = factory.LazyAttribute(lambda o: o.item.project)
    annotator = factory.SubFactory(UserFactory)
    values = factory.LazyFunction(lambda: {"empathy": 3})
    source = "import"
