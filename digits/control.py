"""Run control: pause, resume and stop. The app asks (`pause_run`, `resume_run`, `stop_run`), the training loop
honours the request between two batches (`Control`, the hook `digits.train.fit` polls).

A pause is a file in the run folder, `pause`, present while a pause is asked for: any process may write it, and
the run sees it at its next batch. A stop is SIGTERM to the run's own process (the CLI turns it into the stop
flag): the run finishes its batch, keeps its best checkpoint and says Stopped. A paused run stops from its pause.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from . import events as ev
from .process import lock_held, verified_pid
from .runs import LOCK, PROCESS, read_json

PAUSE = "pause"   # in a run folder: present while the app asks the run to pause
POLL = 0.2        # seconds between two looks at the pause file while paused

StopFlag = threading.Event | Callable[[], bool] | None


# ---------- asking: the app's side ----------

def pause_run(run_dir: Path | str) -> bool:
    """Ask a live run to wait between two batches until resumed (its process keeps the model in memory).
    False, and nothing written, if the run is not live."""
    run_dir = Path(run_dir)
    if not lock_held(run_dir / LOCK):
        return False
    (run_dir / PAUSE).touch()
    return True


def resume_run(run_dir: Path | str) -> None:
    """Let a paused run go on (removes its pause request; nothing happens to a run that is not paused)."""
    try:
        (Path(run_dir) / PAUSE).unlink()
    except FileNotFoundError:
        pass


def pause_requested(run_dir: Path | str) -> bool:
    """Whether the app asks this run to pause (the training loop checks it between batches)."""
    return os.path.lexists(Path(run_dir) / PAUSE)


def recorded_process(run_dir: Path | str) -> int | None:
    """The pid in the run's process.json, if that process is still the one recorded (digits.process)."""
    return verified_pid(read_json(Path(run_dir) / PROCESS))


def stop_run(run_dir: Path | str) -> bool:
    """Ask a running training process to stop (SIGTERM: it finishes the batch and keeps the best checkpoint).

    Only a live run's own process is signalled: the run's lock must be held and process.json must name
    that very process (pid, boot and start time); otherwise nothing is sent and the answer is False."""
    run_dir = Path(run_dir)
    if not lock_held(run_dir / LOCK):
        return False
    pid = recorded_process(run_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
        return True
    except OSError:
        return False


# ---------- honouring: the training loop's side ----------

class Control:
    """The hook the training loop polls between batches: `stop` (a threading.Event, or a callable) ends the run,
    `pause` (a callable, e.g. the run folder's pause file) holds it until it says False."""

    def __init__(self, stop: StopFlag = None, pause: Callable[[], bool] | None = None, poll: float = POLL):
        self.stop, self.pause, self.poll = stop, pause, poll

    @classmethod
    def of_run(cls, run_dir: Path | str | None, stop: StopFlag = None) -> Control:
        """The control of a run folder: paused by its pause file (none without a folder), stopped by `stop`."""
        return cls(stop, (lambda: pause_requested(run_dir)) if run_dir else None)

    def stopping(self) -> bool:
        if self.stop is None:
            return False
        return self.stop.is_set() if isinstance(self.stop, threading.Event) else bool(self.stop())

    def pausing(self) -> bool:
        """A pause is asked for (a stop request, when there is one too, wins: the loop asks `stopping` first)."""
        return self.pause is not None and bool(self.pause())

    def hold(self, it: int, clock, losses) -> Iterator[ev.Event]:
        """Paused; wait while a pause is asked for (or until a stop request); Resumed unless stopping. The wait
        counts neither as training time (`clock`, digits.step_log.Clock) nor in the samples/s of the epoch's
        `losses` (digits.step_log.EpochLosses)."""
        yield ev.Paused(clock(), it)
        held = time.perf_counter()
        while self.pause() and not self.stopping():
            time.sleep(self.poll)
        waited = time.perf_counter() - held
        clock.leave_out(waited)
        losses.since += waited
        if not self.stopping():
            yield ev.Resumed(clock(), it)
