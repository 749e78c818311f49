"""Recipes ``sft`` and ``dpo``: a generator fine-tuned with LoRA through peft and TRL.

``sft``: highly rated responses (threshold, or top-k per prompt, on the item's mean of one
dimension, or of every numeric dimension rescaled to [0, 1]) as conversational prompt /
completion pairs: TRL applies the chat template and computes the loss on the completion only.
``dpo``: a study's preference export as it is (conversational prompt / chosen / rejected);
pairs whose ``weight`` is below ``min_weight`` are left out; with a peft model TRL's reference is
the base with the adapters switched off. Both save the adapter only (``adapter_config.json``
names the base) beside the tokenizer.
"""

from __future__ import annotations

import torch

from ml.core.training.common import (
    RecipeResult,
    RunContext,
    lora_target_check,
    run_trainer,
    scale_of,
    trainer_arguments,
)
from ml.core.training.data import LabelItem, PreferencePair, TrainingDataError
from ml.core.training.metrics import pair_accuracy


def prompt_messages(context) -> list[dict]:
    if isinstance(context, list):
        return [{"role": "user" if t.get("speaker") == "seeker" else "assistant", "content": str(t.get("text", ""))}
                for t in context]
    return [{"role": "user", "content": str(context or "")}]


def item_score(item: LabelItem, dimensions: list[dict], name: str | None) -> float | None:
    numeric = [d for d in dimensions if d.get("type") in ("likert", "levels", "slider", "number")]
    if name:
        if name not in {d["name"] for d in numeric}:
            raise TrainingDataError("dimension", f"{name!r} is not a numeric dimension of the project")
        return item.mean(name)
    scores = []
    for d in numeric:
        value = item.mean(d["name"])
        if value is not None:
            lo, hi = scale_of(d)
            scores.append((value - lo) / (hi - lo))
    return sum(scores) / len(scores) if scores else None


def sft_select(items: list[LabelItem], dimensions: list[dict], *, name: str | None, threshold: float | None,
               top_k: int | None) -> list[LabelItem]:
    """The responses to learn from: score >= ``threshold`` or else the ``top_k`` best per prompt."""
    if any(i.kind != "response" for i in items):
        raise TrainingDataError("recipe", "sft trains on context + response items; this project's are not")
    scored = [(item_score(i, dimensions, name), i) for i in items]
    scored = [(s, i) for s, i in scored if s is not None]
    if threshold is not None:
        return [i for s, i in scored if s >= float(threshold)]
    by_prompt: dict[str, list] = {}
    for s, i in scored:
        by_prompt.setdefault(str(i.fields.get("context")), []).append((s, i))
    return [i for group in by_prompt.values() for _, i in sorted(group, key=lambda x: -x[0])[: int(top_k or 1)]]


def _lora(ctx: RunContext, model):
    from peft import LoraConfig

    targets = ctx.params["lora_target_modules"]
    lora_target_check(model, targets)
    return LoraConfig(task_type="CAUSAL_LM", r=int(ctx.params["lora_r"]), lora_alpha=int(ctx.params["lora_alpha"]),
                      lora_dropout=float(ctx.params["lora_dropout"]), target_modules=targets or "all-linear")


def _load_generator(ctx: RunContext):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ctx.base)
    if not tokenizer.chat_template:
        raise TrainingDataError("base", f"{ctx.base} has no chat template; sft and dpo need one")
    try:
        model = AutoModelForCausalLM.from_pretrained(ctx.base)
    except (OSError, ValueError) as exc:
        raise TrainingDataError("base", f"{ctx.base} is not a causal language model ({exc})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


@torch.inference_mode()
def completion_logprob(model, tokenizer, prompt: list[dict], completion: list[dict]) -> float:
    """Mean log-probability per token of ``completion`` after ``prompt`` under the chat template."""
    head = tokenizer.apply_chat_template(prompt, add_generation_prompt=False, tokenize=False)
    full = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    head_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([tokenizer(full, add_special_tokens=False)["input_ids"]], device=model.device)
    logits = model(input_ids=ids).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])[:, 0]
    tail = logp[max(len(head_ids) - 1, 0):]
    return float(tail.mean()) if len(tail) else 0.0


def generator_pair_metrics(model, tokenizer, pairs: list[PreferencePair]) -> dict:
    """Held-out pair accuracy of a generator: the chosen reply more likely per token than the rejected."""
    margins = [completion_logprob(model, tokenizer, p.prompt, p.chosen) - completion_logprob(model, tokenizer,
                                                                                              p.prompt, p.rejected)
               for p in pairs]
    return {"pair_accuracy": pair_accuracy(margins)}


