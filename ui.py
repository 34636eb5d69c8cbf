"""The app's shared Streamlit helpers: the page list, paths, caches, the sidebar, checkpoints and the
room's address.

Pages stay thin: widgets → one core call → rendering with what is here (and in charts.py,
presenter.py, train_view.py, inside_view.py, inside_sections.py). About 270 lines: a quarter of it is
the one documented answer to Streamlit's pages/ folder mode, kept here so that no page has to know
more than one call; the rest is what every page's sidebar needs.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import streamlit as st
import torch

import presenter
from digits import CheckpointError, load_checkpoint, resolve_device
from digits.catalog import checkpoint_info, list_checkpoints
from digits.data import load_test
from digits.device import cpu_threads, device_name
from digits.mnist import MNISTUnavailable, ready as mnist_ready
from digits.models import title
from digits.runs import CHECKPOINT, list_runs
from digits.uploads import import_checkpoint


# ---------- navigation ----------
#
# A folder named pages/ next to app.py puts Streamlit in its older multipage mode until a session has
# called st.navigation (streamlit/runtime/pages_manager.py: PagesManager.__init__ sets
# uses_pages_directory from `pages/` existing; ScriptRunner then runs _mpa_v1, which matches the
# URL's name against the files in pages/ and runs the match on its own, without app.py). On a fresh
# server the first browsers that open /draw, /train, ... would get the page without the sidebar.
# Page files that mode cannot match do not help: it then sends "page not found", which the browser
# shows as a dialog over the page. So each page runs use_app_navigation() first; the rest is here.

_this_run = threading.local()  # Streamlit runs each script run in its own thread


def pages() -> list:
    """The app's pages in menu order; the file names give the URLs (/train, /draw, ...)."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/train.py", title="Train", icon=":material/monitoring:"),
        st.Page("pages/predictions.py", title="Predictions", icon=":material/grid_view:"),
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
        st.Page("pages/room.py", title="Room", icon=":material/groups:"),
        st.Page("pages/inside.py", title="Inside", icon=":material/visibility:"),
        st.Page("pages/losses.py", title="Losses", icon=":material/functions:"),
        st.Page("pages/model.py", title="Model", icon=":material/account_tree:"),
    ]


def navigation():
    """app.py's menu. The page it returns runs inside the app's navigation and sidebar."""
    _this_run.through_app = True
    return st.navigation(pages())


def use_app_navigation() -> None:
    """Every page calls this first. A run that did not come through app.py is Streamlit's pages/
    folder mode running this file on its own: end that mode for every session the documented way
    (the first st.navigation call in a server does it) and run again, this time through app.py."""
    through_app = getattr(_this_run, "through_app", False)
    _this_run.through_app = False
    if not through_app:
        st.navigation(pages())
        st.rerun()


# One CPU thread for the server's torch. Its work is one drawing at a time for many people: a 28×28
# image is too small to split across cores, and a split forward pass waits, at every layer, for a
# second core that a busy server does not have free (80–130 ms a drawing instead of 2 ms, measured
# with 20 pages drawing). The Predictions page's one pass over the test set is cached per checkpoint.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent
CHECKPOINTS = Path(os.environ.get("DIGITS_CHECKPOINTS", ROOT / "checkpoints"))
RUNS = Path(os.environ.get("DIGITS_RUNS", ROOT / "runs"))


@st.cache_resource
def device() -> torch.device:
    return resolve_device("auto")


def device_label() -> str:
    d = device()
    return f"GPU · {device_name(d)}" if d.type != "cpu" else f"CPU · {cpu_threads()}"


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def test_split():
    """The official 10,000 test images (fetched and verified on first use)."""
    return load_test()


def mnist_or_stop():
    try:
        return test_split()
    except MNISTUnavailable as e:
        st.error(f"MNIST is not available: {e}")
        st.stop()


# ---------- text from files and people ----------

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def plain(text) -> str:
    """Text from outside (a file name, a reason naming a file, a value from a run folder) made safe to show
    inside Streamlit markdown: one line, every markdown character escaped, so a link or an image in a
    file never becomes one on a page (st.markdown, st.error, st.caption all render markdown)."""
    # A colon is followed by a zero-width space as well: Streamlit turns :name: into an emoji or icon even
    # with its colons escaped.
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split())).replace("\\:", "\\:\u200b")


# ---------- checkpoints ----------

def _checkpoints():
    """(valid CheckpointInfo list, {bad path: reason}): shipped, uploaded, then each run's best model.
    The core checks each file once per version of it (size, mtime)."""
    return list_checkpoints(CHECKPOINTS, [r / CHECKPOINT for r in list_runs(RUNS)])


def checkpoint_label(path: Path) -> str:
    """A checkpoint's name in selectboxes and captions: model · where from · test accuracy."""
    where = path.name if path.parent == CHECKPOINTS else f"run {path.parent.name}"
    try:
        info = checkpoint_info(path)
    except CheckpointError:
        return f"⚠ {where} (invalid)"
    acc = info.metrics.get("test_acc")
    acc = f", test {acc:.2%}" if acc is not None else ""
    return f"{title(info.model)} · {where}{acc}"


