"""A run's settings in a link: the Train form's settings as a URL's query string, so a presenter can hand the room
an address that opens the form set up the same way (`/train?model=cnn&epochs=3&lr=0.05`).

A link comes from outside: every value is parsed by its field's type (ASCII digits, a finite number, a choice,
yes/no) with a bounded length, then checked by TrainConfig's own bounds, one setting at a time; what does not
pass keeps its default and is named in one line. The settings of this machine only (the checkpoint to start
from, the device) are never taken from a link nor put in one."""

from __future__ import annotations

import math
import re

from . import arch
from .config import TrainConfig, fields
from .models import BUILT

LOCAL = ("start_from", "device")  # a path on this server, a device of this machine
MAX_VALUE = 32     # characters of one value: any valid one is far shorter
MAX_REFUSED = 5    # names of refused settings said; the rest counted
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
YES, NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def shareable() -> list:
    return [f for f in fields() if f.name not in LOCAL]


def _parse(f, text: str):
    """The value of `text` for field `f`; ValueError when it is not one."""
    if len(text) > (arch.MAX_TEXT if f.name == "layers" else MAX_VALUE) or not text.isascii():
        raise ValueError
    if f.name == "layers":
        return text  # checked as a network with the model it belongs to (_checked_with)
    if f.metadata["choices"] is not None:
        if text not in f.metadata["choices"]:
            raise ValueError
        return text
    if f.type in (bool, "bool"):
        if text.lower() not in YES + NO:
            raise ValueError
        return text.lower() in YES
    if not NUMBER.fullmatch(text):
        raise ValueError
    if f.type in (int, "int"):
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


def settings_of(query: dict) -> tuple[dict, list[str]]:
    """(the settings a link sets, each valid on its own with the others at their defaults; the names of those it
    could not set, with why, at most MAX_REFUSED and a count). Unknown names are said too."""
    known = {f.name: f for f in shareable()}
    settings, refused = {}, []
    for name, text in list(query.items())[:100]:
        f = known.get(name)
        if f is None:
            refused.append(f"{str(name)[:20]!r} is not a setting")
            continue
        try:
            value = _parse(f, str(text))
            # its bounds, as the form and the CLI check them; a network's layers with the network they build
            checked = TrainConfig.from_dict(_checked_with(name, value, str(query.get("layers", "")),
                                                          query.get("model") != BUILT))
            value = getattr(checked, name)
        except ValueError:
            refused.append(f"{name}={str(text)[:20]!r}")
            continue
        settings[name] = value
    if len(refused) > MAX_REFUSED:
        refused = refused[:MAX_REFUSED] + [f"and {len(refused) - MAX_REFUSED} more"]
    return settings, refused


def _checked_with(name: str, value, layers: str, layers_alone: bool) -> dict:
    """The settings one value of a link is checked with: layers with a built model, a built model with the link's
    layers, any other setting alone (the others at their defaults)."""
    if name == "layers":  # only with the network they build: alone they would set a hidden field
        if layers_alone:
            raise ValueError
        return {"model": BUILT, "layers": value}
    if name == "model" and value == BUILT:
        return {"model": BUILT, "layers": layers[:arch.MAX_TEXT]}
    return {name: value}


def query_of(settings: dict) -> dict[str, str]:
    """The settings that differ from the defaults, as a link's query (what settings_of reads back)."""
    defaults = TrainConfig()
    out = {}
    for f in shareable():
        value = settings.get(f.name, getattr(defaults, f.name))
        if value != getattr(defaults, f.name):
            out[f.name] = ("1" if value else "0") if isinstance(value, bool) else repr(value) if isinstance(
                value, float) else str(value)
    return out
