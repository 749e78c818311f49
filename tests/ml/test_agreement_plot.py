"""The version page's plot of human–model against human–human agreement: where each mark goes, what is left
out, and what a screen reader hears."""

from ml.agreement_plot import WIDTH, agreement_plot

HELDOUT = {
    "empathy": {"n": 12, "pearson": 0.8, "alpha_human": 0.6, "alpha_with_model": 0.5, "loo_human": 0.7,
                "loo_model": 0.65},
    "clarity": {"n": 12, "alpha_human": -0.2, "alpha_with_model": 0.1, "loo_human": float("nan"), "loo_model": 0.4},
    "pair_accuracy": {"accuracy": 0.7, "low": 0.5, "high": 0.8, "n": 20},  # no human figure: not plotted
}
PARENT = {"empathy": {"alpha_with_model": 0.3, "loo_model": 0.2}}


def _panel(plot, key):
    return next(panel for panel in plot["panels"] if panel["key"] == key)


def test_one_row_per_dimension_with_a_human_figure_on_one_shared_scale():
    plot = agreement_plot(HELDOUT, PARENT)
    assert [row["name"] for row in _panel(plot, "alpha")["rows"]] == ["empathy", "clarity"]
    assert plot["low"] == -0.2  # the lowest figure, to a tenth
    alpha = {row["name"]: row for row in _panel(plot, "alpha")["rows"]}
    span = 1.0 - plot["low"]
    assert alpha["empathy"]["x_human"] == round((0.6 + 0.2) / span * WIDTH, 1)
    assert alpha["empathy"]["x_model"] == round((0.5 + 0.2) / span * WIDTH, 1)
    assert alpha["empathy"]["x_parent"] == round((0.3 + 0.2) / span * WIDTH, 1)
    assert alpha["empathy"]["box_model"] == round(alpha["empathy"]["x_model"] - 5, 1)
    assert alpha["clarity"]["x_human"] == 0.0 and alpha["clarity"]["x_parent"] is None
    assert [tick["value"] for tick in plot["ticks"]] == [-0.2, 0.0, 0.5, 1.0]
    assert plot["ticks"][-1]["x"] == WIDTH


def test_a_missing_or_undefined_figure_draws_no_mark_and_is_said_as_none():
    correlation = {row["name"]: row for row in _panel(agreement_plot(HELDOUT, PARENT), "correlation")["rows"]}
    assert correlation["clarity"]["x_human"] is None and correlation["clarity"]["x_model"] is not None
    summary = _panel(agreement_plot(HELDOUT, PARENT), "correlation")["summary"]
    assert "clarity: humans none, this version 0.40, parent none" in summary
    assert "empathy: humans 0.70, this version 0.65, parent 0.20" in summary


def test_without_human_figures_there_is_no_plot():
    assert agreement_plot({"pair_accuracy": {"accuracy": 0.7}}, None) is None
    assert agreement_plot(None, None) is None


def test_the_scale_starts_at_zero_when_every_figure_is_positive():
    plot = agreement_plot({"d": {"alpha_human": 0.4, "alpha_with_model": 0.9}}, {})
    assert plot["low"] == 0.0 and [tick["value"] for tick in plot["ticks"]] == [0.0, 0.5, 1.0]
