"""The Inside page's sections, one function each, in the page's order (pages/inside.py chooses the model
and the image and calls them). Numbers come from digits.inside, digits.explain and digits.robustness;
pictures from webapp.pictures.inside. The sections read the same trace, one forward pass, except "How robust",
which reads each version as digits.classify reads a drawing (nine shifted views), and the run's history, its
snapshots. (About 270 lines: seven sections of one page, each a short function.)
"""

import html

import numpy as np
import streamlit as st

from digits.explain import IG_STEPS, OCCLUSION_PATCH, gradient_x_input, integrated_gradients, occlusion
from digits.inside import INPUT, explain_number, filters
from digits.mnist import DATASETS
from digits.reading import LOW_CONFIDENCE, VIEWS
from digits.robustness import robustness
from webapp import resources
from webapp.pictures import images, inside as pictures
from webapp.pictures.numbers import percent
from webapp.text import plain

DIGITS = DATASETS["mnist"].classes  # what an answer is called: "7", or a class of clothes in words


@st.cache_resource(show_spinner=False, max_entries=64)
def filter_pictures(weights: str, _model) -> list:
    """[(Filters, PNG bytes)] for each convolution: they depend only on the weights (`weights` is their
    fingerprint), so a stroke does not redraw them (C5's 1,920 kernels take ~40 ms to draw and encode)."""
    return [(f, pictures.png_bytes(pictures.kernels_picture(f.weights, None if f.weights.shape[0] <= 32 else 2)))
            for f in filters(_model)]


def section(number: int, heading: str, words: str) -> None:
    st.subheader(f"{number}. {heading}")
    st.caption(words)


def png(picture: np.ndarray, **kw):
    st.image(pictures.png_bytes(picture), **kw)  # PNG keeps the pixel blocks sharp; encoded fast (pictures.png_bytes)


def signed(activation, last: bool) -> bool:
    """Colours for signed values (diverging) unless the layer cannot go below 0 (ReLU, and pooling of it)."""
    return last or bool((activation.values < 0).any()) or "tanh" in activation.operation



def received(cols, seen, image, words: str, classes=DIGITS) -> None:
    """Section 1, beside the drawing: the answer (first: on a phone the columns stack), the 28×28, the 32×32."""
    size = 96 if len(classes[seen.digit]) == 1 else 32  # a digit, or a class of clothes in words
    cols[1].html(f"<div class='inside-digit' style='font-size:{size}px;font-weight:700;line-height:1;"
                 f"text-align:center'>{html.escape(classes[seen.digit])}</div>"
                 f"<p style='text-align:center'>{percent(seen.probs.max())} sure</p>")
    cols[1].caption(f"{plain(words)} · one pass of this image (Draw averages it and its {len(VIEWS) - 1} "
                    "one-pixel shifts)")
    with cols[2]:
        png(pictures.grey(image, 5), caption="28×28, as the network sees it")
    if seen.layers[0].layer == INPUT:  # LeNet-5's padding is a step of its forward pass
        padded = seen.layers[0].values[0]
        with cols[3]:
            png(pictures.grey((padded - padded.min()) / max(float(np.ptp(padded)), 1e-6), 4),
                caption="32×32: LeNet-5 adds 2 px of paper on each side")


def layers(seen) -> None:
    hidden = [a for a in seen.layers if a.layer != INPUT]
    section(2, "What each layer sees", "One row per layer in forward order. Blue is below 0, white 0, red above; "
            "purple rows cannot go below 0 (ReLU). Each map is one output channel.")
    scale = st.segmented_control("Colour scale", pictures.SCALES, default=pictures.SCALES[0], required=True,
                                 key="inside_scale",
                                 help="How far the colours stretch: one scale for each layer, each map its own, or one "
                                      "for the whole network (the output's logits keep their own).")
    network_top = max(pictures.limit(a.values) for a in hidden[:-1]) if len(hidden) > 1 else 1.0
    for i, act in enumerate(hidden):
        last = i == len(hidden) - 1
        top = None if scale == "per map" and act.values.ndim == 3 and act.values.shape[-1] > 1 else (
            network_top if scale == "whole network" and not last else pictures.limit(act.values))
        name, picture = st.columns([1, 4])
        name.markdown(f"**{act.layer}**  \n{act.operation}  \n{' × '.join(map(str, act.shape))}")
        with picture:
            if act.values.ndim == 3 and act.values.shape[-1] > 1:
                png(pictures.maps_picture(act.values, signed(act, last), top))
            else:  # a vector, or maps of 1×1 (LeNet-5's C5): a strip of units
                png(pictures.units_picture(act.values.reshape(-1), signed(act, last), top))
            if last:
                st.html(images.probability_bars(seen.probs, height=80))
            st.html(pictures.legend(top if top is not None else 1.0, signed(act, last),
                                    "each map scaled to its own largest value" if top is None
                                    else ("logits" if last else "")))


