"""A bounded per-process cache of decoded specs by (model, pk, hash).

The annotation and judging loops read a spec on every request; a spec is immutable per hash, so each process
decodes one once instead of fetching and decoding its JSON (tens to hundreds of KB for a study) every time."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

SPECS_KEPT = 128

_SPECS: OrderedDict[tuple[str, int, str], dict] = OrderedDict()


def spec_cached(model: Any, *, pk: int, spec_hash: str) -> dict:
    """The ``spec`` of row ``pk`` of ``model`` (a model with ``spec`` and ``spec_hash`` fields) at ``spec_hash``,
    read from the database once per process and kept among the ``SPECS_KEPT`` most recently used. Treat it as
    read-only.

    Filed under the hash stored beside the spec, so a spec changed since the caller's read is never kept under
    the old hash. A row without a hash (made by hand, not through a service) is read afresh every time."""
    label = model._meta.label
    key = (label, pk, spec_hash)
    if spec_hash and key in _SPECS:
        _SPECS.move_to_end(key)
        return _SPECS[key]
    spec, stored_hash = model._default_manager.values_list("spec", "spec_hash").get(pk=pk)
    if stored_hash:
        _SPECS[(label, pk, stored_hash)] = spec
        _SPECS.move_to_end((label, pk, stored_hash))
        while len(_SPECS) > SPECS_KEPT:
            _SPECS.popitem(last=False)
    return spec


def spec_cache_clear() -> None:
    """Empties the cache (tests; a process that changed specs by hand)."""
    _SPECS.clear()
