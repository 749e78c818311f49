"""Property: over generated specs (every dimension type, numeric and text choices, mixed in one
project) and generated labels, every value imported comes back unchanged from the agreement
inputs, every aggregate and every export (JSONL and CSV, plain and aggregated)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import statistics

import pytest
import yaml
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from annotations.agreement.aggregate import aggregate_table
from annotations.agreement.load import project_agreement_report, project_label_frame
from annotations.services.exporting import labels_export
from annotations.services.importing import items_import, labels_import, project_load_spec
from annotations.spec import dimension_value_clean, dimension_value_parse

pytestmark = pytest.mark.django_db

_slugs = itertools.count()
# text that survives a CSV cell unchanged: no surrounding blanks, no line breaks, no leading formula sign
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=12) \
    .map(str.strip).filter(lambda s: s and s[0] not in "=+-@\t")


@st.composite
def dimension_specs(draw, name: str) -> dict:
    kind = draw(st.sampled_from(["likert", "levels", "slider", "number", "choice_int", "choice_float",
                                 "choice_text", "text"]))
    spec = {"name": name, "question": f"{name}?"}
    if kind == "likert":
        spec.update(type="likert", min=1, max=draw(st.integers(3, 7)))
    elif kind == "levels":
        spec.update(type="levels")
    elif kind == "slider":
        spec.update(type="slider", min=0, max=10, step=draw(st.sampled_from([1, 0.5, 0.25])))
    elif kind == "number":
        spec.update(type="number")
    elif kind == "text":
        spec.update(type="text", required=False)
    else:
        values = {
            "choice_int": st.lists(st.integers(-3, 9), min_size=2, max_size=4, unique=True),
            "choice_float": st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.5, -1.0]), min_size=2, max_size=4,
                                     unique=True),
            "choice_text": st.lists(st.text("ab01 xy", min_size=1, max_size=3).map(str.strip).filter(bool),
                                    min_size=2, max_size=4, unique=True),
        }[kind]
        spec.update(type="choice", choices=[{"value": v, "label": f"L{i}"} for i, v in enumerate(draw(values))])
        if draw(st.booleans()):
            spec["level"] = "ordinal"
    return spec


def _value_strategy(dimension: dict):
    kind = dimension["type"]
    if kind == "likert":
        return st.integers(dimension["min"], dimension["max"])
    if kind == "levels":
        return st.integers(0, 2)
    if kind == "slider":
        step = dimension["step"]
        return st.integers(0, int(10 / step)).map(lambda k: k * step)
    if kind == "number":
        return st.integers(-400, 400).map(lambda k: k / 4)
    if kind == "text":
        return _TEXT
    return st.sampled_from([choice["value"] for choice in dimension["choices"]])


@st.composite
def projects(draw) -> tuple[list[dict], dict]:
    n_dims = draw(st.integers(1, 5))
    dims = [draw(dimension_specs(f"d{i}")) for i in range(n_dims)]
    items = [f"i{k}" for k in range(draw(st.integers(1, 3)))]
    annotators = [f"a{k}" for k in range(draw(st.integers(1, 4)))]
    labels = {}
    for item, annotator, dimension in itertools.product(items, annotators, dims):
        if draw(st.booleans()) or draw(st.booleans()):
            labels[(item, annotator, dimension["name"])] = draw(_value_strategy(dimension))
    return dims, labels


def _load(dims: list[dict], labels: dict):
    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(username="prop-owner", defaults={"role": "researcher"})
    slug = f"prop-{next(_slugs)}"
    spec = {"slug": slug, "title": "Property", "kind": "narrative", "dimensions": dims}
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=owner)
    item_ids = sorted({item for item, _, _ in labels} | {"i0"})
    items_import(project=project, path_or_file=io.StringIO(
        "".join(json.dumps({"id": item, "text": f"story {item}"}) + "\n" for item in item_ids)), fmt="jsonl")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item_id", "annotator_id", "dimension", "value"])
    for (item, annotator, name), value in labels.items():
        writer.writerow([item, annotator, name, value])
    if labels:
        labels_import(project=project, path_or_file=io.StringIO(out.getvalue()), fmt="labels_csv")
    return project


def _same(a, b) -> bool:
    """Equal and of the same type: a choice's 1 is neither "1" nor 1.0, and a likert 3 stays an int."""
    return a == b and type(a) is type(b)


def _export(project, fmt: str, aggregate: str, tmp_path) -> list[dict]:
    out = tmp_path / f"{project.slug}-{aggregate}.{fmt}"
    labels_export(project=project, out=out, fmt=fmt, aggregate=aggregate)
    text = out.read_text(encoding="utf-8")
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text, newline="")))