def learned_filters(model) -> None:
    section(3, "The learned filters", "Each convolution's kernels: a column per output map, a row per input map it "
            "reads. Red weights add what lies under them, blue ones subtract it.")
    for f, kernels in filter_pictures(pictures.fingerprint(model), model):
        out, inputs, k, _ = f.weights.shape
        where = st.expander(f"{f.layer}: all {out * inputs:,} kernels") if out * inputs > 200 else st.container()
        with where:
            st.markdown(f"**{f.layer}** · {out} × {inputs} kernels of {k}×{k}")
            st.image(kernels)
            st.html(pictures.legend(pictures.limit(f.weights), True, "weight"))


def one_number(model, image, seen) -> None:
    section(4, "How one number is computed", "Pick a layer and a position: the numbers it reads, the weights, "
            "their products summed with the bias, and the activation function — equal to the value above.")
    hidden = [a for a in seen.layers if a.layer != INPUT]
    readable = [a for a in hidden if any(w in a.operation for w in ("conv", "pool", "linear"))]
    if not readable:  # a network of activations and flattening only: nothing weighs or pools
        st.info("This network has no convolution, pooling or linear layer before its output to look into.")
        return
    c1, c2, c3, c4 = st.columns(4)
    act = next(a for a in readable if a.layer == c1.selectbox("Layer", [a.layer for a in readable], key="inside_layer"))
    if act.values.ndim == 3:
        channels, rows, columns = act.shape
        chosen = c2.number_input("Map", 0, channels - 1, key=f"inside_map-{act.layer}")
        row, column = np.unravel_index(telling_unit(act.values[chosen], act.operation), (rows, columns))
        position = (chosen, c3.number_input("Row", 0, rows - 1, value=int(row), key=f"inside_row-{act.layer}"),
                    c4.number_input("Column", 0, columns - 1, value=int(column), key=f"inside_col-{act.layer}"))
    else:
        unit = telling_unit(act.values, act.operation)
        position = (c2.number_input("Unit", 0, act.shape[0] - 1, value=unit, key=f"inside_unit-{act.layer}"),)
    number(model, image, act, position)


def telling_unit(values: np.ndarray, operation: str) -> int:
    """The flat index of a unit worth working through: one that clearly responds (more than a tenth of the
    layer's largest; the middle of a drawing is often blank paper) but is not saturated (tanh(-8.3) = -1.0000
    teaches nothing), the one nearest the middle of those responses."""
    size = np.abs(values.reshape(-1))
    fine = size > 0.1 * size.max()
    if "tanh" in operation:
        fine &= size < 0.9
    if not fine.any():
        return int(size.argmax())
    middle = np.median(size[fine])
    return int(np.where(fine, np.abs(size - middle), np.inf).argmin())


def why(model, image, seen, classes=DIGITS) -> None:
    section(5, "Why this answer", "Which pixels pushed the answer up (red) or down (blue), and how much covering "
            f"a {OCCLUSION_PATCH}×{OCCLUSION_PATCH} patch with blank paper lowers the answer's probability.")
    m1, m2 = st.columns(2)
    method = m1.segmented_control("Attribution", ["gradient × input", "integrated gradients"],
                                  default="integrated gradients", required=True, key="inside_method",
                                  help="Gradient × input: each pixel times how fast the digit's score changes with it. "
                                       "Integrated gradients: the same, averaged on the way from a blank image "
                                       "(Captum).")
    target = m2.selectbox("Explain the digit" if classes == DIGITS else "Explain the class", range(10),
                          index=seen.digit, key=f"inside_target-{seen.digit}", format_func=classes.__getitem__)
    attribution = (integrated_gradients if method == "integrated gradients" else gradient_x_input)(model, image, target)
    covered = occlusion(model, image, target)
    a1, a2 = st.columns(2)
    with a1:
        png(pictures.overlay(image, attribution.values, True), caption=f"{method} for {classes[target]}")
        st.html(pictures.legend(pictures.limit(attribution.values), True, "share of the score"))
        if attribution.gap is not None:
            st.caption(f"The pixels' shares add up to {attribution.values.sum():.3f}; the digit's score is "
                       f"{attribution.values.sum() - attribution.gap:.3f} higher for this image than for blank paper. "
                       "The two would be equal exactly; they differ a little because the method adds up the change "
                       f"in {IG_STEPS} small steps from blank paper to the image.")
    with a2:
        png(pictures.overlay(image, covered.drop, True),
            caption=f"Occlusion: how far P({target}), now {percent(covered.probability)}, falls when a "
                    f"{OCCLUSION_PATCH}×{OCCLUSION_PATCH} patch covers each place")
        st.html(pictures.legend(pictures.limit(covered.drop), True, "probability lost when covered"))


