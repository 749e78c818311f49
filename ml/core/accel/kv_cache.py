"""A key/value cache that writes each step in place instead of concatenating.

transformers' ``DynamicCache`` grows every layer with ``torch.cat`` at every step, copying the
whole cache each time: at batch 32 on CPU that copy was ~45% of a SmolLM2-135M decoding step.
``GrowingLayer`` keeps a buffer with room for the tokens still to come, writes new keys and
values into it, and hands attention a view of the filled part; it reallocates (doubling) only
when the room runs out.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class GrowingLayer(DynamicLayer):
    """One layer's cache: ``[batch, heads, capacity, head_dim]`` buffers, the first
    ``length`` positions filled; ``spare_tokens`` is the room reserved beyond each fill."""

    def __init__(self, spare_tokens: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spare_tokens = spare_tokens
        self._key_buffer: torch.Tensor | None = None
        self._value_buffer: torch.Tensor | None = None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start = self.get_seq_length()
        end = start + key_states.shape[-2]
        if self._key_buffer is None or self._key_buffer.shape[-2] < end:
            self._reallocate(key_states, value_states, capacity=max(end + self.spare_tokens, 2 * start))
        self._key_buffer[:, :, start:end] = key_states
        self._value_buffer[:, :, start:end] = value_states
        self._expose(end)
        return self.keys, self.values

    @classmethod
    def left_padded(
        cls, parts: list[tuple[torch.Tensor, torch.Tensor]], *, prefix_length: int, spare_tokens: int
    ) -> GrowingLayer:
        """One layer stacking the rows of ``parts`` (keys, values): each holds ``prefix_length``
        shared positions then a suffix; suffixes are right-aligned to the longest, the gap
        zero-filled (callers mask it)."""
        length = max(keys.shape[-2] for keys, _ in parts)
        layer = cls(spare_tokens=spare_tokens)
        layer.lazy_initialization(*parts[0])
        buffers = []
        for index in (0, 1):
            first = parts[0][index]
            rows = sum(part[index].shape[0] for part in parts)
            buffer = first.new_zeros(rows, first.shape[1], length + spare_tokens, first.shape[-1])
            start = 0
            for part in parts:
                states = part[index]
                end = start + states.shape[0]
                buffer[start:end, :, :prefix_length] = states[:, :, :prefix_length]
                buffer[start:end, :, length - (states.shape[-2] - prefix_length) : length] = states[
                    :, :, prefix_length:
                ]
                start = end
            buffers.append(buffer)
        layer._key_buffer, layer._value_buffer = buffers
        layer._expose(length)
        return layer

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self._key_buffer is not None:
            length = self.get_seq_length()
            self._key_buffer = self._key_buffer.repeat_interleave(repeats, dim=0)
            self._value_buffer = self._value_buffer.repeat_interleave(repeats, dim=0)
            self._expose(length)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self._key_buffer is not None:
            length = self.get_seq_length()
            self._key_buffer = self._key_buffer[indices]
            self._value_buffer = self._value_buffer[indices]
            self._expose(length)

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        self.batch_select_indices(beam_idx)

    def reset(self) -> None:
        self._key_buffer = self._value_buffer = None
        super().reset()

    def _reallocate(self, key_states: torch.Tensor, value_states: torch.Tensor, *, capacity: int) -> None:
        """New buffers of ``capacity`` positions holding what is filled so far."""
        length = self.get_seq_length()
        batch, heads = key_states.shape[:2]
        keys = key_states.new_empty(batch, heads, capacity, key_states.shape[-1])
        values = value_states.new_empty(batch, heads, capacity, value_states.shape[-1])
        if length:
            keys[:, :, :length] = self.keys
            values[:, :, :length] = self.values
        self._key_buffer, self._value_buffer = keys, values

    def _expose(self, length: int) -> None:
        self.keys = self._key_buffer[:, :, :length]
        self.values = self._value_buffer[:, :, :length]


def growing_cache(config, spare_tokens: int) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose full-attention layers are ``GrowingLayer`` s
    reserving ``spare_tokens`` (sliding-window and other special layers keep their own kind)."""
    cache = DynamicCache(config=config)
    if cache.layers and all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [GrowingLayer(spare_tokens=spare_tokens) for _ in cache.layers]
    return cache


def is_growing(cache: DynamicCache) -> bool:
    return bool(cache.layers) and all(isinstance(layer, GrowingLayer) for layer in cache.layers)


def stack_left_padded(caches: list[DynamicCache], *, prefix_length: int, spare_tokens: int) -> DynamicCache:
    """One cache holding the rows of ``caches`` in order (see ``GrowingLayer.left_padded``);
    the first cache object is reused."""
    merged = caches[0]
    merged.layers = [
        GrowingLayer.left_padded(
            [(cache.layers[index].keys, cache.layers[index].values) for cache in caches],
            prefix_length=prefix_length,
            spare_tokens=spare_tokens,
        )
        for index in range(len(merged.layers))
    ]
    return merged
