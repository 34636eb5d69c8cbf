"""The presenter key: in a workshop, only the presenter starts and stops training and uploads files.

Set DIGITS_PRESENTER_KEY (or `presenter_key` in .streamlit/secrets.toml) and those room-wide actions
ask for the key once per browser session; drawing, browsing and looking stay open to everyone. Wrong keys
are limited for the whole server (Guesses), not per session, and for all the replicas of a hall together.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from webapp import resources

log = logging.getLogger("digits.presenter")


class Guesses:
    """Wrong keys across every session of this server: after each one, no key is checked for a while, a second
    after the first and twice as long after each further one (at most MAX_WAIT s); a right key starts over. Many
    browsers guessing together get no more tries than one. Each wrong key is logged, never what was typed.

    With a `file` (a function giving its path), the count is kept there under a file lock, so that the replicas of
    `python -m digits serve`, which share the runs folder, are one server to a guesser, not N. A file that cannot
    be used (a read-only folder) or holds nonsense leaves the count to this process alone."""

    MAX_WAIT = 60.0

    def __init__(self, file: Callable[[], Path] | None = None):
        self._lock, self._file = threading.Lock(), file
        self._state = {"wrong": 0, "closed_until": 0.0}

    @contextmanager
    def _shared(self):
        """The count, under this process's lock and every process's (flock on the file): read, changed, written."""
        with self._lock:
            f = self._open()
            try:
                yield self._state
                if f is not None:
                    f.seek(0)
                    f.truncate()
                    f.write(json.dumps(self._state))
                    f.flush()
            except OSError:
                pass  # a full disk: the count stays this process's
            finally:
                if f is not None:
                    f.close()  # and the lock with it

    def _open(self):
        if self._file is None:
            return None
        try:
            path = self._file()
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(path, "a+", encoding="utf-8")
        except OSError:
            return None
        try:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            data = json.loads(f.read(1000) or "{}")
            wrong, until = data.get("wrong", 0), data.get("closed_until", 0.0)
            if (isinstance(wrong, int) and 0 <= wrong <= 10**6 and isinstance(until, (int, float))
                    and math.isfinite(until) and until <= time.time() + self.MAX_WAIT + 1):
                self._state = {"wrong": wrong, "closed_until": float(until)}
        except (OSError, ValueError, AttributeError):
            pass  # nonsense in the file: this process's count, written over it
        return f

    @property
    def wrong(self) -> int:
        with self._shared() as state:
            return state["wrong"]

    def wait(self, now: float | None = None) -> float:
        """Seconds until a key may be checked again (0: now)."""
        with self._shared() as state:
            return max(0.0, state["closed_until"] - (time.time() if now is None else now))

    def take(self, now: float | None = None) -> float:
        """The right to check one key: 0 and the window closed for a second (so that sessions arriving together
        are checked one a second), else the seconds to wait. Taken under the lock: check and close are one step."""
        now = time.time() if now is None else now
        with self._shared() as state:
            if (wait := state["closed_until"] - now) > 0:
                return wait
            state["closed_until"] = now + 1.0
            return 0.0

    def failed(self, now: float | None = None) -> None:
        with self._shared() as state:
            state["wrong"] += 1
            wrong, delay = state["wrong"], min(self.MAX_WAIT, 2.0 ** (state["wrong"] - 1))
            state["closed_until"] = (time.time() if now is None else now) + delay
        log.warning("a wrong presenter key (%d in a row on this server); keys are checked again in %.0f s",
                    wrong, delay)

    def passed(self) -> None:
        with self._shared() as state:
            state["wrong"], state["closed_until"] = 0, 0.0


# One for the server, kept in the runs folder that every replica of a hall shares (webapp.resources.RUNS).
GUESSES = Guesses(lambda: resources.RUNS / ".presenter-guesses.json")


def presenter_key() -> str | None:
    """DIGITS_PRESENTER_KEY, else `presenter_key` in .streamlit/secrets.toml, else None (everything open)."""
    key = os.environ.get("DIGITS_PRESENTER_KEY")
    if not key and st.secrets.load_if_toml_exists():
        key = st.secrets.get("presenter_key")
    return str(key) if key else None


def is_presenter() -> bool:
    key = presenter_key()
    return key is None or st.session_state.get("_presenter") == hashlib.sha256(key.encode()).hexdigest()


def presenter_gate(what: str, where: str) -> bool:
    """Whether this browser session may do a room-wide action (start or stop training, upload).

    With a presenter key set, a session asks for it once; drawing, browsing and looking stay open."""
    if is_presenter():
        return True
    key = presenter_key()
    st.caption(f":material/lock: {what} is for the presenter in this room.")
    given = st.text_input("Presenter key", type="password", key=f"_presenter_try_{where}")
    checked = f"_presenter_checked_{where}"  # the field keeps its text across reruns: each text is checked once
    digest = hashlib.sha256(given.encode()).hexdigest()
    if given and st.session_state.get(checked) == digest:
        st.error("That is not the presenter key.")
    elif given:
        if (wait := GUESSES.take()) > 0:  # not checked at all: a guess in this window learns nothing
            st.error(f"Too many wrong keys on this server: keys are checked again in {wait:.0f} s.")
            return False
        st.session_state[checked] = digest
        # Compared as SHA-256 digests in constant time: how long the comparison takes says nothing of the key.
        if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(key.encode()).digest()):
            GUESSES.passed()
            st.session_state["_presenter"] = hashlib.sha256(key.encode()).hexdigest()
            st.rerun()
        GUESSES.failed()
        st.error("That is not the presenter key.")
    return False
