"""What a job works on: the prompts to answer or the texts to score, read from its study or project.

Inputs come back in a fixed order (shortest first, ties by key), so the batches of a job are the
same on every run: a task that runs again after a crash rebuilds exactly the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotations.models import Item, ItemKind
from ml.models import ModelJob
from studies.models import Prompt, Response

DEFAULT_SYSTEM_PROMPT = (
    "You are a caring listener in an emotional-support conversation. Reply to the last message "
    "warmly and briefly, showing you understand how the person feels."
)
# Item kinds each job kind can work on (pairs of narratives have no single text to answer or score).
GENERATION_ITEM_KINDS = ("narrative", "response", "dialogue")
SCORING_ITEM_KINDS = ("narrative", "response", "dialogue")
SIMILARITY_ITEM_KINDS = ("pair",)  # a similarity model scores how alike the two narratives are


class InputError(ValueError):
    """The job's target holds nothing this job can work on; the message says why."""


@dataclass(frozen=True)
class GenerationInput:
    key: str
    turns: tuple[tuple[str, str], ...]  # (speaker, text); the last turn is the one to answer
    prompt_id: int | None = None
    prompt_external_id: str = ""
    item_id: int | None = None


@dataclass(frozen=True)
class ScoringInput:
    key: str
    text: str
    context: str | None
    response_id: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class PairInput:
    key: str
    left: str
    right: str
    item_id: int
    response_id: None = None


def _turns_of_item(item: Item) -> tuple[tuple[str, str], ...]:
    data = item.data or {}
    if item.kind == ItemKind.DIALOGUE:
        return tuple((str(t.get("speaker", "")), str(t.get("text", ""))) for t in data.get("turns") or [])
    if item.kind == ItemKind.RESPONSE:
        return (("seeker", str(data.get("context", ""))),)
    return (("seeker", str(data.get("text", ""))),)


def context_text(turns: tuple[tuple[str, str], ...] | list) -> str:
    """A conversation as one string for a scorer: a lone turn is its text, several are "speaker: text" lines."""
    pairs = [(str(speaker), str(text)) for speaker, text in turns]
    if len(pairs) == 1:
        return pairs[0][1]
    return "\n".join(f"{speaker}: {text}" if speaker else text for speaker, text in pairs)


def _ordered(inputs: list, length) -> list:
    return sorted(inputs, key=lambda row: (length(row), row.key))


def generation_inputs(*, job: ModelJob) -> list[GenerationInput]:
    """One input per study prompt, or per task item of the project (kinds in ``GENERATION_ITEM_KINDS``)."""
    if job.study_id:
        rows = [
            GenerationInput(key=f"prompt:{prompt.pk}", prompt_id=prompt.pk, prompt_external_id=prompt.external_id,
                            turns=tuple((str(t.get("speaker", "")), str(t.get("text", ""))) for t in prompt.context))
            for prompt in Prompt.objects.filter(study_id=job.study_id).order_by("pk")
        ]
    elif job.project_id:
        items = Item.objects.filter(project_id=job.project_id, role=Item.Role.TASK, kind__in=GENERATION_ITEM_KINDS)
        rows = [GenerationInput(key=f"item:{item.pk}", item_id=item.pk, turns=_turns_of_item(item))
                for item in items.order_by("pk")]
    else:
        raise InputError("the job names neither a study nor a project")
    return _ordered(rows, lambda row: sum(len(text) for _, text in row.turns))


def scoring_inputs(*, job: ModelJob) -> list[ScoringInput]:
    """One input per study response (of ``job.system_name`` when set), or per task item of the project."""
    if job.study_id:
        responses = Response.objects.filter(study_id=job.study_id).select_related("prompt")
        if job.system_name:
            responses = responses.filter(system__name=job.system_name)
        rows = [
            ScoringInput(key=f"response:{response.pk}", response_id=response.pk, text=response.text,
                         context=context_text([(t.get("speaker", ""), t.get("text", "")) for t in response.prompt.context]))
            for response in responses.order_by("pk")
        ]
    elif job.project_id:
        rows = []
        items = Item.objects.filter(project_id=job.project_id, role=Item.Role.TASK, kind__in=SCORING_ITEM_KINDS)
        for item in items.order_by("pk"):
            data = item.data or {}
            if item.kind == ItemKind.RESPONSE:
                text, context = str(data.get("response", "")), str(data.get("context", "")) or None
            elif item.kind == ItemKind.DIALOGUE:
                turns = _turns_of_item(item)
                if not turns:
                    continue
                text, context = turns[-1][1], (context_text(turns[:-1]) if len(turns) > 1 else None)
            else:
                text, context = str(data.get("text", "")), None
            rows.append(ScoringInput(key=f"item:{item.pk}", item_id=item.pk, text=text, context=context))
    else:
        raise InputError("the job names neither a study nor a project")
    return _ordered(rows, lambda row: len(row.text) + len(row.context or ""))


def similarity_inputs(*, job: ModelJob) -> list[PairInput]:
    """One input per pair item of the job's project (a similarity job scores projects only)."""
    if not job.project_id:
        raise InputError("a similarity job scores the pair items of an annotation project, not a study")
    items = Item.objects.filter(
        project_id=job.project_id, role=Item.Role.TASK, kind__in=SIMILARITY_ITEM_KINDS
    )
    rows = [
        PairInput(
            key=f"item:{item.pk}",
            item_id=item.pk,
            left=str((item.data or {}).get("text_a", "")),
            right=str((item.data or {}).get("text_b", "")),
        )
        for item in items.order_by("pk")
    ]
    return _ordered(rows, lambda row: len(row.left) + len(row.right))


def chat_messages(turns: tuple[tuple[str, str], ...], *, system_prompt: str) -> list[dict[str, str]]:
    """Chat messages for a conversation: the last speaker is the ``user`` we answer, everyone else the
    ``assistant``; consecutive turns of one role are merged, since chat templates expect alternation."""
    if not turns:
        raise InputError("a prompt has no turns")
    seeker = turns[-1][0]
    messages: list[dict[str, str]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    for speaker, text in turns:
        role = "user" if speaker == seeker else "assistant"
        if len(messages) > (1 if system_prompt else 0) and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n" + text
        else:
            messages.append({"role": role, "content": text})
    return messages


def plain_prompt(turns: tuple[tuple[str, str], ...], *, system_prompt: str) -> str:
    """The same conversation as plain text, for models without a chat template."""
    lines = [system_prompt] if system_prompt else []
    lines += [f"{speaker or 'seeker'}: {text}" for speaker, text in turns]
    lines.append("supporter:")
    return "\n".join(lines)
