from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

register = template.Library()
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@register.filter
def markdown(text: str) -> str:
    """Researcher-written Markdown, with raw HTML switched off so nothing executes in an annotator's browser."""
    return mark_safe(_markdown.render(text or ""))


@register.filter
def percent(part, whole) -> int:
    try:
        return max(0, min(100, round(100 * float(part) / float(whole))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
