"""The shape of the URL map, kept: each app's ``urls.py`` (and ``api_urls.py``) holds the whole of its map, and
every page and endpoint of an app is named under that app's namespace, so ``reverse("annotations:…")`` always
says which app answers and no view module routes itself."""

from __future__ import annotations

import ast
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from webapp.middleware.limits import LIMITED

ROOT = Path(__file__).resolve().parents[2]
APPS = ("annotations", "studies", "ml", "webapp")
# The package whose views a route calls -> the namespace its name lives in ("" for the site's own pages).
NAMESPACES = {"annotations": "annotations", "studies": "studies", "ml": "ml", "webapp.jobs": "jobs"}


def _routes(patterns=None, prefix="", namespace=""):
    """(route, namespace, pattern) for every pattern outside the admin site."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


def _expected_namespace(lookup: str) -> str:
    owners = [package for package in NAMESPACES if lookup == package or lookup.startswith(package + ".")]
    return NAMESPACES[max(owners, key=len)] if owners else ""


def test_every_page_and_endpoint_is_named_in_the_namespace_of_the_app_that_answers_it():
    routes = list(_routes())
    assert len(routes) > 60
    misplaced = [f"{route} ({pattern.lookup_str}) in {namespace or 'no namespace'}"
                 for route, namespace, pattern in routes if namespace != _expected_namespace(pattern.lookup_str)]
    unnamed = [route for route, _, pattern in routes if not pattern.name]
    assert not misplaced, misplaced
    assert not unnamed, unnamed


def _defines_urlpatterns(path: Path) -> bool:
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        if any(isinstance(target, ast.Name) and target.id == "urlpatterns" for target in targets):
            return True
    return False


def test_only_url_modules_define_urlpatterns():
    modules = [path for app in APPS for path in sorted((ROOT / app).rglob("*.py"))]
    assert any(path.name == "views.py" for path in modules)
    routed_elsewhere = [str(path.relative_to(ROOT)) for path in modules
                        if not path.name.endswith("urls.py") and _defines_urlpatterns(path)]
    assert not routed_elsewhere, routed_elsewhere


def test_every_rate_limited_name_is_a_route():
    names = {":".join(filter(None, [namespace, pattern.name])) for _, namespace, pattern in _routes()}
    assert not set(LIMITED) - names, sorted(set(LIMITED) - names)
