"""Batched text generation with a causal LM, for study responses and for the LLM judge."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ml.core.batching import chunks, order_by_length, run_splitting_on_oom
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
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

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
        batch_size: int = 16,
        on_batch: ProgressCallback | None = None,
    ) -> list[GenerationResult]:
        """Generates one answer per prompt and returns them in the order of ``prompts``.

        ``temperature`` 0 means greedy decoding. Prompts are sorted by token length so each
        batch pads little; a batch that runs out of GPU memory is split in half and retried.
        Sampled outputs are reproducible for the same prompts, ``seed``, ``batch_size`` and
        device. ``on_batch(done, total)`` is called after every batch with the number of
        prompts finished; returning ``False`` stops the work and raises ``Cancelled``.
        """
        encoded = [self.encode(prompt) for prompt in prompts]
        order = order_by_length([len(ids) for ids in encoded])
        results: list[GenerationResult | None] = [None] * len(prompts)
        torch.manual_seed(seed)
        settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p}
        done = 0
        for batch in chunks(order, batch_size):
            outputs = run_splitting_on_oom(
                [encoded[index] for index in batch],
                lambda sub_batch: self._generate_batch(sub_batch, **settings),
                on_oom=lambda: free_accelerator_memory(self.device),
            )
            for index, result in zip(batch, outputs, strict=True):
                results[index] = result
            done += len(batch)
            if on_batch is not None and on_batch(done, len(prompts)) is False:
                raise Cancelled(f"generation stopped after {done} of {len(prompts)} prompts")
        return [result for result in results if result is not None]

    @torch.inference_mode()
    def _generate_batch(
        self, batch: Sequence[list[int]], *, max_new_tokens: int, temperature: float, top_p: float
    ) -> list[GenerationResult]:
        padded = self.tokenizer.pad({"input_ids": list(batch)}, return_tensors="pt").to(self.device)
        sampling = (
            {"do_sample": True, "temperature": temperature, "top_p": top_p}
            if temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        output = self.model.generate(
            **padded,
            max_new_tokens=max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            **sampling,
        )
        new_ids = output[:, padded["input_ids"].shape[1] :].tolist()
        return [self._result(row) for row in new_ids]

    def _result(self, row: list[int]) -> GenerationResult:
        # Rows that stopped early are padded up to the longest row; cut at the first stop token.
        for position, token in enumerate(row):
            if token in self.stop_token_ids:
                row = row[:position]
                break
        return GenerationResult(
            text=self.tokenizer.decode(row, skip_special_tokens=True).strip(), new_tokens=len(row), token_ids=tuple(row)
        )
