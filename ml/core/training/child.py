"""A training run in a child process: a crash or out-of-memory ends the child, not the worker, and
the child's exit frees accelerator memory. Plain Python (the child never imports Django).

``run_in_child`` starts a spawned process running ``train``, relays its progress to
``on_progress`` (which returns False to ask for a stop), and returns the outcome as a dict. The
child also stops, keeping its checkpoints, when its parent dies (a SIGKILLed worker), so the
restarted worker resumes from the newest checkpoint instead of racing an orphan. A run with
``processes`` > 1 (one per GPU by default on a CUDA host) trains in a data-parallel group that the
child launches through accelerate (``ml.core.training.processes``); its main process reports.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue as queue_module
import threading
from collections.abc import Callable
from pathlib import Path

from ml.core.errors import Cancelled, ModelLoadError
from ml.core.training.data import TrainingDataError
from ml.core.training.processes import OtherProcessDone, is_main, launch, own_device


class ChildFailed(RuntimeError):
    """The child process died without a result (killed, out of memory) or raised something unexpected."""


def _child(request: dict, messages, stop, parent: int, processes: int) -> None:
    if processes == 1:
        _train_and_report(request, messages, should_cancel=lambda: stop.is_set() or os.getppid() != parent)
        return
    threading.Thread(target=_stop_when_orphaned, args=(parent, stop), daemon=True, name="orphan-watch").start()
    try:
        launch(_one_of_the_group, (request, messages, stop), processes=processes)
    except Exception as exc:  # noqa: BLE001 - a process of the group failed; the worker reports it in words
        messages.put(("error", f"a training process failed: {exc}"))


def _stop_when_orphaned(parent: int, stop) -> None:
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def _one_of_the_group(request: dict, messages, stop) -> None:
    own_device()
    if is_main():
        _train_and_report(request, messages, should_cancel=stop.is_set)
        return
    from ml.core.training.run import TrainRequest, train

    try:
        train(TrainRequest(**request), should_cancel=stop.is_set)
    except (OtherProcessDone, Cancelled, TrainingDataError, ModelLoadError):
        pass  # the main process reports how the run ended


def _train_and_report(request: dict, messages, *, should_cancel: Callable[[], bool]) -> None:
    from ml.core.training.run import TrainRequest, train

    def on_progress(progress) -> None:
        messages.put(("progress", dataclasses.asdict(progress)))

    try:
        outcome = train(TrainRequest(**request), on_progress=on_progress, should_cancel=should_cancel)
    except Cancelled as exc:
        messages.put(("cancelled", str(exc)))
        return
    except TrainingDataError as exc:
        messages.put(("bad-input", exc.field, exc.message))
        return
    except ModelLoadError as exc:
        messages.put(("bad-model", str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the parent in words
        messages.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    result = dataclasses.asdict(outcome)
    result["model_dir"] = str(outcome.model_dir)
    messages.put(("done", result))


def processes_of(request: dict) -> int:
    """How many processes the run trains in (its ``processes`` hyperparameter); 1 for a request that ``train`` will
    refuse, which it then does in words."""
    from ml.core.device import resolve_device
    from ml.core.training.config import hyperparameters

    try:
        device = resolve_device(request.get("device")).type
        return int(hyperparameters(request["recipe"], device, request.get("overrides"))["processes"])
    except Exception:  # noqa: BLE001 - train() names what is wrong
        return 1


def run_in_child(request: dict, *, on_progress: Callable[[dict], bool], poll_seconds: float = 0.5) -> dict:
    """``request``: ``TrainRequest`` fields (paths as text). Raises ``Cancelled``,
    ``TrainingDataError``, ``ModelLoadError`` or ``ChildFailed`` as the child ended."""
    context = multiprocessing.get_context("spawn")
    messages, stop = context.Queue(), context.Event()
    request = {k: (str(v) if isinstance(v, Path) else v) for k, v in request.items()}
    processes = processes_of(request)
    # a daemon may not have children: a data-parallel run's child is the parent of its group
    process = context.Process(target=_child, args=(request, messages, stop, os.getpid(), processes),
                              daemon=processes == 1, name="resonance-train")
    process.start()
    final = None
    try:
        while final is None:
            try:
                message = messages.get(timeout=poll_seconds)
            except queue_module.Empty:
                if not process.is_alive():
                    break
                continue
            if message[0] == "progress":
                if not on_progress(message[1]):
                    stop.set()
            else:
                final = message
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
            process.join()
    if final is None:
        raise ChildFailed(f"the training process ended with exit code {process.exitcode} and no result "
                          "(killed, or out of memory)")
    kind = final[0]
    if kind == "done":
        return final[1]
    if kind == "cancelled":
        raise Cancelled(final[1])
    if kind == "bad-input":
        raise TrainingDataError(final[1], final[2])
    if kind == "bad-model":
        raise ModelLoadError(final[1])
    raise ChildFailed(final[1])
