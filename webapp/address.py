"""The address people in the room open, and the warning when the room cannot connect to it."""

from __future__ import annotations

import socket

import streamlit as st

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
    hosts = [str(h).strip() for h in st.get_option("server.allowedHosts") or []
             if str(h).strip().lower() not in LOOPBACK]
    host = hosts[0] if hosts else address if address not in ("0.0.0.0", "::") else _this_machine()
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{st.get_option('server.port')}"
