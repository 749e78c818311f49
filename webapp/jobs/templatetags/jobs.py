"""Job pieces that the apps' pages show: ``{% load jobs %}{% report_form action=url target_name="project"
target=project.slug %}``."""

from django import template

from webapp.jobs.reports import REPORT_BOOTSTRAP

register = template.Library()


@register.inclusion_tag("jobs/_report_form.html", takes_context=True)
def report_form(context, *, action: str, target_name: str, target: str, by: str | None = None,
                include_ended: bool = False):
    """The form that builds a full statistical report in the background: it posts to ``action`` (the
    owning app's launch) with the target named as ``target_name`` and, where the report takes them, the
    annotator attribute ``by`` to break it down by and ``include_ended``."""
    return {"csrf_token": context.get("csrf_token"), "action": action, "target_name": target_name,
            "target": target, "by": by, "include_ended": include_ended, "n_bootstrap": REPORT_BOOTSTRAP}
