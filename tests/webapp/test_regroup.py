"""Regrouping rules as a researcher types them: cuts into age bands, merged categories, clear errors."""

import pandas as pd
import pytest

from webapp.people.regroup import regroup_apply, regroup_parse


def test_a_cut_at_45_turns_survey_bands_into_under_45_and_45_and_over():
    frame = pd.DataFrame({"age_band": ["18-24", "35-44", "45-54", "65+", "Prefer not to say", None]})
    out = regroup_apply(frame, regroup_parse("age_band=45"))
    assert out["age_band"].tolist()[:5] == ["under 45", "under 45", "45 and over", "45 and over", "Prefer not to say"]
    assert pd.isna(out["age_band"].iloc[5])


def test_two_cuts_make_three_bands_of_plain_ages():
    out = regroup_apply(pd.DataFrame({"age": [19, 30, 44.5, 45, 80]}), regroup_parse("age=45,30"))
    assert out["age"].tolist() == ["under 30", "30 to under 45", "30 to under 45", "45 and over", "45 and over"]


def test_merging_categories_keeps_the_values_not_listed():
    rules = regroup_parse("country=UK|IE:British Isles,US|CA:North America; gender=Non-binary|Self-described:Other")
    frame = pd.DataFrame({"country": ["UK", "IE", "CA", "IN"], "gender": ["Woman", "Non-binary", "Man", "Self-described"]})
    out = regroup_apply(frame, rules)
    assert out["country"].tolist() == ["British Isles", "British Isles", "North America", "IN"]
    assert out["gender"].tolist() == ["Woman", "Other", "Man", "Other"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("age_band", "ATTRIBUTE="),
        ("age_band=old", "cut points must be numbers"),
        ("country=UK|IE", "must be numbers"),
        ("country=UK:", "empty new name"),
        ("age=45;age=30", "regrouped twice"),
    ],
)
def test_a_malformed_rule_is_refused_naming_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        regroup_parse(text)


def test_a_band_across_the_cut_and_an_unknown_attribute_are_refused():
    with pytest.raises(ValueError, match="straddles"):
        regroup_apply(pd.DataFrame({"age_band": ["40-49"]}), regroup_parse("age_band=45"))
    with pytest.raises(ValueError, match="planet: no such attribute"):
        regroup_apply(pd.DataFrame({"age_band": ["40-49"]}), regroup_parse("planet=3"))
