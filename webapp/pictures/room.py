"""The room's drawings on the page, built from numbers and the store only (no Streamlit): the Draw page's
canvas as PNG and a checkpoint's name as stored, the Room page's counts chart, filters and gallery tiles.
Every text from outside (a model's name, a label from a file) is escaped before it becomes HTML."""

from __future__ import annotations

import base64
import hashlib
import html
import io
from pathlib import Path

import numpy as np
from PIL import Image

from digits.drawings import NOT_A_DIGIT, Drawing, default_path, store_name

LABELS = (*range(10), NOT_A_DIGIT)  # the answers a person can give, in the order the Room page lists them


def label_word(label: int) -> str:
    return "not a digit" if label == NOT_A_DIGIT else str(label)


def message(error: Exception) -> str:
    """A store's one-line error for everyone in the room: the store's file by its name, not the server's folders."""
    where = default_path()
    return str(error).replace(str(where), where.name if isinstance(where, Path) else store_name(where))


def canvas_png(image: np.ndarray) -> bytes:
    """The canvas as drawn (st_canvas's RGBA, H×W×4, uint8 or floats in 0–255) as PNG bytes."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(a).save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def drawing_key(image: np.ndarray) -> str:
    """A short hash of a canvas: the same drawing answered twice is stored once, a new stroke is new."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]


def model_name(path: Path, checkpoints: Path) -> str:
    """A checkpoint as the store names the model that answered: its file name for one in the checkpoints
    folder, "run <folder>" for a run's best model (the words of resources.checkpoint_label)."""
    return path.name if path.parent == checkpoints else f"run {path.parent.name}"


def counts_html(counts: dict[int, int]) -> str:
    """Drawings per label as bars in plain HTML, "not a digit" last and grey: the Room page loads no chart library
    (a browser new to the page parses plotly's 3.5 MB for two small charts otherwise)."""
    most = max(counts.values(), default=0) or 1
    bars = []
    for k in LABELS:
        n, colour = counts.get(k, 0), "#969696" if k == NOT_A_DIGIT else "#3182bd"
        bars.append(f"<div title='{label_word(k)}: {n:,} drawings' style='flex:1;display:flex;flex-direction:column;"
                    f"justify-content:flex-end;align-items:center;min-width:0'>"
                    f"<span style='font-size:12px'>{n:,}</span>"
                    f"<div style='width:70%;height:{round(110 * n / most)}px;background:{colour};border-radius:2px'>"
                    f"</div><span style='font-size:12px;color:#555;white-space:nowrap'>{label_word(k)}</span></div>")
    return ("<div class='room-counts' role='img' aria-label='drawings per label' style='display:flex;gap:4px;"
            f"height:150px;align-items:stretch'>{''.join(bars)}</div>")


def confusion_html(confusion: np.ndarray, title: str) -> str:
    """Labels → the checkpoint's answers as a table, the mistakes shaded red by how many (the diagonal, the
    right answers, would drown them: it is grey), each cell's count written in it."""
    off = confusion.astype(float).copy()
    np.fill_diagonal(off, 0)
    worst = off.max() or 1
    head = "".join(f"<th style='font-weight:400;color:#555'>{j}</th>" for j in range(10))
    rows = []
    for i, row in enumerate(confusion):
        cells = []
        for j, n in enumerate(row):
            shade = "#eeeeee" if i == j else f"rgba(220,38,38,{0.08 + 0.82 * n / worst:.2f})" if n else "#ffffff"
            ink = "#fff" if i != j and n / worst > 0.55 else "#222"
            cells.append(f"<td title='labelled {i} → read as {j}: {n:,} drawings' style='background:{shade};"
                         f"color:{ink};text-align:center;padding:3px 0;min-width:26px'>{n:,}</td>")
        rows.append(f"<tr><th style='font-weight:400;color:#555;padding-right:6px'>{i}</th>{''.join(cells)}</tr>")
    return (f"<figure style='margin:0'><figcaption style='font-size:14px;margin-bottom:4px'>{html.escape(title)}"
            "</figcaption><table class='room-confusion' style='border-collapse:collapse;font-size:12px;width:100%'>"
            f"<tr><th style='font-size:11px;color:#555'>label ↓ read as →</th>{head}</tr>{''.join(rows)}</table>"
            "</figure>")


def _tile_uri(pixels: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8)).save(out, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def gallery_html(rows: list[Drawing], predicted: dict[int, int]) -> str:
    """One HTML block of tiles: the 28×28 each drawing became, enlarged in pixel blocks, with its id, its
    label and the chosen checkpoint's answer; a wrong answer in a red frame. Text from outside escaped."""
    tiles = []
    for d in rows:
        pred = predicted.get(d.id)
        wrong = d.label != NOT_A_DIGIT and pred is not None and pred != d.label
        colour = "#dc2626" if wrong else "#2ea043" if d.label != NOT_A_DIGIT else "#969696"
        # A drawing labelled "not a digit" has no right answer: the checkpoint's top digit is only its guess.
        answer = ("" if pred is None else f"· would guess {pred}" if d.label == NOT_A_DIGIT
                  else f"{'✗' if wrong else '✓'} read as {pred}")
        title = f"#{d.id} · label {label_word(d.label)} · answered by {d.model or 'no model (imported)'}"
        tiles.append(
            f"<figure class='tile{' wrong' if wrong else ''}' title='{html.escape(title, quote=True)}' "
            f"style='margin:0;width:92px;text-align:center;font-size:12px;line-height:1.3'>"
            f"<img src='{_tile_uri(d.pixels)}' width='84' height='84' alt='drawing {d.id}' "
            f"style='image-rendering:pixelated;border:4px solid {colour};border-radius:3px'>"
            f"<figcaption><b>{html.escape(label_word(d.label))}</b> <span style='color:#888'>#{d.id}</span><br>"
            f"<span style='color:{'#dc2626' if wrong else '#555'}'>{html.escape(answer)}</span></figcaption></figure>")
    return f"<div class='gallery' style='display:flex;flex-wrap:wrap;gap:10px'>{''.join(tiles)}</div>"
