"""Pictures of the inside of a network, built from numbers only: the Inside page's rendering (no Streamlit).

The conventions are CNN Explainer's: a diverging colour map centred on 0 (blue below, white at 0, red
above) for signed values such as tanh outputs, weights and attributions; a sequential one (white to
purple) for values that cannot be negative (ReLU, pooling of ReLU); small maps enlarged in pixel
blocks; each layer drawn as ONE image (a browser draws one picture per layer far faster than one
element per map, and a stroke redraws them all); and a numeric legend for every scale.
"""

from __future__ import annotations

import base64
import hashlib
import io

import numpy as np
from PIL import Image

from webapp.pictures.images import upscale
from webapp.pictures.numbers import percent

# Colour stops (ColorBrewer RdBu and Purples, which stay readable for the common colour blindnesses).
_DIVERGING = np.array([[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
                       [253, 219, 199], [239, 138, 98], [178, 24, 43]], np.float32)
_SEQUENTIAL = np.array([[252, 251, 253], [218, 218, 235], [158, 154, 200], [106, 81, 163], [63, 0, 125]], np.float32)
GAP = (225, 225, 225)   # the grey between maps
SCALES = ("per layer", "per map", "whole network")  # how far the colours stretch; the page's switch


def colour(values: np.ndarray, signed: bool) -> np.ndarray:
    """Values already scaled to [-1, 1] (signed) or [0, 1] → uint8 RGB (..., 3); NaN is the gap grey."""
    stops = _DIVERGING if signed else _SEQUENTIAL
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.0)
    t = (np.clip(v, -1, 1) + 1) / 2 if signed else np.clip(v, 0, 1)
    x = t * (len(stops) - 1)
    rgb = np.stack([np.interp(x, np.arange(len(stops)), stops[:, c]) for c in range(3)], axis=-1)
    rgb[np.isnan(np.asarray(values, np.float32))] = GAP
    return rgb.round().astype(np.uint8)


def limit(values: np.ndarray) -> float:
    """The largest magnitude, never 0 (an all-zero layer would otherwise divide by zero)."""
    top = float(np.abs(values).max()) if values.size else 0.0
    return top if top > 0 else 1.0


