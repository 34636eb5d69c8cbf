"""A network as plain data: a list of layer specs, checked and measured without building anything.

A spec is a list of small dicts, one per layer, in forward order:

| layer       | fields (defaults)                          | text form              |
|-------------|--------------------------------------------|------------------------|
| `pad`       | size                                       | `pad 2`                |
| `conv`      | channels, kernel, stride (1), padding (0)  | `conv 6 5 stride 1 pad 0` |
| `maxpool`   | size (stride = size)                       | `maxpool 2`            |
| `avgpool`   | size (stride = size)                       | `avgpool 2`            |
| `tanh`, `relu`, `gelu` | –                               | `relu`                 |
| `dropout`   | p                                          | `dropout 0.25`         |
| `batchnorm` | –                                          | `batchnorm`            |
| `flatten`   | –                                          | `flatten`              |
| `linear`    | width                                      | `linear 84`            |

The input is one 28×28 image; the last layer must be `linear 10` (one logit per class). The text form (layers
joined by ", ") is what a run's config, a link and the CLI carry; the dicts are what digits.models builds from.
Everything here comes from outside (a form, a link, a JSON file, a checkpoint): every field is checked against
bounds, and the whole network against MAX_PARAMETERS and MAX_ACTIVATIONS_MB, in pure Python, before torch
allocates anything. A problem is a one-line ValueError that names the layer. (About 320 lines: a network's way
in from outside, its fields, shapes, size and text, is one concept kept together so that no check is skipped.)
"""

from __future__ import annotations

import json
import math
import re
from typing import NamedTuple

MAX_LAYERS = 40
MAX_TEXT = 2000               # characters of a text form: 40 layers need far fewer
MAX_FILE = 100_000            # bytes of a network file (JSON with spaces and names)
MAX_PARAMETERS = 1_000_000    # 16 LeNet-5s: a 4 MB checkpoint, under the app's 5 MB upload limit
MAX_MACS = 10_000_000         # multiply-adds for one image: 24 LeNet-5s (an epoch of LeNet-5: ~4 s, 2-core CPU)
MAX_ACTIVATIONS_MB = 400      # every layer's output at batch 256 in float32: what training keeps for backward
MAX_TRAINING_MB = 1000        # the same at the run's own batch size (up to 8,192; LeNet-5 takes 541 MB at 8,192)
BATCH = 256
CLASSES = 10
INPUT = (1, 28, 28)

# layer → its number fields: (name, whole number?, low, high, default or None when required)
FIELDS = {
    "pad": (("size", True, 1, 8, None),),
    "conv": (("channels", True, 1, 512, None), ("kernel", True, 1, 11, None),
             ("stride", True, 1, 4, 1), ("padding", True, 0, 5, 0)),
    "maxpool": (("size", True, 2, 4, None),),
    "avgpool": (("size", True, 2, 4, None),),
    "tanh": (), "relu": (), "gelu": (),
    "dropout": (("p", False, 0.0, 0.9, None),),
    "batchnorm": (),
    "flatten": (),
    "linear": (("width", True, 1, 4096, None),),
}
ACTIVATIONS = ("tanh", "relu", "gelu")
NAMES = {"key": re.compile(r"[a-z][a-z0-9_]{0,19}"), "group": re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,19}")}
TEXT_KEYS = {"stride": "stride", "pad": "padding"}  # "conv 6 5 stride 2 pad 1"


class Row(NamedTuple):
    """One layer as the builder shows it: what it does, what comes out, how many weights it has."""
    group: str        # the layer's name on the Inside page: "C1", "conv 1"
    words: str        # "conv 6 @ 5×5"
    shape: tuple      # its output for one image: (6, 28, 28) or (84,)
    parameters: int


def _number(i: int, layer: str, field: tuple, value):
    name, whole, low, high, _ = field
    ok_type = isinstance(value, int) if whole else isinstance(value, (int, float))
    # the bounds before anything else: a JSON integer of 400 digits is an int too big for a float
    if isinstance(value, bool) or not ok_type or not low <= value <= high or not math.isfinite(value):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"layer {i} ({layer}): {name} must be {kind} from {low:g} to {high:g}, got {_shown(value)}")
    return value