def robust(model, drawing, image) -> None:
    section(6, "How robust", "The same drawing moved, turned and resized. Each cell: the version the network read, "
            "its answer and confidence (read as the Draw page reads, nine one-pixel shifts averaged). Left: with the "
            "MNIST centring step; right: the whole canvas simply resized to 28×28.")
    st.html(pictures.ROBUST_LEGEND.format(low=LOW_CONFIDENCE))
    grid = robustness(model, drawing if drawing is not None
                      else np.kron((image * 255).astype(np.uint8), np.ones((10, 10), np.uint8)))
    if grid is not None:
        expected = int(grid.rotation.centred.digit[0, list(grid.rotation.columns).index(0)])
        for sweep, rows, columns in ((grid.shift, "px down", "px right"), (grid.rotation, "", "degrees anticlockwise"),
                                     (grid.scale, "", "size")):
            left, right = st.columns(2)
            if sweep is grid.shift:
                left.markdown("**With the MNIST centring**")
                right.markdown("**Without: the canvas resized to 28×28**")
            left.html(pictures.sweep_table(sweep.centred, sweep.rows, sweep.columns, rows, columns, expected,
                                           LOW_CONFIDENCE))
            right.html(pictures.sweep_table(sweep.plain, sweep.rows, sweep.columns, rows, columns, expected,
                                            LOW_CONFIDENCE))


def how_it_learned(run) -> None:
    section(7, "How it learned", "The first convolution's kernels at each snapshot a run kept, untrained at the top.")
    if run is None:
        st.info("Choose \"A run's snapshots\" under Model at the top: the slider steps through the run's snapshots, "
                "and everything on this page follows.")
    else:
        learned(*run)


def number(model, image, act, position) -> None:
    try:
        c = explain_number(model, image, act.layer, position)
    except ValueError as e:
        st.error(plain(e))
        return
    shown = float(act.values[position])
    left, right = st.columns([1, 2])
    with left:
        top, lft, bottom, rgt = c.field
        png(pictures.boxed(pictures.grey(image, 6), c.field, 6),
            caption=f"The {bottom - top}×{rgt - lft} input pixels it depends on"
                    + (" (part of it is padding)" if min(c.field) < 0 or max(c.field) > 28 else ""))
    with right:
        if c.weights is not None and c.inputs.ndim == 3:
            k = c.inputs.shape[-1]
            factor = max(3, 30 // k)
            for what, values in (("inputs read", c.inputs), ("kernels", c.weights), ("products", c.products)):
                png(pictures.colour(pictures.tile(values / pictures.limit(values), len(values), factor), True),
                    caption=what)
            per_map = c.products.reshape(len(c.products), -1).sum(1)
            if len(per_map) == 1:
                st.markdown(f"The {c.products.size} products added up: **{c.products.sum():.4f}**")
            else:
                sums = " + ".join(f"{s:.3f}" for s in per_map[:16]) + (" + …" if len(per_map) > 16 else "")
                st.markdown(f"The {c.products.size} products added up, one input map at a time: {sums} = "
                            f"**{c.products.sum():.4f}**")
        elif c.weights is not None:
            order = np.argsort(-np.abs(c.products))[:8]
            st.markdown(f"{len(c.products)} inputs × their weights; the largest products: " +
                        ", ".join(f"{c.inputs[i]:.3f} × {c.weights[i]:.3f}" for i in order) +
                        f"; all {len(c.products)} summed: **{c.products.sum():.4f}**")
        else:
            png(pictures.colour(pictures.tile(c.inputs[None] / pictures.limit(c.inputs), 1, 30 // c.inputs.shape[-1]),
                                True),
                caption="the window pooled")
            st.markdown(f"{c.reduce} of the {c.inputs.size} numbers in the window: **{c.pre_activation:.4f}**")
        steps = ([f"{c.pre_activation - c.bias:.4f} + bias {c.bias:.4f} = {c.pre_activation:.4f}"]
                 if c.reduce == "sum + bias" else [])
        if c.function:
            steps.append(f"{c.function}({c.pre_activation:.4f}) = **{c.value:.4f}**")
        steps.append(f"value shown above at {act.layer} {tuple(int(p) for p in position)}: **{shown:.4f}** "
                     + ("✓" if abs(shown - c.value) < 1e-3 else "(differs: the arithmetic above is in float64)"))
        st.markdown("  \n".join(steps))


def learned(snapshots, index) -> None:
    rows, accuracy = [], []
    for s in snapshots:
        if (loaded := resources.load_model(s.path, stop=False)) is None:  # a snapshot that went bad: leave its row out
            continue
        model, meta = loaded
        if not (found := filters(model)):  # a network without convolutions: no kernels to watch
            return
        first = found[0].weights
        rows.append(first[:, 0] / pictures.limit(first))
        accuracy.append(meta["metrics"].get("val_acc"))
    if not rows:
        return
    maps = np.concatenate(rows)
    k = maps.shape[-1]
    png(pictures.colour(pictures.tile(maps, len(rows[0]), max(2, 40 // k), gap=6), True),
        width=min(720, 60 * len(rows[0])),
        caption="One row per snapshot, top to bottom as listed below (each row scaled to its own largest weight)")
    words = "; ".join(f"row {i}: iteration {s.iteration:,}, "
                      + (f"validation {a:.1%}" if a is not None else "untrained")
                      for i, (s, a) in enumerate(zip(snapshots, accuracy), 1))
    st.caption(f"{words}. Showing snapshot {index + 1} of {len(snapshots)}.")