@torch.inference_mode()
def _replies(model, tokenizer, prompts: list[list[dict]], max_new_tokens: int = 32) -> list[str]:
    out = []
    for messages in prompts:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
        generated = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                   pad_token_id=tokenizer.pad_token_id)
        out.append(tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
    return out


def scorer_mean_reward(scorer: dict, model, tokenizer, prompts: list[list[dict]]) -> dict:
    """The active scorer's mean reward over greedy replies to the held-out prompts."""
    from transformers import AutoConfig

    from ml.core.reward_model import RewardModelScorer

    config = AutoConfig.from_pretrained(scorer["path"])
    dimensions = getattr(config, "resonance_dimensions", None) or [config.id2label[i] for i in range(config.num_labels)]
    replies = _replies(model, tokenizer, prompts)
    contexts = ["\n".join(m["content"] for m in messages) for messages in prompts]
    result = RewardModelScorer(scorer["path"], dimensions=tuple(dimensions), device="cpu").score(replies, contexts)
    rewards = [r for r in result.reward if r == r]
    return {"n": len(prompts), "mean": sum(rewards) / len(rewards) if rewards else None,
            "scorer": scorer.get("name") or scorer["path"]}


def _compare(trainer, heldout_dataset, pairs, *, scorer: dict | None = None,
             prompts: list[list[dict]] | None = None) -> tuple[dict, dict]:
    """Metrics of the trained adapter and of the parent (adapters off) on the same held-out data."""
    model, tokenizer = trainer.model, trainer.processing_class
    model.eval()
    new, old = {}, {}
    if scorer and prompts:
        new["scorer_reward"] = scorer_mean_reward(scorer, model, tokenizer, prompts)
        with model.disable_adapter():
            old["scorer_reward"] = scorer_mean_reward(scorer, model, tokenizer, prompts)
    if heldout_dataset is not None:
        new["eval_loss"] = float(trainer.evaluate(heldout_dataset)["eval_loss"])
        with model.disable_adapter():
            old["eval_loss"] = float(trainer.evaluate(heldout_dataset)["eval_loss"])
    if pairs:
        new.update(generator_pair_metrics(model, tokenizer, pairs))
        with model.disable_adapter():
            old.update(generator_pair_metrics(model, tokenizer, pairs))
    return new, old


def train_sft(ctx: RunContext, parts: dict[str, list[LabelItem]]) -> RecipeResult:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    p = ctx.params
    chosen = {name: sft_select(items, ctx.dimensions, name=p["dimension"], threshold=p["threshold"], top_k=p["top_k"])
              for name, items in parts.items()}
    if not chosen["train"]:
        raise TrainingDataError("threshold", "no response in the training part is rated highly enough")
    model, tokenizer = _load_generator(ctx)

    def dataset(items):
        rows = [{"prompt": prompt_messages(i.fields.get("context")),
                 "completion": [{"role": "assistant", "content": str(i.fields.get("response") or "")}]} for i in items]
        return Dataset.from_list(rows) if rows else None

    args = SFTConfig(**trainer_arguments(ctx, has_eval=bool(chosen["validation"])), max_length=int(p["max_length"]),
                     completion_only_loss=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset(chosen["train"]),
                         eval_dataset=dataset(chosen["validation"]), processing_class=tokenizer,
                         peft_config=_lora(ctx, model))
    steps, resumed, history = run_trainer(trainer, ctx)
    heldout = dataset(chosen["heldout"])
    prompts = list({str(i.fields.get("context")): prompt_messages(i.fields.get("context"))
                    for i in parts["heldout"]}.values())
    new, old = _compare(trainer, trainer._prepare_dataset(heldout, tokenizer, args, False, None, "heldout")
                        if heldout is not None else None, [], scorer=ctx.scorer, prompts=prompts)
    trainer.save_model(str(ctx.model_dir))
    tokenizer.save_pretrained(ctx.model_dir)
    return RecipeResult(model_dir=ctx.model_dir, kind="generator", adapter=True, metrics=new, parent_metrics=old,
                        log_history=history, steps=steps, resumed_from=resumed,
                        details={"selected": {k: len(v) for k, v in chosen.items()}})


def train_dpo(ctx: RunContext, parts: dict[str, list[PreferencePair]]) -> RecipeResult:
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    p = ctx.params
    kept = {name: [x for x in pairs if x.weight >= float(p["min_weight"])] for name, pairs in parts.items()}
    if not kept["train"]:
        raise TrainingDataError("min_weight", "no training pair has that much agreement")
    model, tokenizer = _load_generator(ctx)

    def dataset(pairs):
        rows = [{"prompt": x.prompt, "chosen": x.chosen, "rejected": x.rejected} for x in pairs]
        return Dataset.from_list(rows) if rows else None

    args = DPOConfig(**trainer_arguments(ctx, has_eval=bool(kept["validation"])), beta=float(p["beta"]),
                     max_length=int(p["max_length"]))
    trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=dataset(kept["train"]),
                         eval_dataset=dataset(kept["validation"]), processing_class=tokenizer,
                         peft_config=_lora(ctx, model))
    steps, resumed, history = run_trainer(trainer, ctx)
    prompts = list({x.prompt_id: x.prompt for x in parts["heldout"]}.values())
    new, old = _compare(trainer, None, parts["heldout"], scorer=ctx.scorer, prompts=prompts)
    trainer.save_model(str(ctx.model_dir))
    tokenizer.save_pretrained(ctx.model_dir)
    return RecipeResult(model_dir=ctx.model_dir, kind="generator", adapter=True, metrics=new, parent_metrics=old,
                        log_history=history, steps=steps, resumed_from=resumed,
                        details={"pairs": {k: len(v) for k, v in kept.items()}})