def checked(spec, shapes: bool = True) -> list[dict]:
    """The spec with defaults filled in, every field checked, and (`shapes`) the network as a whole: its shapes
    work out and it is not too big; ValueError naming the first bad layer."""
    if not isinstance(spec, (list, tuple)):
        raise ValueError(f"a network must be a list of layers, not {type(spec).__name__}")
    if not 0 < len(spec) <= MAX_LAYERS:
        raise ValueError(f"a network has 1 to {MAX_LAYERS} layers, got {len(spec)}")
    out = []
    for i, item in enumerate(spec, 1):
        if not isinstance(item, dict) or not isinstance(item.get("layer"), str) or item["layer"] not in FIELDS:
            got = item.get("layer") if isinstance(item, dict) else item
            raise ValueError(f"layer {i}: not a layer ({_shown(got)}); choose one of {', '.join(FIELDS)}")
        kind, fields = item["layer"], FIELDS[item["layer"]]
        extra = set(item) - {"layer", *NAMES, *(f[0] for f in fields)}
        if extra:
            raise ValueError(f"layer {i} ({kind}): unknown field {_shown(sorted(map(str, extra))[0])}")
        layer = {"layer": kind}
        for field in fields:
            value = item.get(field[0], field[4])
            if value is None:
                raise ValueError(f"layer {i} ({kind}): {field[0]} is missing")
            layer[field[0]] = _number(i, kind, field, value)
        for name, pattern in NAMES.items():
            if name in item:
                if not isinstance(item[name], str) or not pattern.fullmatch(item[name]):
                    raise ValueError(f"layer {i} ({kind}): {name} must be a short plain name, got {_shown(item[name])}")
                layer[name] = item[name]
        out.append(layer)
    if shapes:
        rows(out)
    return out


def rows(spec: list[dict]) -> list[Row]:
    """Each layer's output shape and parameters (spec already field-checked); ValueError when a shape breaks
    or the network is too big."""
    out, problem = measure(spec)
    if problem:
        raise ValueError(problem)
    return out


def measure(spec: list[dict]) -> tuple[list[Row], str | None]:
    """(each layer's output shape and parameters, as far as they work out; the one-line problem or None) of a
    field-checked spec: what the builder shows as it is edited. Pure arithmetic: nothing is allocated."""
    out, groups = [], Groups()
    try:
        shape = INPUT
        for i, layer in enumerate(spec, 1):
            shape, params = _step(i, layer, shape)
            out.append(Row(groups.name(layer), words(layer), shape, params))
        _whole(spec, out)
    except ValueError as e:
        return out, str(e)
    return out, None


def _whole(spec: list[dict], out: list[Row]) -> None:
    """The checks on the network as a whole: its output, its size."""
    if not out:
        raise ValueError("a network needs at least one layer: its last is linear 10")
    total, floats, shape = sum(r.parameters for r in out), sum(math.prod(r.shape) for r in out), out[-1].shape
    if spec[-1]["layer"] != "linear" or shape != (CLASSES,):
        raise ValueError(f"the last layer must be linear {CLASSES} (one output per class); "
                         f"layer {len(spec)} gives {_dims(shape)}")
    if total > MAX_PARAMETERS:
        raise ValueError(f"{total:,} parameters: at most {MAX_PARAMETERS:,} on this machine")
    if (macs := multiply_adds(spec, out)) > MAX_MACS:
        raise ValueError(f"{macs:,} multiply-adds an image: at most {MAX_MACS:,} on this machine "
                         "(fewer channels or smaller kernels, or pool earlier)")
    megabytes = floats * BATCH * 4 / 2**20
    if megabytes > MAX_ACTIVATIONS_MB:
        raise ValueError(f"its layers' outputs take {megabytes:,.0f} MB at batch {BATCH}: "
                         f"at most {MAX_ACTIVATIONS_MB} MB (fewer channels, or pool earlier)")


