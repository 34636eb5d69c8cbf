"""A training process started before Start is pressed: it imports PyTorch, reads MNIST and warms the
optimizer while the presenter is still choosing settings, then waits; Start hands it the run.

Why: a cold `python -m digits train` spends ~2.5 s importing torch and ~1–2 s more on its first optimizer
step (which imports `torch._dynamo`) before the first chart point (README, "Speed"), more than the 2 s a
learner waits for a button to answer. The app keeps one spare (`Spare.start`) while no run is going;
`Spare.hand` gives it a run through a private socket pair: the command's arguments and the open file
descriptors of the run's two locks and its log (SCM_RIGHTS), exactly what `subprocess.Popen(pass_fds=…)`
gives a cold process. The spare then runs the same `digits.cli.main` a cold process would.

A spare never outlives the app that made it: when the app's end of the socket closes (the server stops
or crashes) the waiting spare reads end-of-file and exits. Once handed a run it is that run's process,
independent of the app, as a cold one is.

    python -m digits.spare FD    # FD: this process's end of the socket pair (the app starts it)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import torch
import torch.nn.functional as F

from .cli import main  # the same entry a cold process runs (and through it the training loop: imported warm)
from .data import load_splits
from .models import build_model
from .runs import INHERITED_LOCK

READY = b"r"          # the spare says it is warm
MAX_MESSAGE = 65_536  # a run's command line, as JSON
DISABLE = "DIGITS_SPARE"  # "0": no spare; every run starts cold (the test suite's default for in-process pages)


def enabled() -> bool:
    """Whether the app keeps a spare: not where $DIGITS_SPARE is "0", nor where descriptors cannot be
    passed over a socket pair of whole messages (Windows; there every run starts cold)."""
    possible = hasattr(socket, "send_fds") and hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket, "AF_UNIX")
    return possible and os.environ.get(DISABLE, "1") != "0"


class Spare:
    """The app's side of one spare process."""

    def __init__(self, proc: subprocess.Popen, sock: socket.socket):
        self.proc, self.sock = proc, sock

    @classmethod
    def start(cls, env: dict[str, str]) -> "Spare":
        """Launch a spare in a session of its own (as a cold run is, digits.launch); OSError if it cannot be."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # one message, whole
        try:
            proc = subprocess.Popen([sys.executable, "-m", "digits.spare", str(theirs.fileno())],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True, pass_fds=(theirs.fileno(),), env=env,
                                    cwd=Path(__file__).resolve().parents[1])
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(proc, ours)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self) -> bool:
        """Whether the spare has finished warming up (it may still be handed a run before: it takes it then)."""
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == READY
        except (BlockingIOError, OSError):
            return False

    def hand(self, argv: list[str], fds: list[int]) -> bool:
        """Give the spare a run: the `python -m digits` arguments and the descriptors it must hold (the
        locks, then the log, which becomes its stdout and stderr). A spare still warming up takes the run
        when it is done (it is further along than a cold start). False if the spare is gone: start the run
        cold instead. The app's copies of the descriptors stay the caller's to close."""
        if not self.alive():
            self.sock.close()
            return False
        try:
            socket.send_fds(self.sock, [json.dumps({"argv": argv}).encode()], fds)
        except OSError:
            self.sock.close()
            return False
        # The app's end is closed only once the spare's "ready" has been read: a socket closed with unread
        # data resets its peer, which would lose the run's message. The spare sends nothing after it.
        threading.Thread(target=self._close_when_ready, daemon=True).start()
        return True

    def _close_when_ready(self, wait: float = 600.0) -> None:
        try:
            self.sock.settimeout(wait)
            self.sock.recv(1)
        except OSError:
            pass
        finally:
            self.sock.close()


def warm_up() -> None:
    """What a cold run spends its first seconds on, done before there is a run: the imports (torch, the
    training loop, the progress bar), MNIST from its tensor cache, and a first optimizer step (a torch
    optimizer's first use imports torch._dynamo) on a throwaway LeNet-5."""
    import tqdm  # noqa: F401  (the CLI's progress bar: the CLI imports it only when a run starts printing)

    try:
        load_splits()
    except Exception:  # noqa: BLE001  (MNIST missing or unreadable: the run itself will say so, in one line)
        pass
    model = build_model("lenet5")
    for opt in (torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9, nesterov=True),
                torch.optim.Adam(model.parameters(), lr=0.0)):
        F.cross_entropy(model(torch.zeros(2, 1, 28, 28)), torch.zeros(2, dtype=torch.long)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def serve(fd: int) -> int:
    """The spare's side: warm up, say so, wait for a run and run it (its exit code); 0 if the app went away."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd)
    warm_up()
    try:
        sock.sendall(READY)
        message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
    except OSError:
        return 0
    if not message:  # the app closed its end: nobody will hand this spare a run
        return 0
    sock.close()
    *locks, log = fds  # the locks stay open (held) for the life of this process, as pass_fds would keep them
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ[INHERITED_LOCK] = "1"
    return main(json.loads(message)["argv"])


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
