"""Generation throughput: SmolLM2-135M-Instruct batched (16) vs one prompt at a time.

Greedy decoding, the same chat prompts and ``max_new_tokens`` for every variant, so all do
the same work; only real new tokens count (each row stops at its own end-of-turn token).
Variants:
- ``single``: ``Generator.generate`` called with one prompt at a time;
- ``batched``: one call over all prompts, batch 16, prompts sorted by length (ours);
- ``batched_unsorted``: batch 16 over the prompts in their given order (each call sorts
  only within its own batch), to show what global length sorting buys.
Also printed: padding share of prompt tokens with and without sorting, and the share of
decode slots spent on rows that had already stopped (rows wait for the longest in their batch).
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import parse_args, print_result, set_threads, timed_with_cpu  # noqa: E402

OPENINGS = (
    "I failed my driving test for the third time today.",
    "My best friend moved to another country and I miss her.",
    "I got the job I wanted!",
    "My cat is sick and the vet bills are piling up.",
    "I can't sleep because I keep worrying about my exams.",
    "My father was just diagnosed with diabetes.",
    "Nobody came to my birthday party.",
    "I have been feeling lonely since I started working from home.",
)
DETAILS = (
    "I don't know what to do.",
    "Everyone tells me it will be fine but it doesn't feel like it.",
    "I keep thinking about it all day, at work and at night, and I can't focus on anything else at all.",
    "",
    "My family doesn't really understand.",
)


def chat_prompts(count: int, seed: int = 0) -> list[list[dict[str, str]]]:
    rng = random.Random(seed)
    prompts = []
    for _ in range(count):
        post = " ".join(part for part in (rng.choice(OPENINGS), rng.choice(DETAILS), rng.choice(DETAILS)) if part)
        prompts.append(
            [
                {"role": "system", "content": "You are a kind, supportive listener. Reply in two or three sentences."},
                {"role": "user", "content": post},
            ]
        )
    return prompts


def padding_share(lengths: list[int], batch_size: int) -> float:
    padded = sum(max(lengths[i : i + batch_size]) * len(lengths[i : i + batch_size]) for i in range(0, len(lengths), batch_size))
    return 1 - sum(lengths) / padded


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0], lambda p: p.add_argument("--threads", type=int, help="torch intra-op threads")
    )
    set_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ml.core.generation import Generator
    from ml.defaults import default_generator_path

    count, max_new_tokens, batch_size = (16, 16, 16) if args.quick else (64, 64, 16)
    prompts = chat_prompts(count)
    generator = Generator(default_generator_path())
    settings = {"max_new_tokens": max_new_tokens, "temperature": 0.0}

    generator.generate(prompts[:2], max_new_tokens=4, temperature=0.0, batch_size=2)  # warm-up
    single, single_seconds, single_cpu = timed_with_cpu(lambda: [generator.generate([p], **settings)[0] for p in prompts])
    batched, batched_seconds, batched_cpu = timed_with_cpu(
        lambda: generator.generate(prompts, batch_size=batch_size, **settings)
    )
    unsorted: list = []
    if count > batch_size:
        _, unsorted_seconds, _ = timed_with_cpu(
            lambda: [
                unsorted.extend(generator.generate(prompts[i : i + batch_size], batch_size=batch_size, **settings))
                for i in range(0, count, batch_size)
            ]
        )

    single_tokens = sum(result.new_tokens for result in single)
    batched_tokens = sum(result.new_tokens for result in batched)
    same_text = sum(a.text == b.text for a, b in zip(single, batched, strict=True))
    lengths = [len(generator.encode(prompt)) for prompt in prompts]
    sorted_lengths = sorted(lengths, reverse=True)
    # Decode slots: each batch runs as many steps as its longest row needs.
    order = sorted(range(count), key=lambda i: -lengths[i])
    slots = sum(
        max(batched[i].new_tokens + 1 for i in order[s : s + batch_size]) * len(order[s : s + batch_size])
        for s in range(0, count, batch_size)
    )
    figures = {
        "quick": args.quick,
        "device": str(generator.device),
        "prompts": count,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "single_new_tokens_per_s": round(single_tokens / single_seconds, 1),
        "batched_new_tokens_per_s": round(batched_tokens / batched_seconds, 1),
        "speedup": round((batched_tokens / batched_seconds) / (single_tokens / single_seconds), 2),
        "speedup_by_cpu_time": round((batched_tokens / batched_cpu) / (single_tokens / single_cpu), 2),
        "new_tokens_single": single_tokens,
        "new_tokens_batched": batched_tokens,
        "identical_texts_single_vs_batched": f"{same_text}/{count}",
        "prompt_padding_share_sorted": round(padding_share(sorted_lengths, batch_size), 3),
        "prompt_padding_share_unsorted": round(padding_share(lengths, batch_size), 3),
        "decode_slots_spent_on_stopped_rows": round(1 - (batched_tokens + count) / slots, 3),
    }
    if unsorted:
        unsorted_tokens = sum(result.new_tokens for result in unsorted)
        figures["batched_unsorted_new_tokens_per_s"] = round(unsorted_tokens / unsorted_seconds, 1)
    print(
        f"single: {figures['single_new_tokens_per_s']} tok/s, batched: {figures['batched_new_tokens_per_s']} tok/s "
        f"({figures['speedup']}x); same text in {same_text}/{count}"
    )
    print_result("generation", figures)


if __name__ == "__main__":
    main()
