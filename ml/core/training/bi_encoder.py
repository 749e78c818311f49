"""Recipe ``bi-encoder``: narrative-pair similarity by contrastive learning with
sentence-transformers' trainer. Labels are the pair's mean on one dimension, rescaled from the
schema's scale to [0, 1]; losses: ``cosent`` (default), ``angle``, ``cosine``."""

from __future__ import annotations

from ml.core.similarity import PairSimilarity
from ml.core.training.common import RecipeResult, RunContext, run_trainer, scale_of, trainer_arguments
from ml.core.training.data import LabelItem, TrainingDataError
from ml.core.training.metrics import midpoint_classification, regression_metrics

LOSSES = ("cosent", "angle", "cosine")


def similarity_dimension(items: list[LabelItem], dimensions: list[dict], name: str | None) -> dict:
    numeric = [d for d in dimensions if d.get("type") in ("likert", "levels", "slider", "number")
               and any(d["name"] in i.ratings for i in items)]
    if name:
        found = [d for d in numeric if d["name"] == name]
        if not found:
            raise TrainingDataError("dimension", f"{name!r} is not a numeric dimension with labels "
                                                 f"(there are {', '.join(d['name'] for d in numeric) or 'none'})")
        return found[0]
    if len(numeric) == 1:
        return numeric[0]
    for d in numeric:
        if "overall" in d["name"] or "empath" in d["name"]:
            return d
    raise TrainingDataError("dimension", "several numeric dimensions; name the one to learn")


def bi_encoder_evaluate(path: str, items: list[LabelItem], dimension: dict) -> dict:
    lo, hi = scale_of(dimension)
    name = dimension["name"]
    scored = [i for i in items if i.ratings.get(name)]
    predicted = PairSimilarity(path, device="cpu").score_on_scale([i.input_text() for i in scored], lo, hi)
    target = [i.mean(name) for i in scored]
    out = regression_metrics(predicted, target)
    out.update(midpoint_classification(predicted, target, midpoint=(lo + hi) / 2))
    return {"dimensions": {name: out}, "predictions": {name: dict(zip([i.item_id for i in scored], predicted,
                                                                         strict=True))}}


def train_bi_encoder(ctx: RunContext, parts: dict[str, list[LabelItem]]) -> RecipeResult:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer import losses

    if any(i.kind != "pair" for i in parts["train"]):
        raise TrainingDataError("recipe", "bi-encoder trains on pair items; this project's items are not pairs")
    loss_name = ctx.params["loss"]
    if loss_name not in LOSSES:
        raise TrainingDataError("loss", f"must be one of {', '.join(LOSSES)}, not {loss_name!r}")
    dimension = similarity_dimension(parts["train"], ctx.dimensions, ctx.params["dimension"])
    lo, hi = scale_of(dimension)
    model = SentenceTransformer(ctx.base, device=ctx.device, local_files_only=True)
    model.max_seq_length = min(model.max_seq_length or ctx.params["max_length"], ctx.params["max_length"])

    def dataset(items):
        rows = [{"sentence1": i.input_text()[0], "sentence2": i.input_text()[1],
                 "score": (i.mean(dimension["name"]) - lo) / (hi - lo)} for i in items if i.ratings.get(dimension["name"])]
        return Dataset.from_list(rows) if rows else None

    loss = {"cosent": losses.CoSENTLoss, "angle": losses.AnglELoss, "cosine": losses.CosineSimilarityLoss}[loss_name]
    train, validation = dataset(parts["train"]), dataset(parts["validation"])
    args = SentenceTransformerTrainingArguments(**trainer_arguments(ctx, has_eval=validation is not None))
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, eval_dataset=validation,
                                         loss=loss(model))
    steps, resumed, history = run_trainer(trainer, ctx)
    model.save(str(ctx.model_dir))
    new = bi_encoder_evaluate(str(ctx.model_dir), parts["heldout"], dimension)
    old = bi_encoder_evaluate(ctx.base, parts["heldout"], dimension)
    return RecipeResult(model_dir=ctx.model_dir, kind="similarity", adapter=False, metrics=new["dimensions"],
                        parent_metrics=old["dimensions"], log_history=history, steps=steps, resumed_from=resumed,
                        details={"predictions": new["predictions"], "dimensions": [dimension["name"]],
                                 "heldout_means": {dimension["name"]: {
                                     i.item_id: i.mean(dimension["name"]) for i in parts["heldout"]
                                     if i.ratings.get(dimension["name"])}}})
