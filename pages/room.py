from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from digits import drawings, room_answers
from digits.evaluate import metrics_of
from digits.room import part
from webapp import navigation, resources, room as sections
from webapp.pictures import predictions as predictions_pictures, room as pictures
from webapp.text import plain

navigation.use_app_navigation()

PAGE = 48  # drawings a page of the gallery (six rows of eight on a laptop screen)

title, refresh = st.columns([5, 1], vertical_alignment="bottom")
title.title("The room's drawings")
refresh.button(":material/refresh: Refresh", key="room_refresh", help="Read the drawings again: the room keeps drawing")


def answers(path: Path) -> np.ndarray:
    """The (N, 10) log-probabilities of `path` for the drawings read in this run, as the Draw page read them
    (digits.room_answers: kept in the store per checkpoint file and drawing, so a view reads only new drawings);
    once a run for each checkpoint (the table and the matrix both ask for the chosen one)."""
    if path not in read:
        read[path] = _answers(path)
    return read[path]


def _answers(path: Path) -> np.ndarray:
    model = resources.load_model(path)[0]
    with st.spinner("Reading the room's new drawings with the checkpoint…"), closing(drawings.connect()) as db:
        return room_answers.answers(db, model, room_answers.fingerprint(path), rows)


def room_metrics(all_logits: np.ndarray, trained_on_room: bool):
    """Accuracy and confusion on the digit drawings (not-a-digit ones have no right answer among 0–9); for a
    checkpoint that learned from the room, on the held-out ones only (digits.room): never on what it saw."""
    keep = is_digit & held_out if trained_on_room else is_digit
    return metrics_of(torch.from_numpy(all_logits[keep]), torch.from_numpy(labels[keep]))


def trained_on_room(meta: dict) -> bool:
    return bool((meta.get("metrics") or {}).get("room_train")) or bool(meta.get("room_sha256"))


rows, counts = sections.read()
read: dict[Path, np.ndarray] = {}  # this run's answers, by checkpoint
if done := st.session_state.pop("room_done", None):  # said at the top, and in a toast where the presenter looks
    (st.success if done[0] == "success" else st.error)(plain(done[1]))
    st.toast(plain(done[1]), icon=":material/check_circle:" if done[0] == "success" else ":material/error:")
if not rows:
    st.info("No drawings yet. Draw a digit on the Draw page and tap whether the answer is right: "
            "each answer keeps the drawing here, for everyone in the room to see.")
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
    sections.import_file()
    st.stop()

labels = np.array([d.label for d in rows])
sessions = len({d.session for d in rows})
m, chart = st.columns([1, 4], vertical_alignment="center")
m.metric("Drawings", f"{len(rows):,}")
m.caption(f"{int((labels >= 0).sum()):,} digit{'s' if (labels >= 0).sum() != 1 else ''}, "
          f"{counts[drawings.NOT_A_DIGIT]:,} not a digit, "
          f"from {sessions:,} browser session{'s' if sessions != 1 else ''}")
chart.plotly_chart(pictures.counts_chart(counts), key="room_counts",
                   config={"displaylogo": False, "displayModeBar": False})

# ---------- how each checkpoint reads the room ----------
is_digit = labels >= 0
held_out = np.array([part(d.pixels) == "held_out" for d in rows])
checkpoints = resources.valid_checkpoints()
if not checkpoints:
    st.info("No checkpoint yet to read the drawings with: train one on the Train page.")
table = []
for path in checkpoints:
    loaded = resources.load_model(path, stop=False)  # None: it went bad since it was listed
    if loaded is None:
        continue
    learned = trained_on_room(loaded[1])
    n = int((is_digit & held_out).sum() if learned else is_digit.sum())
    room = room_metrics(answers(path), learned) if n else None
    table.append({"Checkpoint": resources.checkpoint_label(path),
                  "Room's digits": "–" if room is None else f"{room.accuracy:.1%}",
                  "Right": (f"{int(room.confusion.trace()):,} of {n:,}" + (" held out" if learned else "")
                            if room else "–"),
                  "MNIST test": f"{test:.2%}" if (test := (loaded[1].get("metrics") or {}).get("test_acc")) is not None
                  else "– (not measured yet)"})
