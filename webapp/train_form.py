"""The Train page's New-run panel: one input per TrainConfig field (built from its metadata), the recipe
buttons, a name, and Start (a button outside any form: Enter starts nothing)."""

from __future__ import annotations

import functools
from contextlib import closing
from pathlib import Path

import streamlit as st

from digits import MODELS, CheckpointError, TrainConfig, build_model, config_link, count_parameters, drawings
from digits.batch_source import room_of
from digits.catalog import checkpoint_info
from digits.config import applies, choice_words, fields as config_fields, label as config_label, value_words
from digits.device import available_devices
from digits.launch import RunActive, await_first_point, ready_spare, start_run, waiting_spare
from digits.models import BUILT, title
from digits.room import HELD_OUT, VALIDATION
from digits.runs import MAX_NAME
from webapp import builder, presenter, resources
from webapp.text import plain

KEY = "cfg_"  # session_state keys of the form's fields: cfg_epochs, cfg_lr, ...


@functools.lru_cache(maxsize=None)
def _parameters(model: str) -> int:
    """A shipped network's parameters (a built one's are the builder's to say: they change as it is built)."""
    return count_parameters(build_model(model))


def _visible(defaults: TrainConfig) -> list:
    """The settings the panel shows now: those that apply to what is chosen (digits.config.applies)."""
    chosen = {f.name: st.session_state.get(KEY + f.name, getattr(defaults, f.name)) for f in config_fields()}
    return [f for f in config_fields() if applies(f.name, chosen)]


def _starts(model: str) -> list[str]:
    """What a run of `model` can start from: "" (random weights), or a valid checkpoint of that architecture
    (for a built network: of the same layers)."""
    layers = st.session_state.get(KEY + "layers", "") if model == BUILT else ""
    return [""] + [str(p) for p in resources.valid_checkpoints() if _architecture(p) == (model, layers)]


def _architecture(path: Path) -> tuple[str, str] | None:
    """(model, layers) of a checkpoint: what a run that starts from it trains."""
    try:
        info = checkpoint_info(path)
    except CheckpointError:
        return None
    return info.model, info.config.get("layers", "")


def room_words() -> str:
    """How many of the room's drawings a run would learn from, in words."""
    try:
        with closing(drawings.connect()) as db:
            n = sum(v for k, v in drawings.counts(db).items() if k != drawings.NOT_A_DIGIT)
    except drawings.DrawingsError as e:
        return str(e)
    if not n:
        return "The room has no labelled digit drawings yet: people draw on the Draw page and say which digit each is."
    return (f"The room has {n:,} labelled digit drawing{'s' if n != 1 else ''}: about {1 - HELD_OUT - VALIDATION:.0%} "
            f"to learn from, {VALIDATION:.0%} to choose the best model, {HELD_OUT:.0%} held out to measure on "
            "(the same ones in every run).")


def _config_input(where, f, default):
    """The input for one TrainConfig field, from its metadata: label, help, choices or bounds and step."""
    m = f.metadata
    args = dict(label=config_label(f), help=m["help"][:1].upper() + m["help"][1:], key=KEY + f.name)
    if f.name == "model":
        args["help"] = "  \n".join(r.description for r in MODELS.values())
        # Words that do not change while the network is built: a browser sends back the words it shows, and words
        # that had moved on (a live parameter count) would choose nothing. The builder says the count itself.
        options = list(MODELS)
        words = lambda v: MODELS[v].title if v == BUILT else f"{MODELS[v].title} · {_parameters(v):,} params"  # noqa: E731
        value = where.selectbox(options=options, index=options.index(default), format_func=words, **args)
        where.caption(MODELS[value].description)  # follows the choice at once: there is no form to submit
        return value
    if f.name == "start_from":
        model = st.session_state.get(KEY + "model", TrainConfig().model)
        options = _starts(model)
        if st.session_state.get(args["key"]) not in options:
            st.session_state[args["key"]] = ""
        return where.selectbox(options=options, format_func=lambda p: resources.checkpoint_label(Path(p)) if p else
                               "Random weights (from scratch)", **args)
    if m["choices"] is not None:
        options = available_devices() if f.name == "device" else list(m["choices"])
        return where.selectbox(options=options, index=options.index(default) if default in options else 0,
                               format_func=lambda v: choice_words(f.name, v), **args)
    if f.type in (bool, "bool"):
        value = where.toggle(value=default, **args)
        if f.name == "drawings" and value:
            where.caption(plain(room_words()))
        return value
    if f.type in (int, "int"):
        return where.number_input(min_value=m["low"], max_value=m["high"], value=default, step=m["step"] or 1, **args)
    return where.number_input(min_value=float(m["low"]), max_value=float(m["high"]), value=float(default),
                              step=m["step"] or 0.01, format="%g", **args)