@settings(max_examples=40, phases=[Phase.explicit, Phase.reuse, Phase.generate], deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(generated=projects())
def test_every_stored_value_comes_back_unchanged_from_agreement_aggregates_and_exports(generated, tmp_path):
    dims, raw = generated
    spec_dims = {d["name"]: d for d in _load(dims, {}).spec["dimensions"]}  # normalised, for the checks
    project = _load(dims, raw)
    specs = {d["name"]: d for d in project.spec["dimensions"]}
    assert specs.keys() == spec_dims.keys()
    stored = {key: dimension_value_clean(specs[key[2]], value) for key, value in raw.items()}
    pseudonym = dict(get_user_model().objects.filter(labels__project=project).values_list(
        "labels__annotator__pseudonym", "crowd_id").distinct())

    # agreement inputs
    frame = project_label_frame(project=project)
    got = {(row.item, pseudonym[row.annotator], row.dimension): row.value for row in frame.itertuples()}
    assert got.keys() == stored.keys()
    for key, value in stored.items():
        assert _same(got[key], value), (key, got[key], value)
    report = project_agreement_report(project=project, n_bootstrap=0)
    for name, figures in report["dimensions"].items():
        assert figures["n_labels"] == sum(1 for key in stored if key[2] == name), name

    # every aggregate
    by_unit: dict[tuple, list] = {}
    for (item, _, name), value in stored.items():
        by_unit.setdefault((item, name), []).append(value)
    table = aggregate_table(frame, project.spec["dimensions"])
    records = [{k: v.item() if hasattr(v, "item") else v for k, v in r.items()} for r in table.to_dict("records")]
    rows = {(r["unit"], r["dimension"]): r for r in records}
    expected_units = {key for key in by_unit if specs[key[1]]["type"] != "text"}
    assert set(rows) == expected_units
    for key in expected_units:
        values, row = by_unit[key], rows[key]
        assert row["n_labels"] == len(values)
        shares = {str(v): values.count(v) / len(values) for v in values}
        assert row["distribution"] == pytest.approx(shares)
        top = max(values.count(v) for v in values)
        winners = list(dict.fromkeys(v for v in values if values.count(v) == top))
        if len(winners) == 1:
            assert _same(row["majority"], winners[0])
        else:
            assert row["majority"] is None and len(row["tied_values"]) == len(winners)
        if specs[key[1]]["type"] == "choice":
            declared = [c["value"] for c in specs[key[1]]["choices"]]
            assert any(_same(row["weighted"], v) for v in declared)
        else:
            assert row["mean"] == pytest.approx(statistics.fmean(values))
            assert row["median"] == pytest.approx(statistics.median(values))

    # every export: plain JSONL and CSV, and each aggregated form
    plain = _export(project, "jsonl", "none", tmp_path)
    annotators = pseudonym
    exported = {(r["item_id"], annotators[r["annotator"]], name): r[name] for r in plain for name in specs
                if r[name] is not None}
    assert exported.keys() == stored.keys()
    for key, value in stored.items():
        assert _same(exported[key], value), (key, exported[key], value)
    for name in specs:  # one JSON type per column, so datasets infers one feature type
        assert len({type(r[name]) for r in plain if r[name] is not None}) <= 1
    for row in _export(project, "csv", "none", tmp_path):
        for name, dimension in specs.items():
            if row[name] != "":
                key = (row["item_id"], annotators[row["annotator"]], name)
                assert _same(dimension_value_parse(dimension, row[name]), stored[key])
    majority = {(r["item"], r["dimension"]): r for r in _export(project, "jsonl", "majority", tmp_path)}
    distribution = {(r["item"], r["dimension"]): r for r in _export(project, "jsonl", "distribution", tmp_path)}
    mean = {(r["item"], r["dimension"]): r for r in _export(project, "jsonl", "mean", tmp_path)}
    assert set(majority) == set(distribution) == expected_units
    for key in expected_units:
        values = by_unit[key]
        assert majority[key]["text"] == f"story {key[0]}"
        top = max(values.count(v) for v in values)
        winners = list(dict.fromkeys(v for v in values if values.count(v) == top))
        if len(winners) == 1:
            assert _same(majority[key]["value"], winners[0])
        assert distribution[key]["value"] == pytest.approx({str(v): values.count(v) / len(values) for v in values})
        if specs[key[1]]["type"] != "choice":
            assert mean[key]["value"] == pytest.approx(statistics.fmean(values))
