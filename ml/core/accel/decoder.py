"""Our own decoding loop for decoder-only causal LMs: the accelerated ``Decoder``.

Faster than ``model.generate`` on the same model, token for token the same greedy answers
(tests/ml/test_core_accel.py): the prompt prefix all rows share is computed once, rows are
prefilled in groups of similar length, the KV cache is written in place
(``ml.core.accel.kv_cache``), and finished rows leave the batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch

from ml.core.accel.kv_cache import growing_cache, is_growing, stack_left_padded
from ml.core.batching import order_by_length, padding_groups
from ml.core.decoding import Decoding

# What one more prefill forward pass costs, in padded positions (measured on SmolLM2-135M, CPU):
# below this, splitting a batch's prefill into groups of similar length saves nothing.
PREFILL_GROUP_COST = 128

NEEDED_FORWARD_ARGUMENTS = frozenset({"input_ids", "attention_mask", "position_ids", "use_cache", "logits_to_keep"})
# What a forward calls its KV cache: ``cache`` in the transformers we pin (5.24), ``past_key_values`` before.
CACHE_ARGUMENTS = ("cache", "past_key_values")


def cache_argument(model: torch.nn.Module) -> str | None:
    """The name under which ``CachedDecoder`` hands this model its cache, or None when it cannot
    drive it: it needs a decoder-only model whose forward takes a cache, explicit position ids
    and ``logits_to_keep`` (the transformers causal LMs of the Llama / Qwen / Mistral / Gemma
    families)."""
    if getattr(model.config, "is_encoder_decoder", False):
        return None
    parameters = set(inspect.signature(model.forward).parameters)
    if not NEEDED_FORWARD_ARGUMENTS <= parameters:
        return None
    return next((name for name in CACHE_ARGUMENTS if name in parameters), None)


class CachedDecoder:
    """Decodes batches for ``model`` (one with a ``cache_argument``), padding with ``pad_token_id``
    and ending each row at its first token in ``stop_token_ids`` (excluded)."""

    def __init__(self, model: torch.nn.Module, *, pad_token_id: int, stop_token_ids: set[int]) -> None:
        argument = cache_argument(model)
        if argument is None:
            raise ValueError(f"{type(model).__name__}'s forward cannot be driven by our decoding loop")
        self.model = model
        self.pad_token_id = pad_token_id
        self.stop_token_ids = stop_token_ids
        self._cache_argument = argument

    def _forward(self, cache, **inputs) -> torch.Tensor:
        """The last position's logits of one forward pass that writes into ``cache``."""
        return self.model(**inputs, use_cache=True, **{self._cache_argument: cache}).logits[:, -1]

    @property
    def device(self) -> torch.device:
        return self.model.device

    @torch.inference_mode()
    def decode(self, batch: Sequence[list[int]], decoding: Decoding) -> list[list[int]]:
        """New token ids for each prompt of ``batch`` (stop token excluded), with a KV cache.

        The prompt prefix that all rows share (typically the system prompt) is run once and
        its cache copied to every row; the rest of each prompt is left-padded, the padding sitting
        between the shared prefix and the row's own tokens (masked, with position ids that skip
        it, so every row computes what it would alone). That prefill runs in groups of rows of
        similar length (``padding_groups``) whose caches are then stacked, so short prompts do
        not pay for the longest one's padding. Decoding writes the cache in place. A row that
        emits a stop token is dropped from the batch and its cache, so later steps only pay for
        rows still writing.
        """
        shared = _shared_prefix_length(batch) if len(batch) > 1 else 0
        prefix_cache = growing_cache(self.model.config, spare_tokens=0)
        if shared:
            prefix = torch.tensor([batch[0][:shared]], device=self.device)
            self._forward(
                prefix_cache,
                input_ids=prefix,
                attention_mask=torch.ones_like(prefix),
                position_ids=torch.arange(shared, device=self.device)[None],
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
            chosen = choose_tokens(logits, decoding)
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
            logits = self._forward(
                cache,
                input_ids=chosen[:, None],
                attention_mask=attention_mask,
                position_ids=attention_mask.sum(-1, keepdim=True) - 1,
            )
        return new_tokens

    def _prefill(self, rows: Sequence[list[int]], *, shared: int, cache) -> torch.Tensor:
        """Runs the prompts' own tokens (after the ``shared`` prefix already in ``cache``),
        left-padded to the longest of ``rows``; returns the last position's logits per row."""
        width = max(len(ids) for ids in rows) - shared
        pad = self.pad_token_id
        suffixes = [[pad] * (width - len(ids) + shared) + list(ids[shared:]) for ids in rows]
        mask = torch.tensor(
            [[1] * shared + [0] * (width - len(ids) + shared) + [1] * (len(ids) - shared) for ids in rows],
            device=self.device,
        )
        return self._forward(
            cache,
            input_ids=torch.tensor(suffixes, device=self.device),
            attention_mask=mask,
            position_ids=(mask.cumsum(-1) - 1).clamp(min=0)[:, shared:],
            logits_to_keep=1,
        )


def _shared_prefix_length(batch: Sequence[list[int]]) -> int:
    """Length of the token prefix common to every row, leaving each row at least one token of
    its own (the last prompt token's logits start the answer)."""
    limit = min(len(ids) for ids in batch) - 1
    first = batch[0]
    length = 0
    while length < limit and all(ids[length] == first[length] for ids in batch):
        length += 1
    return length


def choose_tokens(logits: torch.Tensor, decoding: Decoding) -> torch.Tensor:
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
