"""Data-parallel training: one process per GPU (or several on CPU), launched through accelerate.

``launch`` starts ``processes`` copies of a function as one process group (NCCL on CUDA, gloo on CPU); the Hugging
Face trainers inside each copy see the group and split every batch between them. The main process (rank 0) alone
reports, saves and evaluates: the others leave once training ends (``OtherProcessDone``). A stop is agreed by all
processes at the same step (``agreed``), so none waits forever on a peer that has already left.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable


class OtherProcessDone(Exception):
    """Raised in a process other than the main one when its share of the training is done."""


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def own_device() -> None:
    """On CUDA, makes this process's GPU (its local rank) the one "cuda" names, so that what a recipe places on
    "cuda" before the trainer does lands on its own card rather than on the first."""
    import torch

    if "LOCAL_RANK" in os.environ and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))


def agreed(flag: bool) -> bool:
    """True when ``flag`` is true in any process of the group (a collective: every process must call it at the same
    point). Outside a group, ``flag`` itself."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    vote = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(vote, op=dist.ReduceOp.MAX)
    return bool(vote.item())


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def launch(function: Callable, args: tuple, *, processes: int) -> None:
    """Runs ``function(*args)`` in ``processes`` forked processes forming one group on this host, and returns when
    all have ended; raises if one failed (the others are stopped). Call before CUDA is initialised in this process,
    from a process that may have children (not a daemon)."""
    from accelerate import notebook_launcher

    # gloo picks its network interface from the host name, which need not resolve here: the group is local
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    notebook_launcher(function, args=args, num_processes=processes, use_port=_free_port(),
                      master_addr="127.0.0.1")
