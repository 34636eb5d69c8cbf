"""Training as a process of its own: start one run at a time (pause, resume and stop are digits.control's).

`start_run` launches `python -m digits train --config RUN/config.json --run-dir RUN --nice 19` in its
own session, so a run outlives the app that started it (and lowers its own priority once its first chart
point is out, digits.process.lower_priority: start-up at normal priority shows the first point seconds sooner on a
busy machine). One run at a time is an atomic lock, not a check:
the launcher takes `runs/.training.lock` and the run's own `lock` before the process exists and hands
both to it; they are released by the kernel when the training process ends. `ready_spare` keeps a
process that has already imported PyTorch and read MNIST (digits.spare); `start_run` hands the run to it
when there is one, so the first event follows Start at once instead of after a cold start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import TrainConfig
from .events import FINAL_KINDS
from .process import hold_lock, lock_held, process_record
from .runs import CONFIG, INHERITED_LOCK, LOCK, LOG, PROCESS, EventReader, write_json, write_name, write_starting
from .spare import Spare, enabled as spare_enabled

ACTIVE = ".training.lock"  # in the runs folder: held by the one training process the app started


class RunActive(Exception):
    """Another training run that the app started is still going."""


_spare: Spare | None = None       # this app's warm training process, waiting for the next Start
_spare_lock = threading.Lock()    # the pages of one server call in from many threads


def ready_spare() -> None:
    """Have a warm training process waiting for the next Start (digits.spare), unless one is already
    waiting or $DIGITS_SPARE is "0". The Train page calls this while no run is going: the spare's few
    seconds of start-up are spent while the presenter chooses settings, not after Start. Never raises."""
    global _spare
    if not spare_enabled():
        return
    with _spare_lock:
        if _spare is not None and _spare.alive():
            return
        try:
            _spare = Spare.start(dict(os.environ))
        except OSError:
            _spare = None  # no spare: the next Start starts cold, as before


def waiting_spare() -> Spare | None:
    """The spare waiting for the next Start, if any (for the benchmark and the tests)."""
    return _spare


def _take_spare() -> Spare | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    return spare


def await_first_point(run_dir: Path | str, timeout: float = 1.5) -> bool:
    """Wait (at most `timeout` seconds) for a run's first Step event, its first chart point; whether it came.
    A run handed to a warm spare has it within a fraction of a second: waiting for it lets the page that
    follows Start show the point at once instead of one polling interval later."""
    reader, deadline = EventReader(run_dir), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.kind == "step" or e.kind in FINAL_KINDS for e in reader.read()):
            return True
        time.sleep(0.05)
    return False


def run_id(model: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{model}"


def start_run(config: TrainConfig | dict, runs_dir: Path | str, nice: int = 19, threads: int = 0,
              name: str = "") -> Path:
    """Launch a training run (`name`: the user's words for it, optional); its folder. RunActive if one is
    going, OSError (one line) if the folder fails."""
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)  # the core's message
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        active = hold_lock(runs_dir / ACTIVE)
    except OSError as e:
        raise OSError(f"Cannot create the run folder in {runs_dir}: {e.strerror or e}") from None
    if active is False:
        raise RunActive("A training run is already going; one at a time per server.")
    run_dir, own = None, None
    try:
        for n in range(100):  # two starts in the same second get two folders
            run_dir = runs_dir / (run_id(config.model) + (f"-{n}" if n else ""))
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                continue
        own = hold_lock(run_dir / LOCK)
        write_json(run_dir / CONFIG, config.to_dict())
        write_name(run_dir, name)
        argv = ["train", "--config", str(run_dir / CONFIG), "--run-dir", str(run_dir), "--quiet"] + \
            (["--threads", str(threads)] if threads else []) + (["--nice", str(nice)] if nice else [])
        spare = _take_spare()
        write_starting(run_dir, "handed to the waiting training process" if spare else
                       "starting Python and importing PyTorch")  # the process says the next steps itself
        with open(run_dir / LOG, "w") as log:
            if spare is not None and spare.hand(argv, [active, own, log.fileno()]):
                pid = spare.pid
            else:
                pid = subprocess.Popen([sys.executable, "-m", "digits", *argv], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(active, own),
                                       env={**os.environ, INHERITED_LOCK: "1"},
                                       cwd=Path(__file__).resolve().parents[1]).pid
        write_json(run_dir / PROCESS, process_record(pid))
        return run_dir
    except OSError as e:  # a full disk: take back the half-made folder, nothing else
        if run_dir is not None and run_dir.exists() and not lock_held(run_dir / LOCK):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise OSError(f"Cannot write to the run folder {run_dir}: {e.strerror or e}") from None
    finally:  # the training process holds its own copies of both locks from here on
        os.close(active)
        if isinstance(own, int):
            os.close(own)
