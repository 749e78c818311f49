"""Real export files for the training tests: a project with labels in the database, written by
the platform's own label export (``labels_export``), and a study's preference exports.

Texts are drawn from the tiny tokenizer's vocabulary (``conftest.SENTENCES``), so the tiny
models see words, not ``<unk>``; a "learnable" label is the share of caring words in the text.
"""

from __future__ import annotations

import random
from pathlib import Path

from annotations.services.exporting import labels_export
from annotations.spec import spec_hash, spec_normalize
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory

CARING = ["sorry", "here", "for", "you", "alone", "better", "painful", "hard", "not"]
NEUTRAL = ["weather", "nice", "walk", "long", "went", "we", "so", "the", "dog", "house", "quiet", "job", "today"]
LIKERT = {"type": "likert", "min": 1, "max": 5, "level": "interval"}


def likert(name: str) -> dict:
    return {"name": name, "question": f"How much {name}?", **LIKERT}


def caring_text(rng: random.Random, share: float, words: int = 8) -> str:
    return " ".join(rng.choice(CARING) if rng.random() < share else rng.choice(NEUTRAL) for _ in range(words))


def project_with_labels(*, kind: str, dimensions: list[dict], items: list[tuple[dict, list[dict]]],
                        countries: list[str] | None = None):
    """A project of ``kind``; each item is (data, one values dict per annotator)."""
    raw = {"slug": "train-demo", "title": "Train demo", "kind": kind, "overlap": 3, "dimensions": dimensions,
           "export": {"allow_attributes": True}}
    spec = spec_normalize(raw)
    project = ProjectFactory(slug=raw["slug"], kind=kind, overlap=3, spec=spec, spec_hash=spec_hash(spec))
    width = max(len(labels) for _, labels in items)
    countries = countries or ["A"] * width
    people = [UserFactory(username=f"rater{k}", attributes={"country": countries[k]}) for k in range(width)]
    for number, (data, labels) in enumerate(items):
        item = ItemFactory(project=project, external_id=f"i{number:03d}", data=data)
        for person, values in zip(people, labels, strict=False):
            LabelFactory(item=item, project=project, annotator=person, values=values)
    return project


def export_file(project, folder: Path) -> Path:
    path = Path(folder) / f"{project.slug}-labels.jsonl"
    labels_export(project=project, out=str(path), fmt="jsonl")
    return path


def learnable_items(kind: str, n: int, *, seed: int = 0, raters: int = 3, dimension: str = "empathy"):
    """Items whose label follows the share of caring words (1–5), with a little rater noise."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        share = rng.random()
        if kind == "pair":
            other = min(max(share + rng.uniform(-0.15, 0.15), 0.0), 1.0)
            data = {"text_a": caring_text(rng, share), "text_b": caring_text(rng, other)}
            signal = 1 + 3 * min(share, other)
        elif kind == "response":
            data = {"context": "I lost my job today", "response": caring_text(rng, share)}
            signal = 1 + 4 * share
        else:
            data = {"text": caring_text(rng, share)}
            signal = 1 + 4 * share
        hi = 4 if kind == "pair" else 5
        labels = [{dimension: int(min(max(round(signal + rng.choice([-1, 0, 0, 1]) * 0.6), 1), hi))}
                  for _ in range(raters)]
        out.append((data, labels))
    return out
