"""The Train page's network builder: start from LeNet-5, the small CNN or blank; add, remove and move layers;
each layer's output shape and parameters, and what does not work out, shown at once (digits.arch).

The network lives in the form's `layers` setting as digits.arch's text form, so Start, Share and a link carry
it like any other setting. Every layer in it is valid on its own (the inputs are bounded); the network as a
whole may not be while it is being edited: the table shows how far it works and the one line on why not.
"""

from __future__ import annotations

import streamlit as st

from digits import arch
from digits.models import LeNet5, SmallCNN
from webapp.text import plain

KEY = "cfg_layers"   # the Train form's setting (webapp.train_form.KEY + "layers")
STARTER = "conv 8 3, relu, maxpool 2, flatten, linear 64, relu, linear 10"
STARTS = {"LeNet-5": arch.text(LeNet5.SPEC), "Small CNN": arch.text(SmallCNN.SPEC), "Blank": "flatten, linear 10"}
# what the Add inputs hold before a learner changes them: a field → its first value
ADD_DEFAULTS = {"channels": 8, "kernel": 3, "stride": 1, "padding": 0, "size": 2, "p": 0.25, "width": 64}
ADD_WORDS = {"conv": "Convolution", "maxpool": "Max pooling", "avgpool": "Average pooling", "relu": "ReLU",
             "tanh": "tanh", "gelu": "GELU", "batchnorm": "Batch norm", "dropout": "Dropout", "flatten": "Flatten",
             "linear": "Linear (fully connected)", "pad": "Pad with background"}


def spec() -> list[dict]:
    """The layers being built (each valid on its own; [] when all were removed): the starter until the builder
    is first opened."""
    text = st.session_state.get(KEY)
    if text is None:
        text = STARTER
    try:
        return arch.parse(text, shapes=False) if text.strip() else []
    except ValueError:  # not from the builder (an old session): start again from the starter
        return arch.parse(STARTER)


def _set(layers: list[dict]) -> None:
    st.session_state[KEY] = arch.text(layers) if layers else ""


def _start_from(name: str) -> None:
    st.session_state[KEY] = STARTS[name]
    st.session_state["builder_at"] = 0
    st.session_state.pop("builder_where", None)  # before the new network's last layer, its default


def _move(by: int) -> None:
    layers, i = spec(), st.session_state.get("builder_at", 0)
    if 0 <= i + by < len(layers):
        layers[i], layers[i + by] = layers[i + by], layers[i]
        _set(layers)
        st.session_state["builder_at"] = i + by


def _remove() -> None:
    layers, i = spec(), st.session_state.get("builder_at", 0)
    if 0 <= i < len(layers):
        del layers[i]
        _set(layers)
        st.session_state["builder_at"] = max(0, min(i, len(layers) - 1))


def _add() -> None:
    kind, layers = st.session_state["builder_kind"], spec()
    if len(layers) >= arch.MAX_LAYERS:
        st.session_state["_builder_said"] = f"A network has at most {arch.MAX_LAYERS} layers."
        return
    layer = {"layer": kind, **{f[0]: st.session_state.get(f"builder_{f[0]}", ADD_DEFAULTS[f[0]])
                               for f in arch.FIELDS[kind]}}
    try:
        (layer,) = arch.checked([layer], shapes=False)
    except ValueError as e:
        st.session_state["_builder_said"] = str(e)
        return
    where = min(st.session_state.get("builder_where", len(layers)), len(layers))
    layers.insert(where, layer)
    _set(layers)
    st.session_state["builder_at"] = where


def _from_text() -> None:
    text = st.session_state.get("builder_text", "")
    try:
        layers = arch.parse(text, shapes=False)
    except ValueError as e:
        st.session_state["_builder_said"] = f"Not taken: {e}"
        return
    _set(layers)


