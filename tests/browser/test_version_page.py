"""A researcher opens a trained version from the models list and reads how it was trained (a data-parallel run says
so) and its agreement plot: the humans' agreement beside the model's and its parent's, per dimension, by pointer on a
desktop and by keyboard on a phone."""

import pytest
from playwright.sync_api import expect

from ml.models import ModelVersion
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HELDOUT = {"empathy": {"n": 30, "pearson": 0.71, "spearman": 0.69, "mse": 0.4, "alpha_human": 0.62,
                       "alpha_with_model": 0.55, "loo_human": 0.7, "loo_model": 0.66},
           "understandable": {"n": 30, "pearson": 0.2, "spearman": 0.25, "mse": 1.1, "alpha_human": 0.3,
                              "alpha_with_model": 0.12, "loo_human": 0.35, "loo_model": 0.1}}
PARENT = {"empathy": {"alpha_with_model": 0.31, "loo_model": 0.22}, "understandable": {"alpha_with_model": 0.05}}
TRAINED = {"recipe": "reward-model", "project": "demo-narratives", "snapshot": {"sha256": "ab12"},
           "split": {"seed": 0, "sizes": {"train": 70, "validation": 10, "heldout": 20}},
           "record": {"steps": 40, "device": "cuda", "processes": 2, "wall_seconds": 12.5}}


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_the_agreement_plot_sets_the_model_beside_the_humans_and_its_parent(new_page, viewport, hands):
    researcher = UserFactory(username="plotter", role="researcher")
    parent = ModelVersion.objects.create(name="minilm-base", kind="scorer", path="/nowhere")
    ModelVersion.objects.create(name="minilm-rm-1", kind="scorer", path="/nowhere/1", parent=parent,
                                registered_by=researcher, metrics={"heldout": HELDOUT, "parent": PARENT},
                                training_settings=TRAINED)
    page = new_page(viewport=viewport)
    log_in(page, username="plotter", password="pw-12345678")
    page.goto("/models/")
    link = page.get_by_role("link", name="minilm-rm-1")
    if hands == "pointer":
        link.click()
    else:
        link.focus()
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="minilm-rm-1")).to_be_visible()
    expect(page.get_by_test_id("trained-on")).to_contain_text("40 steps on cuda in 2 data-parallel processes in 12.5 s")

    plot = page.get_by_test_id("agreement-plot")
    expect(plot.locator("figure")).to_have_count(2)
    alpha = plot.get_by_role("img", name="Krippendorff's α", exact=False)
    expect(alpha).to_have_attribute("aria-label", "Krippendorff's α. empathy: humans 0.62, this version 0.55, "
                                    "parent 0.31; understandable: humans 0.30, this version 0.12, parent 0.05.")
    expect(alpha.locator("circle.humans")).to_have_count(2)
    expect(alpha.locator("rect.parent")).to_have_count(2)
    # the model's square sits left of the humans' dot where it agrees less than they do with each other
    humans = alpha.locator("circle.humans").first.bounding_box()
    model = alpha.locator("rect.model").first.bounding_box()
    assert model["x"] + model["width"] / 2 < humans["x"] + humans["width"] / 2
    box = alpha.bounding_box()
    assert box["width"] <= viewport["width"]
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(
        (e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName + '.' + e.className)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide[:8]
    check_page(page, f"version-agreement-plot-{hands}")
