"""A run folder on disk: config.json, events.jsonl (one event a line, flushed), process.json, best.pt.

Another process (the app) can follow a run live by reading events.jsonl as it grows.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from .events import FINAL_KINDS, Event

EVENTS, CONFIG, PROCESS, CHECKPOINT, LOG = "events.jsonl", "config.json", "process.json", "best.pt", "train.log"


class RunWriter:
    """Appends events to <run_dir>/events.jsonl, one JSON object a line, flushed as written."""

    def __init__(self, run_dir: Path | str, config: dict):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_json(self.dir / CONFIG, config)
        _write_json(self.dir / PROCESS, {"pid": os.getpid(), "started": time.time()})
        self._file = open(self.dir / EVENTS, "a", encoding="utf-8")

    def write(self, event: Event) -> None:
        self._file.write(json.dumps(event.to_dict()) + "\n")
        self._file.flush()

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:  # the failed write was reported already; close() still releases the file
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def read_events(run_dir: Path | str, offset: int = 0) -> tuple[list[dict], int]:
    """Events from byte `offset` on, and the offset to continue from. A half-written last line waits."""
    path = Path(run_dir) / EVENTS
    if not path.is_file():  # missing, or not a plain file (a fifo or a device would block or never end)
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a crash: skip it, keep the rest
    return out, offset + end


def _last_event(run_dir: Path) -> dict | None:
    """The last complete event, reading only the end of the file (runs are listed on every page load)."""
    path = run_dir / EVENTS
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 8192))
            lines = f.read().split(b"\n")[:-1]  # a torn last line has no newline yet
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def run_state(run_dir: Path | str, events: list[dict] | None = None) -> str:
    """'finished', 'stopped' or 'failed' (from the last event), 'running', or 'crashed' (process gone)."""
    run_dir = Path(run_dir)
    last = events[-1] if events else (_last_event(run_dir) if events is None else None)
    if last and last.get("kind") in FINAL_KINDS:
        return last["kind"]
    try:
        pid = json.loads((run_dir / PROCESS).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return "crashed"
    return "running" if _alive(pid) else "crashed"


def run_id(model: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{model}"


def start_run(config: dict, runs_dir: Path | str, nice: int = 19, threads: int = 0) -> Path:
    """Launch `python -m digits train --run-dir` as its own process (own session: it outlives the caller)."""
    import subprocess
    import sys

    from .train import TrainConfig

    TrainConfig.from_dict(config)  # refuse bad settings here, with the core's message
    run_dir = Path(runs_dir) / run_id(config["model"])
    args = [sys.executable, "-m", "digits", "train", "--run-dir", str(run_dir), "--quiet"]
    for key, value in config.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        else:
            args += [flag, str(value)]
    if threads:
        args += ["--threads", str(threads)]
    try:
        run_dir.mkdir(parents=True, exist_ok=False)
    except OSError as e:
        raise OSError(f"Cannot create the run folder {run_dir}: {e.strerror or e}") from e
    try:
        _write_json(run_dir / CONFIG, config)
        log = open(run_dir / LOG, "w")
    except OSError as e:  # a full disk: take back the half-made folder, nothing else
        shutil.rmtree(run_dir, ignore_errors=True)
        raise OSError(f"Cannot write to the run folder {run_dir}: {e.strerror or e}") from e
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=Path(__file__).resolve().parents[1])
    log.close()
    if nice:
        lower_priority(proc.pid, nice)
    _write_json(run_dir / PROCESS, {"pid": proc.pid, "started": time.time()})
    return run_dir


def lower_priority(pid: int, nice: int = 19) -> None:
    """Make a process take only the CPU time that others leave over (best effort; never raises).

    On Linux with autogroup scheduling (the default on most distributions) every session gets its
    own CPU group, shared fairly with the others, and a process's nice value only ranks it inside
    its group: a training run started in a new session at nice 19 still took a third of this
    2-core machine from twenty drawing pages. So the group's nice is raised as well, and the
    process is put in SCHED_IDLE where the platform has it.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except (OSError, AttributeError):
        pass
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # not Linux, or autogroup scheduling is off: the nice value above is what counts
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


def stop_run(run_dir: Path | str) -> bool:
    """Ask a running training process to stop (SIGTERM: it finishes the batch and keeps the best checkpoint)."""
    import signal

    try:
        pid = json.loads((Path(run_dir) / PROCESS).read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def list_runs(runs_dir: Path | str) -> list[Path]:
    """Run folders, newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if (p / CONFIG).exists()), key=lambda p: p.name, reverse=True)
