"""Batched text generation with a causal LM, for study responses and for the LLM judge."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ml.core.accel import accelerate_generator, accelerating
from ml.core.batching import chunks, order_by_length, run_splitting_on_oom
from ml.core.decoding import Decoder, Decoding
from ml.core.device import default_dtype, free_accelerator_memory, resolve_device
from ml.core.errors import Cancelled, ModelLoadError

Messages = list[dict[str, str]]
Prompt = Messages | str
ProgressCallback = Callable[[int, int], bool | None]


@dataclass(frozen=True)
class GenerationResult:
    """One generated answer: its text, how many tokens were generated (stop token and padding
    excluded) and those token ids."""

    text: str
    new_tokens: int
    token_ids: tuple[int, ...] = ()


class Generator:
    """A causal LM loaded from a local folder, ready to answer prompts in batches.

    ``device`` is a setting string or ``torch.device`` (``None``: automatic, see
    ``resolve_device``); ``dtype`` defaults to bf16 on CUDA and float32 elsewhere.
    ``acceleration`` ``auto`` decodes with ``ml.core.accel``'s decoder where the model allows it,
    ``off`` with transformers' ``model.generate`` on the model as loaded; ``decoder`` is the one
    chosen. Greedy answers are the same either way.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        *,
        acceleration: str = "auto",
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        accelerate = accelerating(acceleration)
        self.path = os.fspath(path)
        self.device = resolve_device(device)
        self.dtype = dtype or default_dtype(self.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path)
            self.model = AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load a generator from {self.path}: {exc}") from exc
        self.model.to(self.device).eval()
        # Decoder-only models continue from the last position, so padding goes on the left.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.stop_token_ids = self._stop_token_ids()
        accelerated = (
            accelerate_generator(
                self.model, pad_token_id=self.tokenizer.pad_token_id, stop_token_ids=self.stop_token_ids
            )
            if accelerate
            else None
        )
        self.decoder: Decoder = accelerated or TransformersDecoder(self.model, self.tokenizer)

    def _stop_token_ids(self) -> set[int]:
        configured = self.model.generation_config.eos_token_id
        if configured is None:
            configured = self.tokenizer.eos_token_id
        if configured is None:
            return set()
        return set(configured) if isinstance(configured, list | tuple) else {int(configured)}

    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model: a messages list goes through the chat template
        (with the assistant turn opened); a plain string is used as it is."""
        if isinstance(prompt, str):
            return prompt
        if not self.tokenizer.chat_template:
            raise ValueError(f"{self.path} has no chat template; pass plain strings instead of messages")
        return self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)

    def encode(self, prompt: Prompt) -> list[int]:
        """Token ids of one prompt. Chat-rendered text already holds its special tokens."""
        text = self.render(prompt)
        return self.tokenizer(text, add_special_tokens=isinstance(prompt, str))["input_ids"]

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.7,
        top_p: float = 0.9,
        seed: int = 0,
        batch_size: int = 32,
        on_batch: ProgressCallback | None = None,
    ) -> list[GenerationResult]:
        """Generates one answer per prompt and returns them in the order of ``prompts``.

        ``temperature`` 0 means greedy decoding; otherwise tokens are sampled at that
        temperature from the smallest set of tokens holding ``top_p`` of the probability.
        Prompts are sorted by token length so each batch pads little; a batch that runs out of
        GPU memory is split in half and retried. Each row stops at its own stop token (on the
        accelerated path it leaves the batch then, so finished rows cost nothing). Sampled outputs are reproducible
        for the same prompts, ``seed``, ``batch_size`` and device (the accelerated path leaves the
        global torch RNG alone; ``model.generate`` samples from it, seeded from ``seed``). ``on_batch(done, total)`` is called after every batch with the number of
        prompts finished; returning ``False`` stops the work and raises ``Cancelled``.
        """
        encoded = [self.encode(prompt) for prompt in prompts]
        order = order_by_length([len(ids) for ids in encoded])
        results: list[GenerationResult | None] = [None] * len(prompts)
        sampler = torch.Generator(device=self.device).manual_seed(seed)
        decoding = Decoding(
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, sampler=sampler
        )
        done = 0
        for batch in chunks(order, batch_size):
            outputs = run_splitting_on_oom(
                [encoded[index] for index in batch],
                lambda sub_batch: [self._result(row) for row in self.decoder.decode(sub_batch, decoding)],
                on_oom=lambda: free_accelerator_memory(self.device),
            )
            for index, result in zip(batch, outputs, strict=True):
                results[index] = result
            done += len(batch)
            if on_batch is not None and on_batch(done, len(prompts)) is False:
                raise Cancelled(f"generation stopped after {done} of {len(prompts)} prompts")
        return [result for result in results if result is not None]

    def _result(self, row: list[int]) -> GenerationResult:
        # transformers pads rows that stopped early up to the longest row; cut at the first stop token.
        for position, token in enumerate(row):
            if token in self.stop_token_ids:
                row = row[:position]
                break
        return GenerationResult(
            text=self.tokenizer.decode(row, skip_special_tokens=True).strip(),
            new_tokens=len(row),
            token_ids=tuple(row),
        )


class TransformersDecoder:
    """The plain ``Decoder``: transformers' ``model.generate`` on a left-padded batch."""

    def __init__(self, model: torch.nn.Module, tokenizer) -> None:
        self.model = model
        self.tokenizer = tokenizer

    @torch.inference_mode()
    def decode(self, batch: Sequence[list[int]], decoding: Decoding) -> list[list[int]]:
        """New token ids per row, padded after an early stop token (see ``Decoder.decode``)."""
        padded = self.tokenizer.pad({"input_ids": list(batch)}, return_tensors="pt").to(self.model.device)
        if decoding.temperature > 0:
            # transformers samples from the global RNG; seed it from ours so runs stay reproducible.
            sampler = decoding.sampler
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=sampler, device=sampler.device)))
            sampling = {
                "do_sample": True,
                "temperature": decoding.temperature,
                "top_p": decoding.top_p,
                "top_k": None,
            }
        else:
            sampling = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        output = self.model.generate(
            **padded,
            max_new_tokens=decoding.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            **sampling,
        )
        return output[:, padded["input_ids"].shape[1] :].tolist()