def multiply_adds(spec: list[dict], rows: list[Row]) -> int:
    """The multiply-adds one image costs in the forward pass: each weight of a convolution once per output
    position, each of a linear layer once (the backward pass costs about twice as much)."""
    total = 0
    for layer, row in zip(spec, rows):
        if layer["layer"] == "conv":
            total += (row.parameters - layer["channels"]) * row.shape[1] * row.shape[2]
        elif layer["layer"] == "linear":
            total += row.parameters - layer["width"]
    return total


def training_mb(spec: list[dict], batch_size: int) -> float:
    """MB of every layer's output at `batch_size` in float32 (what training keeps for the backward pass)."""
    return sum(math.prod(r.shape) for r in rows(spec)) * batch_size * 4 / 2**20


def _step(i: int, layer: dict, shape: tuple) -> tuple[tuple, int]:
    """(output shape, parameters) of one layer on an input of `shape`."""
    kind, where = layer["layer"], f"layer {i} ({words(layer)})"
    if kind in ("linear", "flatten") or len(shape) == 1:
        if kind == "linear":
            if len(shape) != 1:
                raise ValueError(f"{where} needs a flat input, gets {_dims(shape)}: add a flatten before it")
            return (layer["width"],), (shape[0] + 1) * layer["width"]
        if kind == "flatten":
            return (math.prod(shape),), 0
        if kind in ("pad", "conv", "maxpool", "avgpool"):
            raise ValueError(f"{where} needs an image, gets {shape[0]} flat values: move it before the flatten")
    if kind == "batchnorm":
        return shape, 2 * shape[0]
    if kind in ("pad", "conv", "maxpool", "avgpool"):
        c, h, w = shape
        if kind == "pad":
            return (c, h + 2 * layer["size"], w + 2 * layer["size"]), 0
        k = layer.get("kernel", layer.get("size"))
        s, p = layer.get("stride", k), layer.get("padding", 0)
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"{where} gets {h}×{w}, smaller than its {k}×{k} window: the image would vanish")
        if kind == "conv":
            return (layer["channels"], oh, ow), (c * k * k + 1) * layer["channels"]
        return (c, oh, ow), 0
    return shape, 0  # an activation or dropout keeps its input's shape


class Groups:
    """The Inside page's name of each layer: its own `group`, else a weighted or pooling layer counts up
    ("conv 1", "linear 2"), an activation, dropout or batch norm joins the layer before it."""

    def __init__(self):
        self.last, self.counts = None, {}

    def name(self, layer: dict) -> str:
        kind = layer["layer"]
        if "group" in layer:
            self.last = layer["group"]
        elif kind not in (*ACTIVATIONS, "dropout", "batchnorm") or self.last is None:  # the first: its own
            family = "pool" if kind.endswith("pool") else kind
            self.counts[family] = self.counts.get(family, 0) + 1
            self.last = family if kind in ("flatten", "pad") else f"{family} {self.counts[family]}"
        return self.last


def words(layer: dict) -> str:
    """What one layer does, in the words the model tables use: "conv 6 @ 5×5", "max pool 2×2", "linear 84"."""
    kind = layer["layer"]
    if kind == "conv":
        k = layer["kernel"]
        extra = "".join(f" {w} {layer[f]}" for w, f in TEXT_KEYS.items() if layer.get(f, 1 if f == "stride" else 0)
                        != (1 if f == "stride" else 0))
        return f"conv {layer['channels']} @ {k}×{k}{extra}"
    if kind.endswith("pool"):
        return f"{'max' if kind == 'maxpool' else 'average'} pool {layer['size']}×{layer['size']}"
    return {"pad": lambda: f"pad {layer['size']}", "dropout": lambda: f"dropout {layer['p']:g}",
            "linear": lambda: f"linear {layer['width']}", "relu": lambda: "ReLU", "gelu": lambda: "GELU",
            "batchnorm": lambda: "batch norm"}.get(kind, lambda: kind)()


