"""Generation throughput: SmolLM2-135M-Instruct, our batched ``Generator`` vs one prompt at a time.

Greedy decoding, the same chat prompts and ``max_new_tokens`` on both sides; only real new
tokens count (each answer ends at its own end-of-turn token, which is not counted).
- naive: plain ``model.generate`` on one tokenized prompt at a time (what one would write first);
- ours: ``Generator.generate`` over all prompts: sorted by length, batched, the shared prompt
  prefix (system prompt) computed once per batch, finished rows dropped from the batch
  (``ml.core.accel``; ``--acceleration off``: batched ``model.generate``, the plain path).

The naive side is slow, so it runs on an evenly spaced sample of the prompts. To keep a busy
machine from favouring either side, the two are interleaved: after each of our batches (the
``on_batch`` callback) the next few naive prompts run, and each side is timed only over its own
stretches. Figures: new tokens/s of each side, their ratio (overall, and the median of the
per-round ratios), the same by CPU time, and how many sampled answers came out identical.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import parse_args, print_result, set_threads  # noqa: E402

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
        post = " ".join(
            part for part in (rng.choice(OPENINGS), rng.choice(DETAILS), rng.choice(DETAILS)) if part
        )
        prompts.append(
            [
                {
                    "role": "system",
                    "content": "You are a kind, supportive listener. Reply in two or three sentences.",
                },
                {"role": "user", "content": post},
            ]
        )
    return prompts


class Stopwatch:
    """Adds up wall and CPU seconds over several stretches (start/stop pairs)."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.laps: list[float] = []
        self._started: tuple[float, float] | None = None

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        assert self._started is not None
        wall = time.perf_counter() - self._started[0]
        self.wall += wall
        self.cpu += time.process_time() - self._started[1]
        self.laps.append(wall)
        self._started = None


def naive_answer(model, generator, prompt, max_new_tokens: int) -> list[int]:
    """One prompt through plain ``model.generate`` (greedy) on the model as transformers loads it;
    new token ids up to the first stop token (tokenized and cut as ``generator`` does)."""
    import torch

    ids = generator.encode(prompt)
    with torch.inference_mode():
        output = model.generate(
            torch.tensor([ids], device=model.device),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=model.device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=generator.tokenizer.pad_token_id,
        )
    row = output[0, len(ids) :].tolist()
    stops = [position for position, token in enumerate(row) if token in generator.stop_token_ids]
    return row[: stops[0]] if stops else row


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda p: (
            p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads, both sides"),
            p.add_argument("--batch-size", type=int, default=32, help="our batch size"),
            p.add_argument(
                "--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, ..."
            ),
            p.add_argument("--acceleration", default="auto", choices=("auto", "off"), help="our Generator's path"),
        ),
    )
    set_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM

    from ml.core.generation import Generator
    from ml.defaults import default_generator_path

    # Quick: one batch and 3 naive prompts, ~50 s on an idle 2-core machine.
    count, naive_count, max_new_tokens = (32, 3, 48) if args.quick else (96, 12, 64)
    batch_size = args.batch_size
    prompts = chat_prompts(count)
    generator = Generator(default_generator_path(), device=args.device, acceleration=args.acceleration)
    plain_model = AutoModelForCausalLM.from_pretrained(default_generator_path(), dtype=generator.dtype)
    plain_model.to(generator.device).eval()
    naive_indices = [round(i * count / naive_count) for i in range(naive_count)]  # evenly spaced sample
    rounds = -(-count // batch_size)
    per_round = [naive_indices[r::rounds] for r in range(rounds)]

    # Warm-up at the working shapes of each side (a full batch; one whole prompt), so neither
    # pays the process's first-touch costs (allocator growth, kernel set-up) inside its timing.
    generator.generate(prompts[:batch_size], max_new_tokens=4, temperature=0.0, batch_size=batch_size)
    naive_answer(plain_model, generator, prompts[0], 4)

    ours_clock, naive_clock = Stopwatch(), Stopwatch()
    naive_answers: dict[int, list[int]] = {}
    naive_round_tokens: list[int] = []

    def between_batches(done: int, total: int) -> None:
        ours_clock.stop()
        naive_clock.start()
        todo = per_round[len(naive_round_tokens)]
        for index in todo:
            naive_answers[index] = naive_answer(plain_model, generator, prompts[index], max_new_tokens)
        naive_round_tokens.append(sum(len(naive_answers[index]) for index in todo))
        naive_clock.stop()
        ours_clock.start()

    ours_clock.start()
    ours = generator.generate(
        prompts,
        max_new_tokens=max_new_tokens,
        temperature=0.0,
        batch_size=batch_size,
        on_batch=between_batches,
    )
    ours_clock.stop()

    ours_tokens = sum(result.new_tokens for result in ours)
    naive_tokens = sum(len(answer) for answer in naive_answers.values())
    ours_rate, naive_rate = ours_tokens / ours_clock.wall, naive_tokens / naive_clock.wall
    # Per round: our batch's rate (tokens of the prompts in that batch) against the naive prompts run right after it.
    order = sorted(range(count), key=lambda i: (-len(generator.encode(prompts[i])), i))
    round_ratios = []
    for r in range(rounds):
        batch_tokens = sum(ours[i].new_tokens for i in order[r * batch_size : (r + 1) * batch_size])
        if naive_round_tokens[r]:
            naive_seconds = naive_clock.laps[r]
            round_ratios.append((batch_tokens / ours_clock.laps[r]) / (naive_round_tokens[r] / naive_seconds))
    identical = sum(list(ours[i].token_ids) == naive_answers[i] for i in naive_indices)
    figures = {
        "quick": args.quick,
        "device": str(generator.device),
        "acceleration": args.acceleration,
        "prompts": count,
        "naive_prompts": naive_count,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "naive_new_tokens_per_s": round(naive_rate, 1),
        "ours_new_tokens_per_s": round(ours_rate, 1),
        "speedup": round(ours_rate / naive_rate, 2),
        "speedup_median_of_rounds": round(statistics.median(round_ratios), 2),
        "speedup_by_cpu_time": round((ours_tokens / ours_clock.cpu) / (naive_tokens / naive_clock.cpu), 2),
        "new_tokens_ours": ours_tokens,
        "new_tokens_naive": naive_tokens,
        "answers_hitting_max_new_tokens": sum(result.new_tokens == max_new_tokens for result in ours),
        "identical_answers_naive_vs_ours": f"{identical}/{naive_count}",
        "seconds_ours": round(ours_clock.wall, 1),
        "seconds_naive": round(naive_clock.wall, 1),
    }
    print(
        f"naive: {figures['naive_new_tokens_per_s']} tok/s, ours: {figures['ours_new_tokens_per_s']} tok/s "
        f"({figures['speedup']}x, median of rounds {figures['speedup_median_of_rounds']}x); "
        f"identical answers {identical}/{naive_count}"
    )
    print_result("generation", figures)


if __name__ == "__main__":
    main()
