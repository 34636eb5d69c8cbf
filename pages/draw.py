import time
import uuid
from contextlib import closing
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # only importable inside a running Streamlit

from digits import classify, drawings
from digits.models import title
from digits.preprocess import ink_extent
from digits.reading import VIEWS
from webapp import canvas as canvas_fix, navigation, resources, upload
from webapp.pictures import images, room as room_pictures
from webapp.pictures.numbers import percent
from webapp.text import plain

navigation.use_app_navigation()

SMALL = 0.35  # ink spanning less than this share of the canvas: "draw it larger" is the advice that helps
NOT_DIGIT_MESSAGE = "That does not look like a digit"  # the checkpoint's detector says so (digits.detector)
UNSURE_MESSAGE = "Not sure"  # a top probability under digits.reading.LOW_CONFIDENCE: a guess, not an answer
HOW_READ = f"the 28×28 read as it is and moved 1 px each way ({len(VIEWS)} views, averaged)"  # how classify reads it


def _clear() -> None:
    st.session_state["canvas_id"] += 1
    st.session_state.pop("drawing", None)


st.title("Draw a digit")
path = resources.checkpoint_or_stop()
resources.digits_or_stop(path, "reading a drawn digit")


def read(path: Path, image):
    """(prediction, metadata, milliseconds), or the one-line reason it could not be read."""
    model, meta = resources.load_model(path)
    started = time.perf_counter()
    try:
        p = classify(model, image)
    except ValueError as e:  # a drawing too large, or a model whose output is not a number
        return str(e)
    return p, meta, (time.perf_counter() - started) * 1000


def unsure_advice(p, image) -> str:
    if ink_extent(image) < SMALL:
        return (f"Not sure: the best guess has only {p.confidence:.0%}. Try drawing the digit larger, filling most "
                "of the box.")
    return (f"Not sure: the best guess has only {p.confidence:.0%}. If this is a digit, make its shape clearer; if it "
            "is not one, the network still has to choose one of 0–9, the only things it knows.")


def answers(paths: list[Path], image):
    """Each model's answer in a column, laid out a row at a time (name, digit, warning, bars, details), so that
    the columns stay level when one name wraps onto two lines. The first model's Prediction, or None."""
    results = [read(p, image) for p in paths]

    def row():
        return st.columns(len(paths), gap="large") if len(paths) > 1 else [st.container()]

    for col, p in zip(row(), paths):
        col.markdown(f"**{plain(resources.checkpoint_label(p))}**")
    if any(isinstance(r, str) for r in results):
        for col, r in zip(row(), results):
            if isinstance(r, str):
                col.error(plain(r))
    results = [r if not isinstance(r, str) else None for r in results]
    if any(r is not None and r[0].digit is None for r in results):
        st.info("Draw a digit on the canvas.")
        return None
    for col, r in zip(row(), results):
        if r is None:
            continue
        p = r[0]
        big, small = col.columns([1, 1])
        # Numbers computed here, never user text, as one HTML element: st.html costs a browser less on
        # every stroke than markdown with HTML in it (no markdown parse, one element instead of two).
        if p.not_digit or p.unsure:  # the verdict first, in view at once; the guess greyed, for the curious
            kind, verdict, guessed = (("not-digit", NOT_DIGIT_MESSAGE, "what it would have guessed") if p.not_digit
                                      else ("unsure", UNSURE_MESSAGE, "its best guess"))
            big.html(f"<p class='{kind}' style='text-align:center;font-weight:700;margin:0 0 4px'>{verdict}</p>"
                     f"<div class='digit guess' style='font-size:96px;font-weight:700;line-height:1;text-align:center;"
                     f"color:#9e9e9e;opacity:.5'>{p.digit}</div>"
                     f"<p style='text-align:center;margin:4px 0 0;color:#8a8a8a'>{guessed} ({p.confidence:.0%})</p>")
        else:
            big.html("<div class='digit' style='font-size:120px;font-weight:700;line-height:1;text-align:center'>"
                     f"{p.digit}</div>"
                     f"<p style='text-align:center;margin:4px 0 0'>{percent(p.confidence)} sure</p>")
        small.image(images.upscale((p.input * 255).astype(np.uint8), 4), caption="What the network saw (28×28)")
    if results[0] is not None:  # right under the answer: on a phone the bars below would push it off the screen
        feedback(paths[0], image, results[0][0])
    if any(r is not None and r[0].unsure and not r[0].not_digit for r in results):  # "draw larger" only for a digit
        for col, r in zip(row(), results):
            if r is not None and r[0].unsure and not r[0].not_digit:
                col.warning(unsure_advice(r[0], image))
    for col, r in zip(row(), results):
        if r is not None:
            col.html(images.probability_bars(r[0].probs, greyed=r[0].flagged))
    for col, r in zip(row(), results):
        if r is not None:
            col.caption(f"{title(r[1]['model'])} on {resources.device_label()} · {r[2]:.1f} ms · {HOW_READ}")


