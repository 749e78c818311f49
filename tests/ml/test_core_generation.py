"""Batched generation: order, determinism, batching equivalence, OOM halving, cancellation."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from ml.core.errors import Cancelled, ModelLoadError
from ml.core.generation import GenerationResult, Generator

PROMPTS = [
    "I lost my job",
    [{"role": "user", "content": "my dog died last week and the house is so quiet"}],
    "you are not alone",
    [{"role": "system", "content": "be kind"}, {"role": "user", "content": "I feel lost"}],
    "the weather was nice so we went for a long walk",
]


def test_returns_one_result_per_prompt_in_input_order_matching_one_at_a_time(tiny_generator):
    batched = tiny_generator.generate(PROMPTS, max_new_tokens=6, temperature=0, batch_size=2)
    singles = [tiny_generator.generate([prompt], max_new_tokens=6, temperature=0)[0] for prompt in PROMPTS]

    assert len(batched) == len(PROMPTS)
    assert all(isinstance(result, GenerationResult) for result in batched)
    assert batched == singles
    # Different prompts give different continuations, so equality above really checks the order.
    assert len({result.text for result in singles}) > 1


def test_sampling_is_reproducible_with_the_same_seed_and_changes_with_another(tiny_generator):
    first = tiny_generator.generate(PROMPTS, max_new_tokens=8, temperature=1.0, top_p=1.0, seed=3)
    again = tiny_generator.generate(PROMPTS, max_new_tokens=8, temperature=1.0, top_p=1.0, seed=3)
    other = tiny_generator.generate(PROMPTS, max_new_tokens=8, temperature=1.0, top_p=1.0, seed=4)

    assert first == again
    assert first != other


def test_messages_go_through_the_chat_template_and_strings_do_not(tiny_generator):
    rendered = tiny_generator.render([{"role": "user", "content": "I feel lost"}])

    assert rendered == "<|im_start|> user I feel lost <|im_end|> <|im_start|> assistant "
    assert tiny_generator.render("I feel lost") == "I feel lost"


def test_messages_without_a_chat_template_are_refused(tiny_llama_without_template_path):
    generator = Generator(tiny_llama_without_template_path, device="cpu")

    with pytest.raises(ValueError, match="no chat template"):
        generator.generate([[{"role": "user", "content": "hello"}]], max_new_tokens=2)


def test_new_tokens_stop_at_each_rows_own_stop_token(tiny_llama_path, tmp_path):
    reference = Generator(tiny_llama_path, device="cpu")
    plain = reference.generate(PROMPTS, max_new_tokens=8, temperature=0)
    assert all(result.new_tokens == len(result.token_ids) == 8 for result in plain)
    # Declare a token from the middle of the first answer a stop token; every row must end
    # before its own first occurrence of it, whatever the other rows in its batch do.
    special = set(reference.tokenizer.all_special_ids)
    stop_id = next(token for token in plain[0].token_ids[2:] if token not in special)
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    config_file = folder / "generation_config.json"
    config = json.loads(config_file.read_text())
    config["eos_token_id"] = [reference.tokenizer.eos_token_id, stop_id]
    config_file.write_text(json.dumps(config))

    stopped = Generator(folder, device="cpu").generate(PROMPTS, max_new_tokens=8, temperature=0, batch_size=5)

    cut_rows = 0
    for before, after in zip(plain, stopped, strict=True):
        ids = list(before.token_ids)
        expected = ids[: ids.index(stop_id)] if stop_id in ids else ids
        cut_rows += stop_id in ids
        assert list(after.token_ids) == expected
        assert after.new_tokens == len(expected)
        assert after.text == reference.tokenizer.decode(expected, skip_special_tokens=True).strip()
    assert stopped[0].new_tokens < 8
    assert cut_rows < len(PROMPTS) or len({r.new_tokens for r in stopped}) > 1


def test_batch_that_runs_out_of_memory_is_split_and_results_stay_in_order(tiny_llama_path, monkeypatch):
    generator = Generator(tiny_llama_path, device="cpu")
    expected = generator.generate(PROMPTS, max_new_tokens=5, temperature=0, batch_size=1)
    real_forward = generator.model.forward
    seen_batch_sizes: list[int] = []

    def forward_that_fits_two_rows(*args, **kwargs):
        rows = kwargs["input_ids"].shape[0]
        seen_batch_sizes.append(rows)
        if rows > 2:
            raise torch.cuda.OutOfMemoryError("simulated: only two rows fit")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(generator.model, "forward", forward_that_fits_two_rows)

    results = generator.generate(PROMPTS, max_new_tokens=5, temperature=0, batch_size=5)

    assert results == expected
    assert max(seen_batch_sizes) == 5  # tried whole first
    assert 2 in seen_batch_sizes and 1 in seen_batch_sizes  # 5 -> 2 + 3 -> 2 + (1 + 2)


def test_a_single_prompt_that_runs_out_of_memory_is_reported(tiny_llama_path, monkeypatch):
    generator = Generator(tiny_llama_path, device="cpu")

    def forward_always_out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("simulated")

    monkeypatch.setattr(generator.model, "forward", forward_always_out_of_memory)

    with pytest.raises(torch.cuda.OutOfMemoryError):
        generator.generate(PROMPTS[:2], max_new_tokens=2, temperature=0, batch_size=2)


def test_progress_is_reported_after_every_batch(tiny_generator):
    progress: list[tuple[int, int]] = []

    tiny_generator.generate(
        PROMPTS, max_new_tokens=2, temperature=0, batch_size=2, on_batch=lambda d, t: progress.append((d, t))
    )

    assert progress == [(2, 5), (4, 5), (5, 5)]


def test_callback_returning_false_cancels_after_that_batch(tiny_generator):
    calls: list[int] = []

    def stop_after_first_batch(done: int, total: int) -> bool:
        calls.append(done)
        return False

    with pytest.raises(Cancelled, match="2 of 5"):
        tiny_generator.generate(
            PROMPTS, max_new_tokens=2, temperature=0, batch_size=2, on_batch=stop_after_first_batch
        )
    assert calls == [2]


def test_missing_folder_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load a generator"):
        Generator(tmp_path / "nothing-here", device="cpu")


SHARED_PREFIX_PROMPTS = [
    [
        {"role": "system", "content": "you are not alone in this and it will get better"},
        {"role": "user", "content": text},
    ]
    for text in [
        "I lost my job",
        "my dog died last week",
        "I feel lost",
        "the house is so quiet today and I am sad",
    ]
]


def test_prompts_sharing_a_system_prefix_decode_as_they_would_alone(tiny_generator):
    # The shared prefix is computed once per batch and copied to each row; rows of different lengths are
    # left-padded after it, so this is where a position or mask mistake would show.
    batched = tiny_generator.generate(SHARED_PREFIX_PROMPTS, max_new_tokens=8, temperature=0, batch_size=4)
    singles = [
        tiny_generator.generate([prompt], max_new_tokens=8, temperature=0)[0]
        for prompt in SHARED_PREFIX_PROMPTS
    ]
    assert batched == singles


def test_greedy_answers_match_transformers_generate_on_the_unmodified_model(tiny_llama_path, tiny_generator):
    # Our decoding loop, in-place KV cache and few-rows linear layers against plain model.generate.
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(tiny_llama_path).eval()
    ours = tiny_generator.generate(PROMPTS, max_new_tokens=12, temperature=0, batch_size=len(PROMPTS))

    for prompt, result in zip(PROMPTS, ours, strict=True):
        ids = tiny_generator.encode(prompt)
        with torch.inference_mode():
            output = plain.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=12,
                do_sample=False,
                pad_token_id=tiny_generator.tokenizer.pad_token_id,
            )
        expected = [token for token in output[0, len(ids) :].tolist()]
        stops = [i for i, token in enumerate(expected) if token in tiny_generator.stop_token_ids]
        assert list(result.token_ids) == (expected[: stops[0]] if stops else expected)


@pytest.mark.parametrize(
    "prompts", [SHARED_PREFIX_PROMPTS, SHARED_PREFIX_PROMPTS + PROMPTS], ids=["shared", "mixed"]
)
def test_prefill_in_groups_of_similar_length_decodes_as_alone(tiny_generator, monkeypatch, prompts):
    # A group cost of 0 splits the batch's prefill at every length change; the stacked caches must
    # still give each row exactly what it computes alone, with and without a shared prefix.
    monkeypatch.setattr("ml.core.accel.decoder.PREFILL_GROUP_COST", 0)
    lengths = sorted({len(tiny_generator.encode(prompt)) for prompt in prompts})
    assert len(lengths) > 2  # so there are several groups

    batched = tiny_generator.generate(prompts, max_new_tokens=8, temperature=0, batch_size=16)
    singles = [tiny_generator.generate([prompt], max_new_tokens=8, temperature=0)[0] for prompt in prompts]
    assert batched == singles
