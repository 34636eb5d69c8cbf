import time
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # only importable inside a running Streamlit

import charts
import ui
from digits import classify

ui.use_app_navigation()


def _clear() -> None:
    st.session_state["canvas_id"] += 1
    st.session_state.pop("drawing", None)


st.title("Draw a digit")
ui.upload_checkpoint()
path = ui.checkpoint_or_stop()


def show(path: Path, image) -> None:
    model, meta = ui.load_model(path)
    started = time.perf_counter()
    try:
        p = classify(model, image)
    except ValueError as e:  # a drawing too large, or a model whose output is not a number
        st.error(ui.plain(e))
        return
    ms = (time.perf_counter() - started) * 1000
    st.markdown(f"**{ui.plain(ui.checkpoint_label(path))}**")
    if p.digit is None:
        st.info("Draw a digit on the canvas.")
        return
    big, small = st.columns([1, 1])
    # Numbers computed here, never user text, as one HTML element: st.html costs a browser less on
    # every stroke than markdown with HTML in it (no markdown parse, one element instead of two).
    big.html(f"<div class='digit' style='font-size:140px;font-weight:700;line-height:1;text-align:center'>{p.digit}</div>"
             f"<p style='text-align:center;margin-top:8px'>{p.confidence:.1%} sure</p>")
    small.image(charts.upscale((p.input * 255).astype(np.uint8), 5), caption="What the network saw (28×28)")
    if p.unsure:
        st.warning(f"Not sure: the best guess has only {p.confidence:.0%}. Try drawing larger or clearer.")
    st.html(charts.probability_bars(p.probs))
    st.caption(f"{meta['model']} on {ui.device_label()} · {ms:.1f} ms")


@st.fragment
def board(path: Path) -> None:
    """Canvas and answer. A stroke reruns only this, not the page around it (nor the sidebar)."""
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.space("small")  # room for the canvas's own toolbar, which sits above its top edge
        canvas_id = st.session_state.setdefault("canvas_id", 0)
        canvas = st_canvas(stroke_width=st.session_state.get("brush", 18), stroke_color="#FFFFFF", background_color="#000000",
                           width=280, height=280, drawing_mode="freedraw", return_image_data=True, key=f"canvas-{canvas_id}")
        # A new key gives a fresh canvas; set in the callback, so Clear costs one run, not two.
        st.button(":material/ink_eraser: Clear", width="stretch", on_click=_clear)
        st.caption("Draw one digit, as large as you like. The answer comes when you lift the mouse.")
        st.slider("Brush width (px)", 6, 40, 18, key="brush")
        compare = st.toggle("Compare with a second model", key="compare")
        second = ui.checkpoint_select("Second model", key="second_checkpoint",
                                      default=next((p for p in ui.valid_checkpoints() if p != path), None)) if compare else None

    image = canvas.image_data
    if image is not None and image[..., :3].any():
        st.session_state["drawing"] = image  # the Inside page looks inside the network at this drawing
    with right:
        if image is None:
            st.info("Draw a digit on the canvas.")
        elif second is None:
            show(path, image)
        else:
            a, b = st.columns(2, gap="large")
            with a:
                show(path, image)
            with b:
                show(second, image)


board(path)
