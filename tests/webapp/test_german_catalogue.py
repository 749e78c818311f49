"""The German catalogue cannot go stale silently: every message the crowd pages mark (templates and Python) is in
locale/de/LC_MESSAGES/django.po, and nothing else is; each has a real German translation keeping the message's
placeholders and markup; and the committed django.mo (what the site loads) says exactly what the .po says."""

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template import engines
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

from tests.webapp.po_file import po_entries

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale/de/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")
CROWD_TEMPLATES = (
    "base.html", "webapp/_survey_questions.html", "webapp/_code.html",
    "annotations/stages.html", "annotations/annotate.html", "annotations/_item.html", "annotations/no_work.html",
    "studies/participate.html", "studies/_slot.html",
)
GETTEXT_CALLS = {"gettext": 1, "gettext_lazy": 1, "gettext_noop": 1, "ngettext": 2, "ngettext_lazy": 2,
                 "pgettext": 2, "pgettext_lazy": 2}
SOURCE_PACKAGES = ("annotations", "studies", "webapp", "ml")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}|<[a-z]+|&amp;")

Message = tuple[str | None, str, str | None]  # context, msgid, plural


def _catalogue() -> dict[Message, list[str]]:
    return {(entry.context, entry.msgid, entry.plural): entry.translations for entry in po_entries(PO)}


def _literal(expression) -> str | None:
    """The text of a quoted string in a tag ("'Next'" parsed), or None for a variable."""
    if expression is None:
        return None
    var = expression.var
    return var.literal if hasattr(var, "literal") else var


def _template_messages(name: str) -> set[Message]:
    template = engines["django"].engine.get_template(name)
    messages: set[Message] = set()
    for node in template.nodelist.get_nodes_by_type(TranslateNode):
        messages.add((_literal(node.message_context), _literal(node.filter_expression), None))
    for node in template.nodelist.get_nodes_by_type(BlockTranslateNode):
        plural = node.render_token_list(node.plural)[0] if node.plural else None
        messages.add((_literal(node.message_context), node.render_token_list(node.singular)[0], plural))
    return messages


def _python_messages(path: Path) -> set[Message]:
    messages: set[Message] = set()
    for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(call, ast.Call):
            continue
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        if name not in GETTEXT_CALLS:
            continue
        texts = [arg.value for arg in call.args[:GETTEXT_CALLS[name]]
                 if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if len(texts) != GETTEXT_CALLS[name]:
            continue  # a variable: its words are marked where they are written (gettext_noop)
        if name.startswith("pgettext"):
            messages.add((texts[0], texts[1], None))
        else:
            messages.add((None, texts[0], texts[1] if len(texts) == 2 else None))
    return messages


def _marked_messages() -> set[Message]:
    marked = set().union(*(_template_messages(name) for name in CROWD_TEMPLATES))
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                marked |= _python_messages(path)
    return marked


def test_every_message_the_crowd_pages_mark_is_in_the_catalogue_and_nothing_else():
    catalogue, marked = set(_catalogue()), _marked_messages()
    assert len(marked) > 150  # the walk found the pages' words, not an empty set that matches anything
    assert not marked - catalogue, f"not in {PO.name} (run makemessages -l de): {sorted(marked - catalogue, key=str)}"
    assert not catalogue - marked, f"in {PO.name} but marked nowhere: {sorted(catalogue - marked, key=str)}"


def test_every_crowd_template_shows_its_words_through_the_catalogue():
    for name in CROWD_TEMPLATES:
        assert _template_messages(name), f"{name} marks nothing for translation"


def test_every_german_translation_is_there_and_none_is_fuzzy():
    entries = po_entries(PO)
    assert entries
    for entry in entries:
        assert not entry.fuzzy, f"fuzzy: {entry.msgid!r}"
        assert entry.translations and all(text.strip() for text in entry.translations), f"empty: {entry.msgid!r}"
        assert len(entry.translations) == (2 if entry.plural else 1), entry.msgid  # German: one and other
    header = PO.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in header and '"Language: de\\n"' in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header


def test_each_translation_keeps_the_placeholders_and_markup_of_its_message():
    for (_context, msgid, plural), translations in _catalogue().items():
        for index, text in enumerate(translations):
            source = plural if index else msgid
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (source, text)


def test_the_committed_mo_says_what_the_po_says():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "de"
    entries = po_entries(PO)
    for entry in entries:
        if entry.plural:
            for count, text in ((1, entry.translations[0]), (2, entry.translations[1])):
                got = (compiled.npgettext(entry.context, entry.msgid, entry.plural, count) if entry.context
                       else compiled.ngettext(entry.msgid, entry.plural, count))
                assert got == text, f"{MO.name} is stale for {entry.msgid!r} (run compilemessages)"
        else:
            got = compiled.pgettext(entry.context, entry.msgid) if entry.context else compiled.gettext(entry.msgid)
            assert got == entry.translations[0], f"{MO.name} is stale for {entry.msgid!r} (run compilemessages)"
    singular_keys = {key for key in compiled._catalog if isinstance(key, str) and key}
    plural_keys = {key[0] for key in compiled._catalog if isinstance(key, tuple)}
    assert len(singular_keys | plural_keys) == len(entries), f"{MO.name} holds messages the .po no longer has"


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_compiled_catalogue_is_not_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(MO.relative_to(ROOT))], cwd=ROOT, check=False)
    assert ignored.returncode == 1, f"{MO} is ignored by git: the site would run without German"
