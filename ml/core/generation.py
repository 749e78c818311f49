"""Batched text generation with a causal LM, for study responses and for the LLM judge."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ml.core.batching import chunks, order_by_length, padding_groups, run_splitting_on_oom
from ml.core.device import default_dtype, free_accelerator_memory, resolve_device
from ml.core.errors import Cancelled, ModelLoadError
from ml.core.few_rows_linear import use_few_rows_linears

# What one more prefill forward pass costs, in padded positions (measured on SmolLM2-135M, CPU):
# below this, splitting a batch's prefill into groups of similar length saves nothing.
PREFILL_GROUP_COST = 128

Messages = list[dict[str, str]]
Prompt = Messages | str
ProgressCallback = Callable[[int, int], bool | None]


@dataclass(frozen=True)
class Decoding:
    """How one ``generate`` call decodes: its length limit, sampling settings and random stream."""

    max_new_tokens: int
    temperature: float
    top_p: float
    sampler: torch.Generator


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
        if self.device.type == "cpu":
            use_few_rows_linears(self.model)
        # Decoder-only models continue from the last position, so padding goes on the left.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.stop_token_ids = self._stop_token_ids()
        self.uses_own_decoding = _supports_own_decoding(self.model)

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
        GPU memory is split in half and retried. Each row stops at its own stop token and
        leaves the batch then, so finished rows cost nothing. Sampled outputs are reproducible
        for the same prompts, ``seed``, ``batch_size`` and device (the global torch RNG is not
        touched). ``on_batch(done, total)`` is called after every batch with the number of
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
                lambda sub_batch: self._generate_batch(sub_batch, decoding),
                on_oom=lambda: free_accelerator_memory(self.device),
            )
            for index, result in zip(batch, outputs, strict=True):
                results[index] = result
            done += len(batch)
            if on_batch is not None and on_batch(done, len(prompts)) is False:
                raise Cancelled(f"generation stopped after {done} of {len(prompts)} prompts")
        return [result for result in results if result is not None]

    def _generate_batch(
        self,
        batch: Sequence[list[int]],
        decoding: Decoding,
    ) -> list[GenerationResult]:
        if self.uses_own_decoding:
            rows = self._decode_batch(batch, decoding)
            return [self._result(row) for row in rows]
        return self._generate_batch_with_transformers(batch, decoding)

    @torch.inference_mode()
    def _decode_batch(
        self,
        batch: Sequence[list[int]],
        decoding: Decoding,
    ) -> list[list[int]]:
        """New token ids for each prompt of ``batch`` (stop token excluded), with a KV cache.

        The prompt prefix that all rows share (typically the system prompt) is run once and
        its cache copied to every row; the rest of each prompt is left-padded, the padding sitting
        between the shared prefix and the row's own tokens (masked, with position ids that skip
        it, so every row computes what it would alone). That prefill runs in groups of rows of
        similar length (``padding_groups``) whose caches are then stacked, so short prompts do
        not pay for the longest one's padding. Decoding writes the cache in place
        (``ml.core.kv_cache``). A row that emits a stop token is dropped from the batch and its
        cache, so later steps only pay for rows still writing.
        """
        from ml.core.kv_cache import growing_cache, is_growing, stack_left_padded

        shared = _shared_prefix_length(batch) if len(batch) > 1 else 0
        prefix_cache = growing_cache(self.model.config, spare_tokens=0)
        if shared:
            prefix = torch.tensor([batch[0][:shared]], device=self.device)
            self.model(
                input_ids=prefix,
                attention_mask=torch.ones_like(prefix),
                position_ids=torch.arange(shared, device=self.device)[None],
                past_key_values=prefix_cache,
                use_cache=True,
                logits_to_keep=1,
            )
        order = order_by_length([len(ids) for ids in batch])
        if is_growing(prefix_cache):
            lengths = [len(batch[index]) - shared for index in order]
            groups = [
                order[span.start : span.stop]
                for span in padding_groups(lengths, cost_per_group=PREFILL_GROUP_COST)
            ]
        else:
            groups = [order]
        caches, logits = [], []
        for group in groups:
            # Several groups are stacked into a new cache below, which reserves the room then.
            cache = growing_cache(
                self.model.config, spare_tokens=decoding.max_new_tokens if len(groups) == 1 else 0
            )
            if shared:
                for layer_index, layer in enumerate(prefix_cache.layers):
                    rows = len(group)
                    cache.update(
                        layer.keys.expand(rows, -1, -1, -1),
                        layer.values.expand(rows, -1, -1, -1),
                        layer_index,
                    )
            logits.append(self._prefill([batch[index] for index in group], shared=shared, cache=cache))
            caches.append(cache)
        cache = (
            caches[0]
            if len(caches) == 1
            else stack_left_padded(caches, prefix_length=shared, spare_tokens=decoding.max_new_tokens)
        )
        logits = torch.cat(logits)
        active = [
            index for group in groups for index in group
        ]  # the prompt index of each row still in the batch
        width = max(len(ids) for ids in batch)
        attention_mask = torch.tensor(
            [
                [1] * shared + [0] * (width - len(batch[index])) + [1] * (len(batch[index]) - shared)
                for index in active
            ],
            device=self.device,
        )
        new_tokens: list[list[int]] = [[] for _ in batch]
        for step in range(decoding.max_new_tokens):
            chosen = _choose_tokens(logits, decoding)
            still_writing = []
            for row, (prompt_index, token) in enumerate(zip(active, chosen.tolist(), strict=True)):
                if token not in self.stop_token_ids:
                    new_tokens[prompt_index].append(token)
                    still_writing.append(row)
            if not still_writing or step == decoding.max_new_tokens - 1:
                break
            if len(still_writing) < len(active):
                keep = torch.tensor(still_writing, device=self.device)
                cache.batch_select_indices(keep)
                attention_mask, chosen = attention_mask[keep], chosen[keep]
                active = [active[row] for row in still_writing]
            attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(active), 1)], dim=1)
            logits = self.model(
                input_ids=chosen[:, None],
                attention_mask=attention_mask,
                position_ids=attention_mask.sum(-1, keepdim=True) - 1,
                past_key_values=cache,
                use_cache=True,
            ).logits[:, -1]
        return new_tokens

    def _prefill(self, rows: Sequence[list[int]], *, shared: int, cache) -> torch.Tensor:
        """Runs the prompts' own tokens (after the ``shared`` prefix already in ``cache``),
        left-padded to the longest of ``rows``; returns the last position's logits per row."""
        width = max(len(ids) for ids in rows) - shared
        pad = self.tokenizer.pad_token_id
        suffixes = [[pad] * (width - len(ids) + shared) + list(ids[shared:]) for ids in rows]
        mask = torch.tensor(
            [[1] * shared + [0] * (width - len(ids) + shared) + [1] * (len(ids) - shared) for ids in rows],
            device=self.device,
        )
        return self.model(
            input_ids=torch.tensor(suffixes, device=self.device),
            attention_mask=mask,
            position_ids=(mask.cumsum(-1) - 1).clamp(min=0)[:, shared:],
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]

    @torch.inference_mode()
    def _generate_batch_with_transformers(
        self,
        batch: Sequence[list[int]],
        decoding: Decoding,
    ) -> list[GenerationResult]:
        """``model.generate`` for models whose forward our own loop cannot drive."""
        padded = self.tokenizer.pad({"input_ids": list(batch)}, return_tensors="pt").to(self.device)
        if decoding.temperature > 0:
            # transformers samples from the global RNG; seed it from ours so runs stay reproducible.
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=decoding.sampler, device=self.device)))
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
        new_ids = output[:, padded["input_ids"].shape[1] :].tolist()
        return [self._result(row) for row in new_ids]

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


