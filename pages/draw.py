import time
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # only importable inside a running Streamlit

import ui
from digits import classify

ui.use_app_navigation()

st.title("Draw a digit")
ui.upload_checkpoint()
path = ui.checkpoint_or_stop()

left, right = st.columns([1, 2], gap="large")
with left:
    st.caption("Draw one digit, as large as you like. The prediction updates when you lift the mouse.")
    canvas_id = st.session_state.setdefault("canvas_id", 0)
    canvas = st_canvas(stroke_width=st.session_state.get("brush", 18), stroke_color="#FFFFFF", background_color="#000000",
                       width=280, height=280, drawing_mode="freedraw", return_image_data=True, key=f"canvas-{canvas_id}")
    if st.button(":material/ink_eraser: Clear", width="stretch"):
        st.session_state["canvas_id"] += 1
        st.rerun()
    st.slider("Brush width (px)", 6, 40, 18, key="brush")
    compare = st.toggle("Compare with a second model", key="compare")
    second = ui.checkpoint_select("Second model", key="second_checkpoint",
                                  default=next((p for p in ui.valid_checkpoints() if p != path), None)) if compare else None

image = canvas.image_data


def show(path: Path, key: str) -> None:
    model, meta = ui.load_model(path)
    started = time.perf_counter()
    p = classify(model, image)
    ms = (time.perf_counter() - started) * 1000
    st.markdown(f"**{ui.checkpoint_label(path)}**")
    if p.digit is None:
        st.info("Draw a digit on the canvas.")
        return
    big, small = st.columns([1, 1])
    # The digit is an int computed here, never user text: safe to place in HTML.
    big.markdown(f"<div class='digit' style='font-size:140px;font-weight:700;line-height:1;text-align:center'>{p.digit}</div>",
                 unsafe_allow_html=True)
    big.markdown(f"<p style='text-align:center'>{p.confidence:.1%} sure</p>", unsafe_allow_html=True)
    small.image(ui.upscale((p.input * 255).astype(np.uint8), 5), caption="What the network saw (28×28)")
    if p.unsure:
        st.warning(f"Not sure: the best guess has only {p.confidence:.0%}. Try drawing larger or clearer.")
    st.markdown(ui.probability_bars(p.probs), unsafe_allow_html=True)
    st.caption(f"{meta['model']} on {ui.device_label()} · {ms:.1f} ms")


with right:
    if image is None:
        st.info("Draw a digit on the canvas.")
    elif second is None:
        show(path, "first")
    else:
        a, b = st.columns(2, gap="large")
        with a:
            show(path, "first")
        with b:
            show(second, "second")
