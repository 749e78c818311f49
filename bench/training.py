"""Training throughput per recipe, on the offline default models (MiniLM encoder, SmolLM2-135M).

Each recipe trains through ``ml.core.training.train`` from files in the platform's export
formats (a label export with one row per label; a study's dpo export), written here from
synthetic texts of widely varying length. Figures per recipe: samples/s and real (non-padding)
tokens/s inside ``trainer.train``, and peak memory (the accelerator's peak on CUDA; on CPU the
process's peak RSS so far, so later recipes include earlier ones).

The naive way, in the same run: for ``reward-model`` and ``sft`` the same data is trained twice,
once with random batches (each padded to its longest text) and once with length-grouped batches
(``sampling=group_by_length``); ``ratio`` is grouped tokens/s over random tokens/s. The two are
run in alternating order per repeat so a busy machine favours neither. ``bi-encoder``, ``dpo`` and
``preference-rm`` are timed once (their trainers build their own batches).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import parse_args, print_result, set_threads  # noqa: E402

WORDS = ("I feel so alone since my mother died and nobody calls me anymore . That sounds really hard , "
         "I am here for you . We moved to a new city and work has been awful every single day").split()
DIMS = [{"name": "empathy", "type": "likert", "min": 1, "max": 5, "level": "interval"}]


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def label_export(path: Path, kind: str, count: int, rng: random.Random) -> Path:
    """Rows as ``annotations.services.exporting`` writes them (aggregate none, JSONL)."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            if kind == "pair":
                fields = {"text_a": _text(rng, 4, 120), "text_b": _text(rng, 4, 120)}
            elif kind == "response":
                fields = {"context": f"{_text(rng, 4, 30)} ({i % 8})", "response": _text(rng, 4, 100)}
            else:
                fields = {"text": _text(rng, 4, 200)}
            for rater in range(2):
                row = {"label_id": i * 2 + rater, "project": "bench", "item_id": f"i{i}", "item_kind": kind, **fields,
                       "item_metadata": "{}", "annotator": f"r{rater}", "source": "import",
                       "created_at": "2026-01-01T00:00:00+00:00", "seconds": None,
                       "empathy": rng.randint(1, 5 if kind != "pair" else 4)}
                handle.write(json.dumps(row) + "\n")
    return path