def _supports_own_decoding(model: torch.nn.Module) -> bool:
    """Whether ``Generator._decode_batch`` can drive this model: a decoder-only model whose
    forward takes a cache, explicit position ids and ``logits_to_keep`` (the transformers
    causal LMs of the Llama / Qwen / Mistral / Gemma families). Others use ``model.generate``."""
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    parameters = inspect.signature(model.forward).parameters
    needed = {"input_ids", "attention_mask", "position_ids", "past_key_values", "use_cache", "logits_to_keep"}
    return needed <= set(parameters)


def _shared_prefix_length(batch: Sequence[list[int]]) -> int:
    """Length of the token prefix common to every row, leaving each row at least one token of
    its own (the last prompt token's logits start the answer)."""
    limit = min(len(ids) for ids in batch) - 1
    first = batch[0]
    length = 0
    while length < limit and all(ids[length] == first[length] for ids in batch):
        length += 1
    return length


def _choose_tokens(logits: torch.Tensor, decoding: Decoding) -> torch.Tensor:
    """The next token of each row: argmax when the temperature is 0, else a draw at that
    temperature from the nucleus (the most probable tokens whose mass first reaches ``top_p``)."""
    if decoding.temperature <= 0:
        return logits.argmax(dim=-1)
    probabilities = torch.softmax(logits.float() / decoding.temperature, dim=-1)
    if decoding.top_p < 1:
        ranked, token_ids = probabilities.sort(dim=-1, descending=True)
        # Drop a token when the tokens ranked above it already hold top_p; the first always stays.
        ranked = ranked.masked_fill(ranked.cumsum(dim=-1) - ranked >= decoding.top_p, 0.0)
        picked = torch.multinomial(ranked, 1, generator=decoding.sampler)
        return token_ids.gather(-1, picked).squeeze(-1)
    return torch.multinomial(probabilities, 1, generator=decoding.sampler).squeeze(-1)
