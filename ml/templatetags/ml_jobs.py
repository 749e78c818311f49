"""Job pieces that other apps' pages show: ``{% load ml_jobs %}{% report_form project=project %}``."""

from django import template

from ml.services.reports import REPORT_BOOTSTRAP

register = template.Library()


@register.inclusion_tag("ml/_report_form.html", takes_context=True)
def report_form(context, *, project=None, study=None, by: str | None = None, include_ended: bool = False):
    """The form that builds the full report of ``project`` (its agreement, broken down ``by`` an annotator
    attribute) or of ``study`` in the background; it posts to ``ml:report_launch``."""
    return {"csrf_token": context.get("csrf_token"), "project": project, "study": study, "by": by,
            "include_ended": include_ended, "n_bootstrap": REPORT_BOOTSTRAP}