def _table(layers: list[dict]) -> tuple[list[arch.Row], str | None]:
    rows, problem = arch.measure(layers)
    # the layer's name on Inside last: on a phone the grid scrolls sideways, and the numbers come first
    shown = [{"#": i + 1, "does": r.words, "output": " × ".join(map(str, r.shape)), "parameters": r.parameters,
              "layer": r.group} for i, r in enumerate(rows)]
    shown += [{"#": i + 1, "does": arch.words(layer), "output": "–", "parameters": None, "layer": ""}
              for i, layer in enumerate(layers[len(rows):], len(rows))]
    st.dataframe([{"#": 0, "does": "one image", "output": "1 × 28 × 28", "parameters": 0, "layer": "input"}] + shown,
                 hide_index=True, width="stretch", key="builder_table",
                 column_config={"parameters": st.column_config.NumberColumn(format="localized")})
    return rows, problem


def _edit_row(layers: list[dict]) -> None:
    """Choose a layer; move it up or down, or remove it."""
    _keep_index("builder_at", len(layers), max(0, len(layers) - 1))
    pick, up, down, remove = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    # numbers only: a browser sends back the words it shows, and a layer's words move when layers do
    pick.selectbox("Layer (its # in the table)", range(len(layers)), key="builder_at",
                   format_func=lambda i: f"#{i + 1}")
    up.button(":material/arrow_upward: Up", on_click=_move, args=(-1,), width="stretch", key="builder_up")
    down.button(":material/arrow_downward: Down", on_click=_move, args=(1,), width="stretch", key="builder_down")
    remove.button(":material/close: Remove", on_click=_remove, width="stretch", key="builder_remove")


def _keep_index(key: str, n: int, default: int) -> None:
    """A position chooser's value kept to 0..n-1 (layers come and go); its default when it has none yet."""
    value = st.session_state.get(key)
    if not isinstance(value, int) or not 0 <= value < n:
        st.session_state[key] = default


def _add_row(layers: list[dict]) -> None:
    """A new layer: its kind, its numbers, where it goes."""
    kind_col, *cols = st.columns([2, 1, 1, 1, 1], vertical_alignment="bottom")  # a convolution has four numbers
    kind = kind_col.selectbox("Add a layer", list(arch.FIELDS), format_func=ADD_WORDS.get, key="builder_kind")
    for where, (name, whole, low, high, _) in zip(cols, arch.FIELDS[kind]):
        default = ADD_DEFAULTS[name]
        if whole:
            where.number_input(name.capitalize(), int(low), int(high), int(default), 1, key=f"builder_{name}")
        else:
            where.number_input(name, float(low), float(high), float(default), 0.05, key=f"builder_{name}")
    at, button = st.columns([3, 1], vertical_alignment="bottom")
    _keep_index("builder_where", len(layers) + 1, max(len(layers) - 1, 0))
    at.selectbox("Where", range(len(layers) + 1), key="builder_where",
                 format_func=lambda i: "first" if i == 0 else f"after #{i}")
    button.button(":material/add: Add", on_click=_add, width="stretch", key="builder_add")


def editor() -> None:
    """The builder, under the Train form's settings when the architecture is "Your own network"."""
    if st.session_state.get(KEY) is None:
        st.session_state[KEY] = STARTER
    layers = spec()
    st.markdown("**Your network**: start from one below, then add, move and remove layers. "
                "The last layer must be linear 10: one output per class (digit).")
    for where, name in zip(st.columns(len(STARTS)), STARTS):
        where.button(f"Start from {name}" if name != "Blank" else "Start blank", on_click=_start_from, args=(name,),
                     width="stretch", key=f"builder_start_{name}")
    rows, problem = _table(layers)
    if problem:
        st.error(plain(f"Not trainable yet: {problem}"), icon=":material/error:")
    else:
        st.success(f"{sum(r.parameters for r in rows):,} parameters · 10 outputs", icon=":material/check:")
    if layers:
        _edit_row(layers)
    _add_row(layers)
    if said := st.session_state.pop("_builder_said", None):
        st.warning(plain(said))
    with st.expander("Edit as text"):
        st.session_state["builder_text"] = arch.text(layers) if layers else ""
        st.text_area("Layers, one after another (commas or new lines)", key="builder_text", on_change=_from_text,
                     help="The same layers in words: conv CHANNELS KERNEL [stride S] [pad P], maxpool N, avgpool N, "
                          "relu, tanh, gelu, batchnorm, dropout P, flatten, linear WIDTH, pad N. Also what "
                          "`python -m digits train --arch FILE` reads.")