def config_inputs(defaults: TrainConfig, columns: int = 4) -> None:
    """One input per TrainConfig field, laid out in rows of `columns` (on a phone they stack in order).
    No st.form: a form submits on Enter, and every change shows at once (Momentum only for SGD)."""
    settings = [f for f in _visible(defaults) if f.name != "layers"]
    for start in range(0, len(settings), columns):
        for where, f in zip(st.columns(columns), settings[start:start + columns]):
            _config_input(where, f, getattr(defaults, f.name))
    if st.session_state.get(KEY + "model") == BUILT:
        builder.editor()


def from_link() -> None:
    """The settings in the page's address (a presenter's shared link: digits.config_link), set in the form once for
    each link a session opens; what a link could not set is said in one line (never its text as markup)."""
    query = st.query_params.to_dict()
    if not query or st.session_state.get("_link") == query:
        return
    st.session_state["_link"] = query
    settings, refused = config_link.settings_of(query)
    for name, value in settings.items():
        st.session_state[KEY + name] = value
    said = []
    if settings:
        said.append("Settings from the link: " + ", ".join(f"{config_label(f)} {value_words(f, settings[f.name])}"
                                                             for f in config_fields() if f.name in settings) + ".")
    if refused:
        said.append("Left at their defaults (not valid in a link): " + "; ".join(refused) + ".")
    st.session_state["_link_said"] = " ".join(said)


def share_link() -> None:
    """The form's settings put in the page's address: the link to hand the room (Home shows the server's address)."""
    query = config_link.query_of(config_values(TrainConfig()))
    st.query_params.from_dict(query)
    st.session_state["_link"] = query  # the address now says what the form says: nothing to set again
    st.session_state["_link_said"] = ("The address bar now opens the Train page with these settings: copy it to "
                                      "share them." if query else "These are the defaults: the plain address opens "
                                      "them.")


def config_values(defaults: TrainConfig) -> dict:
    """The settings entered in the panel, by field name (a hidden field keeps its default)."""
    return {f.name: st.session_state.get(KEY + f.name, getattr(defaults, f.name)) for f in _visible(defaults)}


def _room_recipe() -> None:
    """The fine-tune button's callback: the form's fields set to the "room" recipe, starting from the
    checkpoint chosen in the sidebar."""
    path = resources.selected_checkpoint()
    architecture = _architecture(path) if path else None
    if architecture is None:
        st.session_state["_start_said"] = ("warning", "Choose a checkpoint to fine-tune in the sidebar first.")
        return
    model, layers = architecture
    settings = {**TrainConfig.recipe("room"), "model": model, "layers": layers, "start_from": str(path)}
    for name, value in settings.items():
        st.session_state[KEY + name] = value
    st.session_state["run_name"] = st.session_state.get("run_name") or "room fine-tune"


def _fast_recipe() -> None:
    """The fast-recipe button's callback: the form's fields set to the "fast" recipe (LeNet-5 from scratch)."""
    for name, value in {"model": "lenet5", "start_from": "", "drawings": False, **TrainConfig.recipe("fast")}.items():
        st.session_state[KEY + name] = value
    st.session_state["run_name"] = st.session_state.get("run_name") or "fast recipe"