def dpo_export(path: Path, count: int, rng: random.Random) -> Path:
    """Lines as ``studies.export`` writes them in the dpo format."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            context, chosen, rejected = _text(rng, 4, 40), _text(rng, 4, 60), _text(rng, 4, 60)
            handle.write(json.dumps({
                "prompt": [{"role": "user", "content": context}], "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}], "prompt_text": f"seeker: {context}",
                "chosen_text": chosen, "rejected_text": rejected, "weight": 1.0, "criterion": "overall",
                "prompt_id": f"p{i}", "chosen_system": "a", "rejected_system": "b", "votes_chosen": 1,
                "votes_rejected": 0, "ties": 0, "participants": ["x"]}) + "\n")
    return path


def real_tokens(recipe: str, base: str, source: Path, train_ids: set[str], max_length: int) -> int:
    """Non-padding tokens of one epoch of the training part, as the recipe tokenizes it (approximately
    for the chat recipes: the chat template's tokens included)."""
    from transformers import AutoTokenizer

    from ml.core.training.data import labels_read, preferences_read

    tokenizer = AutoTokenizer.from_pretrained(base)

    def n(first, second=None) -> int:
        return len(tokenizer(first, second, truncation=True, max_length=max_length)["input_ids"])

    if recipe in ("dpo", "preference-rm"):
        pairs = [p for p in preferences_read(source) if p.prompt_id in train_ids]
        return sum(n(p.prompt_text + "\n" + p.chosen_text) + n(p.prompt_text + "\n" + p.rejected_text) for p in pairs)
    items = labels_read(source)
    if recipe == "sft":
        import hashlib

        keep = [i for i in items if "prompt-" + hashlib.sha256(str(i.fields.get("context")).encode()).hexdigest()[:16]
                in train_ids]
        return sum(n(str(i.fields["context"]), str(i.fields["response"])) for i in keep)
    keep = [i for i in items if i.item_id in train_ids]
    if recipe == "bi-encoder":
        return sum(n(i.fields["text_a"]) + n(i.fields["text_b"]) for i in keep)
    return sum(n(*i.input_text()) for i in keep)


def run(recipe: str, base: str, source: Path, out: Path, device: str, overrides: dict) -> dict:
    from ml.core.training import TrainRequest, train

    outcome = train(TrainRequest(recipe=recipe, base=base, out=out, source=source, dimensions=DIMS, device=device,
                                 overrides={"heldout": 0.1, "validation": 0.0, "save_steps": 10_000,
                                            "logging_steps": 1000, "epochs": 1.0, **overrides}))
    train_ids = set(outcome.split["parts"]["train"])
    seconds = outcome.record["train_seconds"]
    samples = len(train_ids) if recipe != "sft" else sum(outcome.details["selected"].values())
    tokens = real_tokens(recipe, base, source, train_ids, overrides.get("max_length", 256))
    return {"samples_per_s": round(samples / seconds, 2), "tokens_per_s": round(tokens / seconds, 1),
            "train_seconds": round(seconds, 2), "steps": outcome.record["steps"],
            "peak_memory_mb": outcome.record["peak_memory_mb"]}


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], lambda p: (
        p.add_argument("--device", default="cpu", help="cpu, cuda, ..."),
        p.add_argument("--threads", type=int, default=os.cpu_count()),
        p.add_argument("--repeats", type=int, default=None),
        p.add_argument("--recipes", default="", help="comma-separated subset, e.g. reward-model,sft"),
    ))
    set_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ml.defaults import default_encoder_path, default_generator_path

    encoder, generator = str(default_encoder_path()), str(default_generator_path())
    quick = args.quick
    sizes = {"encoder": 32 if quick else 400, "sft": 8 if quick else 128, "pairs": 6 if quick else 96}
    short = 96 if quick else 256  # --quick: shorter texts so SmolLM2 on two CPU cores stays under a minute
    repeats = args.repeats or (1 if quick else 3)
    rng = random.Random(0)
    figures: dict = {"quick": quick, "device": args.device, "repeats": repeats, "recipes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        narrative = label_export(folder / "narrative.jsonl", "narrative", sizes["encoder"], rng)
        pairs = label_export(folder / "pair.jsonl", "pair", sizes["encoder"], rng)
        responses = label_export(folder / "response.jsonl", "response", sizes["sft"], rng)
        prefs = dpo_export(folder / "prefs.jsonl", sizes["pairs"], rng)
        plans = [
            ("reward-model", encoder, narrative, {"batch_size": 16, "max_length": short}, True),
            ("sft", generator, responses, {"batch_size": 4, "max_length": short if quick else 192, "top_k": 2},
             True),
            ("bi-encoder", encoder, pairs, {"batch_size": 16, "max_length": short // 2}, False),
            ("preference-rm", encoder, prefs, {"batch_size": 8, "max_length": short}, False),
            ("dpo", generator, prefs, {"batch_size": 2, "max_length": short if quick else 192}, False),
        ]
        wanted = [r.strip() for r in args.recipes.split(",") if r.strip()]
        plans = [plan for plan in plans if not wanted or plan[0] in wanted]
        for number, (recipe, base, source, overrides, compare) in enumerate(plans):
            runs: dict[str, list[dict]] = {"random": [], "group_by_length": []}
            for repeat in range(repeats):
                order = ["random", "group_by_length"] if compare else ["random"]
                if compare and repeat % 2:
                    order.reverse()
                for sampling in order:
                    out = folder / f"run-{number}-{repeat}-{sampling}"
                    runs[sampling].append(run(recipe, base, source, out, args.device, {**overrides, "sampling": sampling}))
            best = {k: max(v, key=lambda r: r["tokens_per_s"]) for k, v in runs.items() if v}
            entry = {"naive_random_batches": best["random"]}
            if compare:
                entry["length_grouped"] = best["group_by_length"]
                entry["ratio_tokens_per_s"] = round(best["group_by_length"]["tokens_per_s"]
                                                    / best["random"]["tokens_per_s"], 2)
            figures["recipes"][recipe] = entry
            shown = entry.get("length_grouped", entry["naive_random_batches"])
            print(f"{recipe}: {shown['samples_per_s']} samples/s, {shown['tokens_per_s']} tokens/s"
                  + (f", length-grouped/random {entry['ratio_tokens_per_s']}x" if compare else ""), flush=True)
    print_result("training", figures)


if __name__ == "__main__":
    main()
