"""Which process: a lock a process holds for its whole life, and a record that tells a pid is still
the process it was (not a later one given the same number).

The kernel lets go of a flock when its process ends, however it ends, so a stale pid or a reboot can
never make a dead process look alive; a pid is only ever signalled after both checks.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

# ---------- the lock: held by the training process for its whole life ----------

def hold_lock(path: Path) -> int | bool:
    """Take `path`'s exclusive flock without waiting: the open fd (keep it open to hold the lock),
    or False when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    return fd


def lock_held(path: Path) -> bool:
    """Whether a live process holds `path`'s lock (a shared test lock never blocks another tester)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ---------- which process ----------

PID_MAX = 4_194_304  # Linux's largest pid (2**22)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (/proc/PID/stat, field 22); None without /proc."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_record(pid: int) -> dict:
    """What process.json holds: enough to tell later that a pid is still this very process."""
    return {"pid": pid, "started": time.time(), "boot": _boot_id(), "ticks": _start_ticks(pid)}


def verified_pid(record: dict | None) -> int | None:
    """The pid of a `process_record` if it is a plausible pid of this boot and that process is the one
    recorded (not another that was given the same pid later); else None."""
    pid = record.get("pid") if isinstance(record, dict) else None
    if not (isinstance(pid, int) and not isinstance(pid, bool) and 1 < pid <= PID_MAX):
        return None
    if Path("/proc/self/stat").exists():  # Linux: the same boot and the same start time, or a reused pid
        if record.get("boot") != _boot_id() or record.get("ticks") is None or record.get("ticks") != _start_ticks(pid):
            return None
    return pid


# ---------- priority: a training run takes the CPU others leave over ----------

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