def text(spec: list[dict]) -> str:
    """The one-line text form of a checked spec ("conv 8 3, relu, maxpool 2, flatten, linear 10"); names dropped."""
    parts = []
    for layer in spec:
        values = [layer[f[0]] for f in FIELDS[layer["layer"]]]
        if layer["layer"] == "conv":
            part = f"conv {values[0]} {values[1]}" + "".join(
                f" {w} {layer[f]}" for w, f in TEXT_KEYS.items() if layer[f] != (1 if f == "stride" else 0))
        else:
            part = " ".join([layer["layer"], *(f"{v:g}" for v in values)])
        parts.append(part)
    return ", ".join(parts)


def parse(source: str, longest: int = MAX_TEXT, shapes: bool = True) -> list[dict]:
    """A checked spec from its text form (layers split by commas or new lines) or a JSON list of layer dicts;
    ValueError with one line naming the layer."""
    if not isinstance(source, str) or len(source) > longest:
        raise ValueError(f"a network's text has at most {longest:,} characters")
    if source.lstrip().startswith(("[", "{")):
        try:
            return checked(json.loads(source), shapes)
        except RecursionError:
            raise ValueError("the network's JSON is nested too deeply") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"the network's JSON does not parse: {e.msg} at character {e.pos}") from None
    items = [p.strip() for p in re.split(r"[,\n;]", source) if p.strip()]
    if len(items) > MAX_LAYERS:
        raise ValueError(f"a network has 1 to {MAX_LAYERS} layers, got {len(items)}")
    return checked([_layer_of(i, item) for i, item in enumerate(items, 1)], shapes)


def _layer_of(i: int, item: str) -> dict:
    tokens = item.lower().split()
    kind, rest = tokens[0], tokens[1:]
    if kind not in FIELDS:
        raise ValueError(f"layer {i}: {_shown(tokens[0])} is not a layer; choose one of {', '.join(FIELDS)}")
    layer, names = {"layer": kind}, [f[0] for f in FIELDS[kind]]
    if kind == "conv":  # two numbers, then "stride S" and "pad P" in any order
        named = dict(zip(rest[2::2], rest[3::2]))
        if len(rest) < 2 or len(rest) % 2 or set(named) - set(TEXT_KEYS):
            raise ValueError(f"layer {i}: write a convolution as 'conv CHANNELS KERNEL [stride S] [pad P]'")
        rest, names = rest[:2] + [named[w] for w in TEXT_KEYS if w in named], \
            names[:2] + [TEXT_KEYS[w] for w in TEXT_KEYS if w in named]
    if len(rest) != len(names):
        form = " ".join([kind, *(n.upper() for n in names)])
        raise ValueError(f"layer {i}: write it as '{form}'")
    for name, token in zip(names, rest):
        layer[name] = _token(i, kind, token)
    return layer


def _token(i: int, kind: str, token: str):
    if len(token) > 12 or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", token):
        raise ValueError(f"layer {i} ({kind}): {_shown(token)} is not a plain number")
    return float(token) if "." in token else int(token)


def read(path) -> str:
    """The text form of the network in a file (JSON or text, at most MAX_FILE bytes); ValueError with one line."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from None
    if len(raw) > MAX_FILE:
        raise ValueError(f"{path}: a network file has at most {MAX_FILE:,} bytes")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not text (UTF-8)") from None
    try:
        return text(parse(source, longest=MAX_FILE))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def parameters(spec: list[dict]) -> int:
    return sum(r.parameters for r in rows(spec))


def _dims(shape: tuple) -> str:
    return f"{shape[0]} values" if len(shape) == 1 else " × ".join(map(str, shape))


def _shown(value) -> str:
    s = repr(value) if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else \
        type(value).__name__
    return s if len(s) <= 30 else s[:29] + "…"