KEPT = ("Your answer keeps this drawing in the room's collection: the canvas, the 28×28 the network saw, your label, "
        "the model's answer, the time and an anonymous id for this browser session. It stays on this server; "
        "the presenter can download the room's collection.")


def keep(path: Path, image, p, label: int) -> str:
    """Store the drawing with the label a person gave (once per drawing: a second answer relabels it); what
    to tell them. DrawingsError (a limit, a full collection, a store that cannot be opened) goes up."""
    kept = st.session_state.setdefault("kept", {})  # drawing_key → (id, label) stored from this session
    key = room_pictures.drawing_key(image)
    with closing(drawings.connect()) as db:  # one connection a write: sqlite3's belong to the thread that opened them
        session = st.session_state.setdefault("room_session", uuid.uuid4().hex)
        if key in kept and kept[key][1] != label and not drawings.relabel(db, kept[key][0], label, session):
            del kept[key]  # the presenter deleted it meanwhile: this answer keeps it again
        if key not in kept:
            i = drawings.add(db, p.input, label, session, png=room_pictures.canvas_png(image),
                             model=room_pictures.model_name(path, resources.CHECKPOINTS), predicted=p.digit,
                             confidence=p.confidence)
            kept[key] = (i, label)
        else:
            kept[key] = (kept[key][0], label)
        total = sum(drawings.counts(db).values())
    return (f"Kept as {room_pictures.label_word(label)} — thank you; {total:,} drawing{'s' if total != 1 else ''} "
            "in the room's collection.")


def feedback(path: Path, image, p) -> None:
    """One tap under the answer: right, the digit it is, or not a digit. Each answer stores the drawing.
    When the answer was "not a digit", right means not a digit and every digit is a choice."""
    said = drawings.NOT_A_DIGIT if p.not_digit else p.digit
    options = ["right", *(d for d in [*range(10), drawings.NOT_A_DIGIT] if d != said)]
    answer = st.pills("Is it right? One tap keeps your drawing for the room", options,
                      key=f"answer-{room_pictures.drawing_key(image)}",
                      wrap=True,  # on a phone: rows, not a strip to swipe
                      format_func=lambda o: ("✓ Right, it is not a digit" if p.not_digit
                                             else f"✓ Right, it is a {p.digit}")
                      if o == "right" else room_pictures.label_word(o).capitalize())
    if answer is not None:
        try:
            st.success(keep(path, image, p, said if answer == "right" else answer), icon=":material/check:")
        except drawings.DrawingsError as e:
            st.error(plain(f"Not kept: {room_pictures.message(e)}"))
    st.caption(KEPT)


@st.fragment
def board(path: Path) -> None:
    """Canvas and answer. A stroke reruns only this, not the page around it (nor the sidebar).
    The answer sits beside the canvas on a wide screen and right under it on a phone (the columns
    stack); the brush and the comparison come after both."""
    compare = st.session_state.get("compare", False)  # the toggle below, as last set
    second = None
    if compare:
        options = [p for p in resources.valid_checkpoints() if p != path] or resources.valid_checkpoints()
        chosen = st.session_state.get("second_checkpoint")
        second = Path(chosen) if chosen in map(str, options) else options[0] if options else None
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.space("small")  # room for the canvas's own toolbar, which sits above its top edge
        canvas_id = st.session_state.setdefault("canvas_id", 0)
        canvas = st_canvas(stroke_width=st.session_state.get("brush", 18), stroke_color="#FFFFFF",
                           background_color="#000000", width=280, height=280, drawing_mode="freedraw",
                           return_image_data=True, key=f"canvas-{canvas_id}")
        # A new key gives a fresh canvas; set in the callback, so Clear costs one run, not two.
        st.button(":material/ink_eraser: Clear", width=280, on_click=_clear)
        canvas_fix.toolbar_fix()  # on a phone, no invisible toolbar over the canvas's top right
    image = canvas.image_data
    if image is not None and image[..., :3].any():
        st.session_state["drawing"] = image  # the Inside page looks inside the network at this drawing
    with right:
        if image is None:
            st.info("Draw a digit on the canvas.")
        else:
            answers([path] if second is None else [path, second], image)

    st.caption("Draw one digit, as large as you like. The answer comes when you lift the mouse or your finger.")
    brush, other = st.columns([1, 2], gap="large")
    brush.slider("Brush width (px)", 6, 40, 18, key="brush")
    with other:  # drawn after the answers, read before them: a change reruns this fragment with the new value
        st.toggle("Compare with a second checkpoint", key="compare")
        if compare:
            resources.checkpoint_select("Second checkpoint", key="second_checkpoint", default=second)


board(path)
upload.upload_checkpoint()
