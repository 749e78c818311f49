"""Recipe ``preference-rm``: a scalar reward model from study preferences with TRL's reward
trainer (Bradley–Terry). Where the raw export carries the judgment's strength, the pair's mean
strength is the margin. Inputs are plain text (prompt, then reply), so encoders without a chat
template train too."""

from __future__ import annotations

import torch

from ml.core.training.common import RecipeResult, RunContext, run_trainer, trainer_arguments
from ml.core.training.data import PreferencePair
from ml.core.training.metrics import pair_accuracy


def _texts(pair: PreferencePair) -> tuple[str, str, str]:
    return pair.prompt_text + "\n", pair.chosen_text, pair.rejected_text


@torch.inference_mode()
def preference_rm_evaluate(path: str, pairs: list[PreferencePair], *, max_length: int = 256) -> dict:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, ignore_mismatched_sizes=True).eval()
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id

    def score(text: str) -> float:
        encoded = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
        return float(model(**encoded).logits[0, 0])

    margins = []
    for pair in pairs:
        prompt, chosen, rejected = _texts(pair)
        margins.append(score(prompt + chosen) - score(prompt + rejected))
    return {"pair_accuracy": pair_accuracy(margins)}


def train_preference_rm(ctx: RunContext, parts: dict[str, list[PreferencePair]]) -> RecipeResult:
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    tokenizer = AutoTokenizer.from_pretrained(ctx.base)
    if tokenizer.eos_token is None:  # encoders: TRL ends each text with EOS; theirs is the separator
        tokenizer.eos_token = tokenizer.sep_token or tokenizer.pad_token
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(ctx.base, num_labels=1, ignore_mismatched_sizes=True)
    model.config.pad_token_id = tokenizer.pad_token_id
    use_margin = bool(ctx.params["use_margin"]) and any(p.strength is not None for p in parts["train"])

    def dataset(pairs):
        rows = []
        for pair in pairs:
            prompt, chosen, rejected = _texts(pair)
            row = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
            if use_margin:
                row["margin"] = float(pair.strength or 0.0)
            rows.append(row)
        return Dataset.from_list(rows) if rows else None

    args = RewardConfig(**trainer_arguments(ctx, has_eval=bool(parts["validation"])),
                        max_length=int(ctx.params["max_length"]))
    trainer = RewardTrainer(model=model, args=args, train_dataset=dataset(parts["train"]),
                            eval_dataset=dataset(parts["validation"]), processing_class=tokenizer)
    steps, resumed, history = run_trainer(trainer, ctx)
    trainer.model.save_pretrained(ctx.model_dir)
    tokenizer.save_pretrained(ctx.model_dir)
    new = preference_rm_evaluate(str(ctx.model_dir), parts["heldout"], max_length=ctx.params["max_length"])
    old = preference_rm_evaluate(ctx.base, parts["heldout"], max_length=ctx.params["max_length"])
    return RecipeResult(model_dir=ctx.model_dir, kind="scorer", adapter=False, metrics=new, parent_metrics=old,
                        log_history=history, steps=steps, resumed_from=resumed, details={"margin": use_margin})