@st.cache_resource(show_spinner=False, max_entries=32)  # ~250 KB a model: a run's snapshots fit
def _model(path: str, size: int, mtime_ns: int):
    model, meta = load_checkpoint(path)
    return model.to(device()).eval(), meta


def load_model(path: Path, stop: bool = True):
    """(model on the inference device, metadata), loaded once per file version. A file that went bad
    since it was listed ends the page with its reason (or, with stop=False, gives None)."""
    try:
        st_ = path.stat()
        return _model(str(path), st_.st_size, st_.st_mtime_ns)
    except (CheckpointError, OSError) as e:
        if not stop:
            return None
        st.error(plain(f"This checkpoint cannot be used: {e}"))
        st.stop()


def valid_checkpoints() -> list[Path]:
    return [c.path for c in _checkpoints()[0]]


def checkpoint_select(label: str, key: str, default: Path | None = None) -> Path | None:
    """A selectbox of the valid checkpoints; its value survives page switches through session_state."""
    options = [str(p) for p in valid_checkpoints()]
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state[key] = str(default) if default and str(default) in options else options[0]
    chosen = st.selectbox(label, options, key=key, format_func=lambda p: checkpoint_label(Path(p)))
    return Path(chosen)


def invalid_checkpoints() -> dict[Path, str]:
    return _checkpoints()[1]


def upload_checkpoint() -> None:
    """Add a checkpoint file from the user's computer (checked before it is stored; see digits.uploads)."""
    with st.expander("Upload a checkpoint"):
        if not presenter.presenter_gate("Uploading a checkpoint", "upload"):
            return
        f = st.file_uploader("A .pt file saved by digits", type=["pt"], key="upload")
        if f is None or st.session_state.get("_uploaded") == f.file_id:
            return
        try:
            path = import_checkpoint(f.getvalue(), f.name, CHECKPOINTS)
        except CheckpointError as e:
            st.error(plain(f"Not added: {e}"))
            return
        st.session_state["_uploaded"] = f.file_id
        st.session_state["open_checkpoint"] = str(path)
        st.rerun()


def selected_checkpoint() -> Path | None:
    value = st.session_state.get("checkpoint")
    return Path(value) if value and Path(value).exists() else None


def checkpoint_or_stop() -> Path:
    """The checkpoint chosen in the sidebar; without one, say how to get one and end the page here."""
    path = selected_checkpoint()
    if path is None:
        st.info("No model yet: train one on the Train page, or choose a checkpoint in the sidebar.")
        st.stop()
    return path


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def unreachable_room() -> str | None:
    """Listening on the network while `server.allowedHosts` names only this machine: every browser
    that types this machine's address gets a page that never connects (Streamlit refuses its
    websocket). Only someone on this machine can see the warning, which is who can fix it."""
    address = st.get_option("server.address") or "0.0.0.0"  # unset: every interface
    hosts = [str(h).strip().lower() for h in st.get_option("server.allowedHosts") or []]
    if address in LOOPBACK or not hosts or any(h not in LOOPBACK for h in hosts):
        return None
    return ("The room cannot connect yet: this server listens on the network, but "
            "server.allowedHosts names only this machine. Restart with "
            "--server.allowedHosts localhost --server.allowedHosts <this machine's address> "
            "(README, Running a workshop).")


def _this_machine() -> str | None:
    """This machine's address on its network: the source address of a route out (a UDP "connect" sends
    nothing); None without a network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never answered, only routed
            return s.getsockname()[0]
        except OSError:
            return None


def room_url() -> str | None:
    """The address people in the room open, or None while the server listens on this machine only: the
    first name in server.allowedHosts that is not this machine's own (the one the presenter said people
    type), else the address the server listens on, else this machine's network address."""
    address = st.get_option("server.address") or "0.0.0.0"
    if address in LOOPBACK:
        return None
    hosts = [str(h).strip() for h in st.get_option("server.allowedHosts") or [] if str(h).strip().lower() not in LOOPBACK]
    host = hosts[0] if hosts else address if address not in ("0.0.0.0", "::") else _this_machine()
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{st.get_option('server.port')}"


def sidebar() -> None:
    if "open_checkpoint" in st.session_state:  # set by a button before this widget exists in the run
        st.session_state["checkpoint"] = st.session_state.pop("open_checkpoint")
    with st.sidebar:
        if warning := unreachable_room():
            st.warning(warning, icon=":material/wifi_off:")
        checkpoint_select("Checkpoint", key="checkpoint")
        if not valid_checkpoints():
            st.caption("No checkpoint yet: train one on the Train page.")
        if bad := invalid_checkpoints():
            with st.expander(f"⚠ {len(bad)} unusable checkpoint file{'s' if len(bad) > 1 else ''}"):
                for path, reason in bad.items():  # the file's name, not the server's folders
                    st.caption(plain(reason.replace(str(path), path.name)))
        st.caption(f"Compute: {device_label()}")
        st.caption("MNIST: verified ✓" if mnist_ready() else "MNIST: fetched on first use")
