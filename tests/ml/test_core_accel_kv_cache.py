"""The in-place KV cache: same contents as concatenation, room reserved, rows selected."""

from __future__ import annotations

import torch
from transformers import DynamicCache, LlamaConfig
from transformers.cache_utils import DynamicLayer

from ml.core.accel.kv_cache import GrowingLayer, growing_cache


def states(batch: int, tokens: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 2, tokens, 4, generator=generator), torch.randn(
        batch, 2, tokens, 4, generator=generator
    )


def test_updates_give_what_concatenation_gives_and_write_in_place():
    growing, plain = GrowingLayer(spare_tokens=3), DynamicLayer()
    buffers = set()
    for step, tokens in enumerate([5, 1, 1, 1, 1, 1]):
        keys, values = states(2, tokens, seed=step)
        got, expected = growing.update(keys, values), plain.update(keys, values)
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
        buffers.add(growing._key_buffer.data_ptr())
    # 5 tokens + 3 spare fit the first four steps; the fifth new token needed one reallocation.
    assert len(buffers) == 2
    assert growing.get_seq_length() == 10


def test_selecting_and_repeating_rows_keeps_their_contents():
    layer = GrowingLayer(spare_tokens=4)
    keys, values = states(1, 3, seed=0)
    layer.update(keys, values)
    layer.batch_repeat_interleave(3)
    more_keys, more_values = states(3, 1, seed=1)
    layer.update(more_keys, more_values)

    layer.batch_select_indices(torch.tensor([0, 2]))

    assert layer.keys.shape == (2, 2, 4, 4)
    assert torch.equal(layer.keys[:, :, :3], keys.expand(2, -1, -1, -1))
    assert torch.equal(layer.values[:, :, 3], more_values[[0, 2], :, 0])


def test_growing_cache_replaces_only_plain_layers():
    config = LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2)
    cache = growing_cache(config, spare_tokens=8)

    assert isinstance(cache, DynamicCache)
    assert [type(layer) for layer in cache.layers] == [GrowingLayer] * 3
    assert all(layer.spare_tokens == 8 for layer in cache.layers)


def test_left_padded_stacking_right_aligns_each_suffix_after_the_shared_prefix():
    prefix = 2
    short_keys, short_values = states(1, prefix + 1, seed=0)
    long_keys, long_values = states(2, prefix + 3, seed=1)

    layer = GrowingLayer.left_padded(
        [(long_keys, long_values), (short_keys, short_values)], prefix_length=prefix, spare_tokens=4
    )

    assert layer.keys.shape == (3, 2, prefix + 3, 4)
    assert torch.equal(layer.keys[:2], long_keys)
    assert torch.equal(layer.keys[2, :, :prefix], short_keys[0, :, :prefix])
    assert torch.equal(layer.values[2, :, -1], short_values[0, :, -1])
    assert not layer.keys[2, :, prefix : prefix + 2].any()  # the gap, masked by the caller
    assert layer._key_buffer.shape[-2] == prefix + 3 + 4


def test_reordering_rows_keeps_writing_into_the_reordered_buffer():
    layer = GrowingLayer(spare_tokens=2)
    keys, values = states(3, 2, seed=0)
    layer.update(keys, values)

    layer.reorder_cache(torch.tensor([2, 0, 1]))
    more_keys, more_values = states(3, 1, seed=1)
    got_keys, _ = layer.update(more_keys, more_values)

    assert torch.equal(got_keys[:, :, :2], keys[[2, 0, 1]])
    assert torch.equal(got_keys[:, :, 2], more_keys[:, :, 0])