def _start() -> None:
    """The Start button's callback: runs before the page, so the page that follows already shows the run."""
    if not presenter.is_presenter():
        st.session_state["_start_said"] = ("warning",
                                           "Starting training is for the presenter: enter the presenter key above.")
        return
    try:
        config = TrainConfig.from_dict(config_values(TrainConfig()))
        if config.start_from and _architecture(Path(config.start_from)) != (config.model, config.layers):
            raise ValueError(f"the checkpoint to start from is not a {title(config.model)}"
                             + (" of these layers" if config.layers else ""))
        room_of(config, None)  # a run with the room's drawings needs some: said here, not in a crashed run
    except ValueError as e:
        st.session_state["_start_said"] = ("error", f"Cannot start: {e}")
        return
    spare = waiting_spare()
    warm = spare is not None and spare.ready()  # a warm process takes the run: its first point is ~0.2 s away
    try:
        run = start_run(config, resources.RUNS, name=st.session_state.get("run_name", ""))
    except RunActive as e:  # another session pressed Start at the same moment
        st.session_state["_start_said"] = ("warning", f"{e} It is shown above.")
    except OSError as e:  # runs/ not writable, or a full disk: nothing started, nothing lost
        st.session_state["_start_said"] = ("error", f"{e}. Nothing was started: free some space or fix the folder's "
                                                    "permissions, then Start again.")
    else:
        if warm:
            await_first_point(run)  # the page after Start shows the first chart point, not a poll later
        st.session_state["run"] = run.name
        st.session_state["run_name"] = ""
        st.session_state["_start_said"] = ("toast", f"Started {run.name}")


def new_run_panel(running: Path | None) -> None:
    """The settings and Start, in a panel that is open while nothing trains and folds away while a run
    goes (the run is what people watch then); it opens again when the run ends."""
    from_link()
    if running is None and presenter.is_presenter():
        ready_spare()  # a training process warms up while the settings are chosen: Start answers at once
    before = st.session_state.get("_panel_for")
    if before != (running is not None):  # the page opened, or the run started or ended: refold
        st.session_state["_panel_for"] = running is not None
        # Open while nothing trains, except just after the run being watched ended: then its result (and a
        # fine-tune's before → after) is what people look at, and it stays at the top of the page.
        st.session_state["new_run"] = running is None and before is None
    with st.expander("New run", icon=":material/tune:", key="new_run", on_change="rerun"):
        room, fast, share = st.columns([2, 2, 1])
        room.button(":material/groups: Fine-tune on the room's drawings", on_click=_room_recipe,
                    help="Fills in the settings below: the sidebar's checkpoint, fine-tuned for one epoch on MNIST "
                         "plus the drawings people labelled on the Draw page (recipe \"room\"); measured on the "
                         "drawings it never trains on")
        fast.button(":material/bolt: Fast recipe", on_click=_fast_recipe,
                    help="Fills in the settings below: LeNet-5 from scratch to 99% test accuracy in 6 epochs, about a "
                         "minute on a shared 2-core CPU (recipe \"fast\"; README, \"Speed\")")
        if said := st.session_state.pop("_link_said", None):
            st.info(plain(said), icon=":material/link:")
        config_inputs(TrainConfig())
        share.button(":material/link: Share", on_click=share_link, width="stretch", key="share_link",
                     help="Puts these settings in the page's address, a link that opens this form set up the same way")
        name, start = st.columns([3, 1], vertical_alignment="bottom")
        name.text_input("Name (optional)", key="run_name", max_chars=MAX_NAME, placeholder="e.g. fast SGD try",
                        help="Words of yours for this run, shown with it wherever runs are listed")
        start.button(":material/play_arrow: Start training", type="primary", width="stretch", on_click=_start,
                     disabled=running is not None, help="One run at a time: this one waits until the current run ends"
                     if running is not None else None)
        kind, text = st.session_state.pop("_start_said", (None, ""))
        if kind == "toast":
            st.toast(plain(text))
        elif kind:
            getattr(st, kind)(plain(text))


