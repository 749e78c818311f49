"""Recipe ``reward-model``: one output per dimension on an encoder, from means or soft labels.

``targets="mean"``: a regression head, trained on each item's mean rescaled to [0, 1] (MSE,
missing dimensions masked); the scale is folded back into the head afterwards, so the saved
model outputs values on the schema's scale and ``RewardModelScorer`` loads it as it is.
``targets="distribution"``: per dimension one logit per scale point, trained with cross-entropy
against the item's distribution of labels (soft labels), so the model predicts the spread as
well as the mean; ``config.resonance_soft_labels`` records the points, and the predicted value
is the expectation.
"""

from __future__ import annotations

import math

import torch

from ml.core.training.common import (
    RecipeResult,
    RunContext,
    run_trainer,
    scale_of,
    scale_points,
    trainer_arguments,
)
from ml.core.training.data import LabelItem, TrainingDataError
from ml.core.training.metrics import agreement_with_model, regression_metrics


def numeric_dimensions(items: list[LabelItem], dimensions: list[dict]) -> list[dict]:
    """The spec's numeric, per-item dimensions that the export has values for."""
    present = {name for item in items for name in item.ratings}
    out = [d for d in dimensions if d.get("type") in ("likert", "levels", "slider", "number")
           and not d.get("per_turn") and d["name"] in present]
    if not out:
        raise TrainingDataError("dimensions", "the project has no numeric per-item dimension with labels")
    for d in out:
        scale_of(d)
    return out


def _targets(item: LabelItem, dims: list[dict], mode: str) -> list[float]:
    row: list[float] = []
    for d in dims:
        lo, hi = scale_of(d)
        values = list(item.ratings.get(d["name"], {}).values())
        if mode == "mean":
            row.append((sum(values) / len(values) - lo) / (hi - lo) if values else math.nan)
            continue
        points = scale_points(d)
        counts = [0.0] * len(points)
        for v in values:
            counts[min(range(len(points)), key=lambda i: abs(points[i] - v))] += 1
        total = sum(counts)
        row.extend([c / total for c in counts] if total else [math.nan] * len(points))
    return row


def _soft_loss(layout: list[int]):
    def loss(outputs, labels, num_items_in_batch=None):
        logits, total, start = outputs["logits"], 0.0, 0
        for width in layout:
            part, target = logits[:, start:start + width], labels[:, start:start + width]
            keep = ~torch.isnan(target[:, 0])
            if keep.any():
                total = total - (target[keep] * torch.log_softmax(part[keep].float(), dim=-1)).sum(-1).mean()
            start += width
        return total

    return loss


def _masked_mse(outputs, labels, num_items_in_batch=None):
    keep = ~torch.isnan(labels)
    return ((outputs["logits"].float()[keep] - labels[keep]) ** 2).mean()


def _encode(tokenizer, items: list[LabelItem], max_length: int) -> list[dict]:
    out = []
    for item in items:
        first, second = item.input_text()
        out.append(dict(tokenizer(first, second, truncation=True, max_length=max_length)))
    return out


def _fold_scale(model, dims: list[dict]) -> None:
    """Maps the head's [0, 1] outputs back onto each dimension's scale (W·s, b·s + lo)."""
    head = getattr(model, "classifier", None) or getattr(model, "score", None)
    head = getattr(head, "out_proj", head)
    if not isinstance(head, torch.nn.Linear):
        raise TrainingDataError("base", f"{type(model).__name__} has no linear head to put the scale in")
    span = torch.tensor([scale_of(d)[1] - scale_of(d)[0] for d in dims], dtype=head.weight.dtype)
    low = torch.tensor([scale_of(d)[0] for d in dims], dtype=head.weight.dtype)
    with torch.no_grad():
        head.weight.mul_(span[:, None].to(head.weight.device))
        if head.bias is None:
            raise TrainingDataError("base", "the model's head has no bias to hold the scale's bottom")
        head.bias.mul_(span.to(head.bias.device)).add_(low.to(head.bias.device))


def load_for_prediction(path: str, dims: list[dict]):
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    config = AutoConfig.from_pretrained(path)
    soft = getattr(config, "resonance_soft_labels", None)
    width = sum(len(v) for v in soft.values()) if soft else len(dims)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=width, problem_type="regression", ignore_mismatched_sizes=True)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer, soft


