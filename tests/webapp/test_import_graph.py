"""The shape of the tree, kept: arrows between packages point one way.

Layers, lowest first (a package may import only from its own layer's package and from layers below it):
- ``webapp.data``: data plumbing every layer may use (the row-lock dialect seam, raw rows, storable text, CSV cells);
- kernels: ``webapp.people`` (users, roles, crowd identity, surveys, the crowd journey), ``webapp.specs`` (the
  spec language) and ``webapp.jobs`` (the job system); ``ml.core`` (plain Python, no Django) stands apart;
- domain apps: ``annotations`` and ``studies``, which know nothing of each other;
- ``ml``, which reads both (generation and scoring inputs come from projects and studies);
- the site: the rest of ``webapp`` (settings, urls, layout, dashboard, demo), on top of everything.

The test reads every module's imports (top level and inside functions) with ``ast``; it imports nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ("webapp.data", "webapp.people", "webapp.specs", "webapp.jobs")
PROJECT = ("webapp", "annotations", "studies", "ml")

# For each package: the project packages it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "webapp.data": ("annotations", "studies", "ml", "webapp.people", "webapp.jobs", "webapp.specs", "site"),
    "webapp.people": ("annotations", "studies", "ml", "webapp.jobs", "webapp.specs", "site"),
    "webapp.specs": ("annotations", "studies", "ml", "webapp.jobs", "site"),
    "webapp.jobs": ("annotations", "studies", "ml", "webapp.specs", "site"),
    "annotations": ("studies", "ml", "site"),
    "studies": ("annotations", "ml", "site"),
    "ml": ("site",),
    "ml.core": ("webapp", "annotations", "studies", "ml", "django"),
}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every dotted name a module imports; ``from a.b import c`` gives ``a.b.c`` (c may be a module or a name:
    the layer is judged by prefix, so either way it lands in the right package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _layer(module: str) -> str | None:
    """The package of FORBIDDEN a dotted name belongs to (the most specific one), "site" for the rest of webapp,
    "django" for Django, None for anything else."""
    for package in ("ml.core", *KERNELS):
        if module == package or module.startswith(package + "."):
            return package
    top = module.split(".")[0]
    if top == "webapp":
        return "site"
    return top if top in (*PROJECT, "django") else None


def backward_arrows(root: Path = ROOT) -> list[str]:
    arrows = set()
    for top in PROJECT:
        for path in sorted((root / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            layer = _layer(_module_name(path, root))
            for imported in _imports(path):
                target = _layer(imported)
                if target and target != layer and target in FORBIDDEN.get(layer, ()):
                    arrows.add(f"{path.relative_to(root)}: {layer} -> {imported}")
    return sorted(arrows)


def test_no_arrow_runs_back():
    arrows = backward_arrows()
    assert not arrows, "imports against the layering (see this module's docstring):\n" + "\n".join(arrows)


def test_each_kernel_exists():
    """The layering names these packages; a rename must update the test rather than let it pass vacuously."""
    for kernel in (*KERNELS, "ml.core"):
        assert (ROOT / kernel.replace(".", "/")).is_dir(), kernel


@pytest.mark.parametrize("source, statement, reported", [
    ("annotations/x.py", "import studies.models", "studies.models"),
    ("studies/x.py", "from annotations.models import Project", "annotations.models.Project"),
    ("webapp/people/x.py", "from webapp import views", "webapp.views"),
    ("webapp/jobs/x.py", "from ml.services import jobs", "ml.services.jobs"),
    ("ml/core/x.py", "from django.db import models", "django.db.models"),
])
def test_the_walker_reports_a_planted_backward_arrow(tmp_path, source, statement, reported):
    """The check can fail: a backward import planted in a copy-shaped tree is reported, and only that one."""
    for top in PROJECT:
        (tmp_path / top).mkdir()
    (tmp_path / "webapp" / "views.py").write_text("from annotations import models\nfrom ml.core import scores\n")
    planted = tmp_path / source
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(f"def later():\n    {statement}\n", encoding="utf-8")
    assert backward_arrows(tmp_path) == [f"{source}: {_layer(source[:-3].replace('/', '.'))} -> {reported}"]