if table:
    # The table across the page (a half-width one cut its columns at 1400 px); the matrix and its chooser below.
    st.subheader("How each checkpoint reads the room")
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", column_config={
        "Checkpoint": st.column_config.TextColumn(width="large"),
        "Room's digits": st.column_config.TextColumn(width="small"),
        "Right": st.column_config.TextColumn(width="small"),
        "MNIST test": st.column_config.TextColumn(width="small")})
    left, right = st.columns([3, 2])
    left.caption("Accuracy on the drawings people labelled with a digit (not-a-digit ones have no right answer), read "
                 "as the Draw page reads them, "
                 "next to the accuracy on MNIST's 10,000 test images. A gap is how far the room's hands are from "
                 "the writers of 1990s forms. A checkpoint fine-tuned on the room is measured only on the held-out "
                 "quarter of the drawings, the ones it never learned from.")
    with left:
        path = resources.checkpoint_select("Checkpoint for the matrix and the gallery", key="room_checkpoint",
                                    default=resources.selected_checkpoint())
    all_logits = answers(path)
    predicted = dict(zip((d.id for d in rows), all_logits.argmax(1).tolist()))
    learned = trained_on_room(resources.load_model(path)[1])
    if (is_digit & held_out).any() if learned else is_digit.any():
        fig = predictions_pictures.confusion_chart(room_metrics(all_logits, learned).confusion)
        fig.update_layout(title="The room's digits" + (", held out" if learned else "")
                          + ": label → the checkpoint's answer",
                          clickmode="none",
                          xaxis_title="read as", yaxis_title="label")
        fig.update_traces(hovertemplate="labelled %{y} → read as %{x}: %{customdata} drawings<extra></extra>",
                          selector=dict(mode="markers"))
        right.plotly_chart(fig, key="room_confusion", config={"displaylogo": False, "displayModeBar": False})
else:
    predicted = {}

# ---------- the gallery ----------
st.subheader("Drawings, newest first")
f1, f2, f3 = st.columns(3)
wrong_only = f1.toggle("Only the ones it reads wrong", key="room_wrong", disabled=not predicted)
label = f2.selectbox("Label", ["any", *pictures.LABELS], key="room_label",
                     format_func=lambda x: x if x == "any" else pictures.label_word(x))
models = sorted({d.model or "" for d in rows})
model = f3.selectbox("Answered at the time by", ["any", *models], key="room_model",
                     format_func=lambda x: "any" if x == "any" else x or "no model (imported)")
filters = pictures.Filters(wrong_only and bool(predicted), None if label == "any" else label,
                           None if model == "any" else model)
shown = pictures.chosen(rows, predicted, filters)

if st.session_state.get("_room_filters") != filters:
    st.session_state["_room_filters"], st.session_state["room_batch"] = filters, 0
pages = max(1, -(-len(shown) // PAGE))
batch = min(st.session_state.get("room_batch", 0), pages - 1)
b1, b2, b3 = st.columns([1, 1, 4], vertical_alignment="center")
if b1.button(":material/chevron_left: Newer", disabled=batch == 0, key="room_newer"):
    batch = st.session_state["room_batch"] = batch - 1
if b2.button("Older :material/chevron_right:", disabled=batch >= pages - 1, key="room_older"):
    batch = st.session_state["room_batch"] = batch + 1
b3.caption(f"Page {batch + 1} of {pages} · {len(shown):,} drawing{'s' if len(shown) != 1 else ''} match"
           + (f" · answers by {plain(resources.checkpoint_label(path))}" if predicted else ""))
page = shown[batch * PAGE:(batch + 1) * PAGE]
if page:
    st.html(pictures.gallery_html(page, predicted))
else:
    st.info("No drawing matches these filters.")

# ---------- room-wide changes and files ----------
sections.edit(page, key=f"room_pick-{batch}-{hash(filters)}")
sections.downloads()
sections.import_file()
