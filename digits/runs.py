"""A run folder on disk: config.json, events.jsonl (one event a line, flushed), process.json, lock, best.pt,
snapshots/ (the weights at its evaluations, a bounded series: digits.snapshots), starting.txt (what the
process is doing before its first event: importing PyTorch, loading MNIST), and two small files the app
writes: name.txt (a name the user gave the run) and pause (present while a pause is asked for: digits.control).

Another process (the app) follows a run live by reading events.jsonl as it grows. Everything in a run
folder is read as data from outside: lines that are not events are skipped and counted, lines are
bounded in length, and a file that is not a plain file is never opened. A run is "running" while its
training process holds `lock` (flock): the kernel lets go of the lock when that process ends, however
it ends, so a stale pid or a reboot can never make a dead run look alive.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from .events import FINAL_KINDS, Event, from_dict
from .process import hold_lock, lock_held, process_record

EVENTS, CONFIG, PROCESS, CHECKPOINT, LOG, LOCK = ("events.jsonl", "config.json", "process.json", "best.pt", "train.log",
                                                  "lock")
SNAPSHOTS = "snapshots"  # a folder
NAME, STARTING = "name.txt", "starting.txt"
MAX_NAME = 60                  # characters of a run's given name
INHERITED_LOCK = "DIGITS_RUN_LOCKED"  # set by the launcher: the training process inherited the run's lock
MAX_LINE = 64 * 1024           # bytes; an event is ~150 B, a started event ~1 KB
READ_CHUNK = 4 * 1024 * 1024   # bytes read from events.jsonl per chunk; at most 4 chunks per call


class RunWriter:
    """Appends events to <run_dir>/events.jsonl, one JSON object a line, flushed as written.

    Holds the run's lock for as long as it is open (unless its launcher passed the lock down to it)."""

    def __init__(self, run_dir: Path | str, config: dict):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = None if os.environ.get(INHERITED_LOCK) else hold_lock(self.dir / LOCK)
        if self._lock is False:
            raise OSError(f"another process is training in {self.dir}")
        write_json(self.dir / CONFIG, config)
        write_json(self.dir / PROCESS, process_record(os.getpid()))
        self._file = open(self.dir / EVENTS, "a", encoding="utf-8")

    def write(self, event: Event) -> None:
        self._file.write(json.dumps(event.to_dict()) + "\n")
        self._file.flush()

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:  # the failed write was reported already; close() still releases the file
            pass
        if isinstance(self._lock, int):
            os.close(self._lock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def read_plain(path: Path, size: int, offset: int | None = None) -> bytes:
    """Up to `size` bytes of a plain file from `offset` (None: the last `size` bytes); b"" if missing or
    unreadable. A fifo or a device would block or never end, so anything but a plain file reads as b""."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b""
        return os.pread(fd, size, max(0, info.st_size - size) if offset is None else offset)
    except OSError:
        return b""
    finally:
        os.close(fd)


def read_json(path: Path, limit: int = 100_000) -> dict | None:
    """A small JSON object from a plain file, or None (missing, not a plain file, too big, not an object)."""
    raw = read_plain(path, limit + 1, 0)
    try:
        data = json.loads(raw) if len(raw) <= limit else None
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def clean_name(text) -> str:
    """A run's given name as kept: one line of printable characters, at most MAX_NAME."""
    words = "".join(c for c in " ".join(str(text).split()) if c.isprintable())
    return words[:MAX_NAME].strip()


def write_name(run_dir: Path | str, name: str) -> None:
    if name := clean_name(name):
        (Path(run_dir) / NAME).write_text(name, encoding="utf-8")


def read_name(run_dir: Path | str) -> str:
    """The name given to a run at its start ("" if none), read as text from outside."""
    return clean_name(read_plain(Path(run_dir) / NAME, 4 * MAX_NAME, 0).decode("utf-8", "replace"))


def write_starting(run_dir: Path | str, words: str) -> None:
    """Say what a run's process is doing before its first event ("loading MNIST"): the few seconds of
    start-up (README, "Speed") are shown as steps, not as a page that seems stuck."""
    path = Path(run_dir) / STARTING
    tmp = path.with_suffix(".tmp")
    tmp.write_text(words, encoding="utf-8")
    os.replace(tmp, path)


def read_starting(run_dir: Path | str) -> str:
    """The start-up step a run's process last said it is in ("" if none yet)."""
    return read_plain(Path(run_dir) / STARTING, 200, 0).decode("utf-8", "replace").strip()


# ---------- reading ----------

class EventReader:
    """Follows one run's events.jsonl: each `read` parses only what was added since the last one.

    Lines that are not valid events (torn by a crash, not UTF-8, not JSON, of the wrong shape) and lines
    longer than MAX_LINE are skipped and counted in `skipped`; a half-written last line waits."""

    def __init__(self, run_dir: Path | str):
        self.path = Path(run_dir) / EVENTS
        self.offset = 0
        self.skipped = 0
        self.events: list[Event] = []
        self._in_long_line = False  # the bytes up to the next newline belong to an over-long line

    def read(self) -> list[Event]:
        """The events added since the last call (also appended to `self.events`)."""
        new: list[Event] = []
        for _ in range(4):
            data = self._chunk()
            if not data:
                break
            pos = 0
            while (nl := data.find(b"\n", pos)) >= 0:
                line, pos = data[pos:nl], nl + 1
                if self._in_long_line:
                    self._in_long_line = False
                    continue
                event = self._parse(line)
                if event is not None:
                    new.append(event)
            if self._in_long_line or len(data) - pos > MAX_LINE:  # an over-long line: never read it again
                if not self._in_long_line:
                    self.skipped += 1
                self._in_long_line, pos = True, len(data)
            self.offset += pos
            if len(data) < READ_CHUNK:
                break
        self.events.extend(new)
        return new

    def _chunk(self) -> bytes:
        return read_plain(self.path, READ_CHUNK, self.offset)

    def _parse(self, line: bytes) -> Event | None:
        if len(line) > MAX_LINE:
            self.skipped += 1
            return None
        try:
            return from_dict(json.loads(line))
        except (ValueError, RecursionError):
            self.skipped += 1
            return None


def read_events(run_dir: Path | str) -> list[Event]:
    """All readable events of a run, in order."""
    reader = EventReader(run_dir)
    while reader.read():
        pass
    return reader.events


def last_event(run_dir: Path) -> Event | None:
    """The last valid event, reading only the end of the file (runs are listed on every page load)."""
    tail = read_plain(run_dir / EVENTS, 8192)
    for line in reversed(tail.split(b"\n")[:-1]):  # a torn last line has no newline yet
        try:
            return from_dict(json.loads(line))
        except (ValueError, RecursionError):
            continue
    return None


def run_state(run_dir: Path | str, events: list[Event] | None = None) -> str:
    """'finished', 'stopped' or 'failed' (from the last event), 'running' (its process holds the lock),
    or 'crashed' (no final event and no process)."""
    run_dir = Path(run_dir)
    last = events[-1] if events else (last_event(run_dir) if events is None else None)
    if last is not None and last.kind in FINAL_KINDS:
        return last.kind
    return "running" if lock_held(run_dir / LOCK) else "crashed"


def list_runs(runs_dir: Path | str) -> list[Path]:
    """Run folders (a folder with a config.json), newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if not p.is_symlink() and (p / CONFIG).is_file()),
                  key=lambda p: p.name, reverse=True)