@torch.inference_mode()
def reward_model_predict(path: str, items: list[LabelItem], dims: list[dict], *, max_length: int = 256,
                         batch_size: int = 32) -> dict[str, dict[str, float]]:
    """dimension -> item id -> predicted value on the dimension's scale (a parent with an untrained
    head included: that is the parent's honest score)."""
    model, tokenizer, soft = load_for_prediction(path, dims)
    encoded = _encode(tokenizer, items, max_length)
    rows = []
    for start in range(0, len(encoded), batch_size):
        batch = tokenizer.pad(encoded[start:start + batch_size], return_tensors="pt")
        rows.append(model(**batch).logits.float())
    logits = torch.cat(rows) if rows else torch.zeros(0, 1)
    out: dict[str, dict[str, float]] = {d["name"]: {} for d in dims}
    if soft:
        start = 0
        for d in dims:
            points = torch.tensor(soft[d["name"]])
            probs = torch.softmax(logits[:, start:start + len(points)], dim=-1)
            values = (probs * points).sum(-1)
            start += len(points)
            out[d["name"]] = {item.item_id: float(v) for item, v in zip(items, values, strict=True)}
        return out
    for column, d in enumerate(dims):
        out[d["name"]] = {item.item_id: float(v) for item, v in zip(items, logits[:, column], strict=True)}
    return out


def reward_model_evaluate(path: str, items: list[LabelItem], dims: list[dict], *, max_length: int = 256) -> dict:
    """Per dimension: Pearson, Spearman, MSE against the human mean, and agreement with humans."""
    predicted = reward_model_predict(path, items, dims, max_length=max_length)
    out = {}
    for d in dims:
        name = d["name"]
        scored = [i for i in items if i.ratings.get(name)]
        metrics = regression_metrics([predicted[name][i.item_id] for i in scored], [i.mean(name) for i in scored])
        level = d.get("level") if d.get("level") in ("ordinal", "interval", "ratio") else "interval"
        metrics.update(agreement_with_model({i.item_id: i.ratings[name] for i in scored}, predicted[name], level=level))
        out[name] = metrics
    return {"dimensions": out, "predictions": predicted}


def _means(items: list[LabelItem], dims: list[dict]) -> dict[str, dict[str, float]]:
    return {d["name"]: {i.item_id: i.mean(d["name"]) for i in items if i.ratings.get(d["name"])} for d in dims}


def train_reward_model(ctx: RunContext, parts: dict[str, list[LabelItem]]) -> RecipeResult:
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    mode = ctx.params["targets"]
    if mode not in ("mean", "distribution"):
        raise TrainingDataError("targets", f"must be mean or distribution, not {mode!r}")
    dims = numeric_dimensions(parts["train"], ctx.dimensions)
    layout = [len(scale_points(d)) for d in dims] if mode == "distribution" else [1] * len(dims)
    tokenizer = AutoTokenizer.from_pretrained(ctx.base)
    labels = ([f"{d['name']}={p:g}" for d in dims for p in scale_points(d)] if mode == "distribution"
              else [d["name"] for d in dims])
    model = AutoModelForSequenceClassification.from_pretrained(
        ctx.base, num_labels=len(labels), problem_type="regression", ignore_mismatched_sizes=True,
        id2label=dict(enumerate(labels)), label2id={v: k for k, v in enumerate(labels)})
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id

    def dataset(items):
        rows = _encode(tokenizer, items, ctx.params["max_length"])
        for row, item in zip(rows, items, strict=True):
            row["labels"] = _targets(item, dims, mode)
        return Dataset.from_list(rows) if rows else None

    train, validation = dataset(parts["train"]), dataset(parts["validation"])
    args = TrainingArguments(**trainer_arguments(ctx, has_eval=validation is not None))
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=validation,
                      data_collator=DataCollatorWithPadding(tokenizer),
                      compute_loss_func=_soft_loss(layout) if mode == "distribution" else _masked_mse)
    steps, resumed, history = run_trainer(trainer, ctx)
    model = trainer.model
    if mode == "mean":
        _fold_scale(model, dims)
    else:
        model.config.resonance_soft_labels = {d["name"]: scale_points(d) for d in dims}
    model.config.resonance_dimensions = [d["name"] for d in dims]
    model.save_pretrained(ctx.model_dir)
    tokenizer.save_pretrained(ctx.model_dir)
    heldout = parts["heldout"]
    new = reward_model_evaluate(str(ctx.model_dir), heldout, dims, max_length=ctx.params["max_length"])
    old = reward_model_evaluate(ctx.base, heldout, dims, max_length=ctx.params["max_length"])
    return RecipeResult(model_dir=ctx.model_dir, kind="scorer", adapter=False, metrics=new["dimensions"],
                        parent_metrics=old["dimensions"], log_history=history, steps=steps, resumed_from=resumed,
                        details={"predictions": new["predictions"], "dimensions": [d["name"] for d in dims],
                                 "heldout_means": _means(heldout, dims)})

