"""The address people in the room open, and the warning when the room cannot connect to it."""

from __future__ import annotations

import os
import re

import streamlit as st

from digits.serve import LOOPBACK, this_machine


def _served() -> tuple[str, int]:
    """(the address, the port) people open: the proxy's when this server is a replica of `python -m digits serve`
    (which says so in the environment), else this server's own."""
    if os.environ.get("DIGITS_HALL_ADDRESS") and re.fullmatch(r"[0-9]{1,5}", os.environ.get("DIGITS_HALL_PORT", "")):
        return os.environ["DIGITS_HALL_ADDRESS"], int(os.environ["DIGITS_HALL_PORT"])
    return st.get_option("server.address") or "0.0.0.0", int(st.get_option("server.port"))  # unset: everywhere


def unreachable_room() -> str | None:
    """Listening on the network while `server.allowedHosts` names only this machine: every browser
    that types this machine's address gets a page that never connects (Streamlit refuses its
    websocket). Only someone on this machine can see the warning, which is who can fix it."""
    address = _served()[0]
    hosts = [str(h).strip().lower() for h in st.get_option("server.allowedHosts") or []]
    if address in LOOPBACK or not hosts or any(h not in LOOPBACK for h in hosts):
        return None
    return ("The room cannot connect yet: this server listens on the network, but "
            "server.allowedHosts names only this machine. Restart with "
            "--server.allowedHosts localhost --server.allowedHosts <this machine's address> "
            "(README, Running a workshop).")


def room_url() -> str | None:
    """The address people in the room open, or None while the server listens on this machine only: the
    first name in server.allowedHosts that is not this machine's own (the one the presenter said people
    type), else the address the server listens on, else this machine's network address."""
    address, port = _served()
    if address in LOOPBACK:
        return None
    hosts = [str(h).strip() for h in st.get_option("server.allowedHosts") or []
             if str(h).strip().lower() not in LOOPBACK]
    host = hosts[0] if hosts else address if address not in ("0.0.0.0", "::") else this_machine()
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def replica() -> str | None:
    """"replica 2 of 4" when this server is one of `python -m digits serve`'s (the environment says which)."""
    found = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})", os.environ.get("DIGITS_REPLICA", ""))
    return f"replica {found[1]} of {found[2]}" if found else None