def tile(maps: np.ndarray, columns: int, factor: int, gap: int = 2) -> np.ndarray:
    """(C, H, W) maps → one (rows·(H·f+gap), columns·(W·f+gap)) array, each pixel a f×f block, NaN between."""
    c, h, w = maps.shape
    rows = -(-c // columns)
    bh, bw = h * factor + gap, w * factor + gap
    out = np.full((rows * bh - gap, columns * bw - gap), np.nan, np.float32)
    big = np.kron(maps, np.ones((factor, factor), np.float32))
    for i in range(c):
        r, k = divmod(i, columns)
        out[r * bh:r * bh + h * factor, k * bw:k * bw + w * factor] = big[i]
    return out


def layout(count: int, side: int, width: int = 720) -> tuple[int, int]:
    """(columns, enlargement) for `count` maps of `side` px in about `width` px: maps of ~56–112 px."""
    factor = max(1, round(84 / side))
    columns = max(1, min(count, width // (side * factor + 2)))
    return columns, factor


def maps_picture(maps: np.ndarray, signed: bool, top: float | None) -> np.ndarray:
    """Feature maps (C, H, W) as one RGB image. `top`: the value drawn at full colour; None: each map its own."""
    if top is None:
        maps = maps / np.array([limit(m) for m in maps], np.float32)[:, None, None]
    else:
        maps = maps / top
    columns, factor = layout(len(maps), maps.shape[-1])
    return colour(tile(maps, columns, factor), signed)


def units_picture(units: np.ndarray, signed: bool, top: float | None, per_row: int = 42, size: int = 16) -> np.ndarray:
    """A vector of units (n,) as a strip of squares, wrapped every `per_row` units, one image."""
    columns = min(len(units), per_row)
    scaled = units / (top if top is not None else limit(units))
    return colour(tile(scaled.reshape(-1, 1, 1), columns, size), signed)


def grey(image: np.ndarray, factor: int = 8) -> np.ndarray:
    """An image in [0, 1] (white ink on black, as MNIST) as uint8, enlarged in pixel blocks."""
    return upscale((np.clip(image, 0, 1) * 255).astype(np.uint8), factor)


def overlay(image: np.ndarray, values: np.ndarray, signed: bool, factor: int = 8,
            top: float | None = None) -> np.ndarray:
    """`values` (28, 28) coloured over a faint copy of the image, so that one sees where on the digit they are."""
    colours = colour(values / (top or limit(values)), signed).astype(np.float32)
    ink = np.clip(image, 0, 1)[..., None]
    picture = colours * (1 - 0.35 * ink)  # the digit's strokes darken what lies on them
    return np.kron(picture.round().astype(np.uint8), np.ones((factor, factor, 1), np.uint8))


def boxed(picture: np.ndarray, box: tuple[int, int, int, int], factor: int, rgb=(230, 60, 20)) -> np.ndarray:
    """An RGB or grey picture of a 28×28 image with a 2-px frame around input pixels (top, left, bottom, right)."""
    out = np.repeat(picture[..., None], 3, axis=2) if picture.ndim == 2 else picture.copy()
    top, left, bottom, right = (max(0, min(28, v)) * factor for v in box)
    h, w = out.shape[:2]
    for r0, r1, c0, c1 in ((top, top + 2, left, right), (bottom - 2, bottom, left, right),
                           (top, bottom, left, left + 2), (top, bottom, right - 2, right)):
        out[max(0, r0):min(h, r1), max(0, c0):min(w, c1)] = rgb
    return out


def legend(top: float, signed: bool, what: str = "") -> str:
    """A colour bar with its numbers, as HTML built from numbers only."""
    stops = _DIVERGING if signed else _SEQUENTIAL
    gradient = ", ".join(f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in stops)
    low = f"{-top:.3g}" if signed else "0"
    middle = "<span>0</span>" if signed else ""
    words = f"<span style='margin-left:8px;color:#666'>{what}</span>" if what else ""
    return (f"<div class='legend' style='display:flex;align-items:center;gap:6px;font-size:12px'>"
            "<div style='width:200px'>"
            f"<div style='height:10px;border-radius:2px;background:linear-gradient(90deg,{gradient})'></div>"
            "<div style='display:flex;justify-content:space-between'>"
            f"<span>{low}</span>{middle}<span>{top:.3g}</span></div></div>"
            f"{words}</div>")


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=1)  # fast: these pictures are small
    return buffer.getvalue()


def png_data(picture: np.ndarray) -> str:
    """A picture as a data: URL, for an <img> inside HTML that we build."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode("ascii")


def fingerprint(model) -> str:
    """A short hash of a network's weights: what a picture of its filters depends on."""
    h = hashlib.blake2b(digest_size=16)
    h.update(type(model).__name__.encode())
    for p in model.parameters():
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()


# The robustness grid's colours: one meaning each, said in its legend (ROBUST_LEGEND).
SAME, CHANGED, UNSURE = "#222222", "#d62728", "#9e9e9e"
ROBUST_LEGEND = ("<span style='font-size:12px;color:#555'>Black: the same answer as the unchanged drawing · "
                 f"<span style='color:{CHANGED};font-weight:700'>red, framed</span>: a different answer, "
                 "however sure · "
                 f"<span style='color:{UNSURE};font-weight:700'>grey</span>: not sure (under {{low:.0%}}, as the "
                 "Draw page says)</span>")


def sweep_table(readings, rows: tuple, columns: tuple, row_words: str, column_words: str, expected: int | None,
                low: float = 0.6) -> str:
    """One sweep of the robustness grid as an HTML table: each cell the version the network read (small),
    its digit and its confidence; a digit that differs from `expected` is red in a red frame, one read with a
    confidence under `low` (the Draw page's "not sure") is grey, the others black."""
    head = "".join(f"<th style='font-weight:400;color:#666'>{c:g}</th>" for c in columns)
    body = []
    for i, r in enumerate(rows):
        cells = []
        for j in range(len(columns)):
            digit, conf = int(readings.digit[i, j]), float(readings.confidence[i, j])
            if digit < 0:
                cells.append("<td style='color:#999;text-align:center'>no ink</td>")
                continue
            wrong = expected is not None and digit != expected
            colour = CHANGED if wrong else UNSURE if conf < low else SAME
            cells.append(
                f"<td style='text-align:center;padding:3px;border:2px solid {CHANGED if wrong else 'transparent'}'>"
                f"<img src='{png_data(grey(readings.inputs[i, j], 2))}' width='42' height='42'"
                " style='display:block;margin:auto'>"
                f"<span style='font-weight:700;font-size:18px;color:{colour}'>{digit}</span>"
                f"<span style='font-size:11px;color:{colour if colour != SAME else '#555'}'> {percent(conf, 0)}"
                "</span></td>")
        label = f"<th style='font-weight:400;color:#666;text-align:right'>{r:g}</th>" if len(rows) > 1 else ""
        body.append(f"<tr>{label}{''.join(cells)}</tr>")
    corner = (f"<th style='font-weight:400;color:#666;font-size:11px'>{row_words} ↓ {column_words} →</th>"
              if len(rows) > 1 else "")
    caption = ("" if len(rows) > 1
               else "<caption style='caption-side:top;text-align:left;font-size:11px;color:#666'>"
               f"{column_words}</caption>")
    return (f"<table class='sweep' style='border-collapse:collapse;font-size:12px'>{caption}"
            f"<tr>{corner}{head}</tr>{''.join(body)}</table>")


def kernels_picture(weights: np.ndarray, factor: int | None = None) -> np.ndarray:
    """A convolution's kernels (out, in, k, k) as one image: a column per output map, a row per input map,
    all on the layer's one diverging scale."""
    out, inputs, k, _ = weights.shape
    by_input = weights.transpose(1, 0, 2, 3).reshape(-1, k, k) / limit(weights)
    return colour(tile(by_input, out, factor or max(2, 40 // k)), True)
