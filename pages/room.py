
import pandas as pd
import streamlit as st

from digits import drawings, room_view
from webapp import navigation, resources, room as sections
from webapp.pictures import room as pictures
from webapp.text import plain

navigation.use_app_navigation()

PAGE = 48  # drawings a page of the gallery (six rows of eight on a laptop screen)

title, refresh = st.columns([5, 1], vertical_alignment="bottom")
title.title("The room's drawings")
refresh.button(":material/refresh: Refresh", key="room_refresh", help="Read the drawings again: the room keeps drawing")


def trained_on_room(meta: dict) -> bool:
    return bool((meta.get("metrics") or {}).get("room_train")) or bool(meta.get("room_sha256"))


# The checkpoints that read the room: digit models whose file loads (one that went bad since it was listed is left out).
checkpoints = resources.valid_checkpoints()
readers = {path: loaded for path in checkpoints if (loaded := resources.load_model(path, stop=False)) is not None
           and resources.dataset_of(loaded[1]) == "mnist"}  # the room draws digits, not clothes
read_by = sections.readings({path: loaded[0] for path, loaded in readers.items()})  # first: the counts below
# are then of the store as these readings leave it
room = sections.read()
if done := st.session_state.pop("room_done", None):  # said at the top, and in a toast where the presenter looks
    (st.success if done[0] == "success" else st.error)(plain(done[1]))
    st.toast(plain(done[1]), icon=":material/check_circle:" if done[0] == "success" else ":material/error:")
if not room.extent.shown:
    st.info("No drawings yet. Draw a digit on the Draw page and tap whether the answer is right: "
            "each answer keeps the drawing here, for everyone in the room to see.")
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
    sections.import_file()
    st.stop()

digits = sum(n for label, n in room.counts.items() if label != drawings.NOT_A_DIGIT)
m, chart = st.columns([1, 4], vertical_alignment="center")
m.metric("Drawings", f"{room.extent.shown:,}")
m.caption(f"{digits:,} digit{'s' if digits != 1 else ''}, {room.counts[drawings.NOT_A_DIGIT]:,} not a digit, "
          f"from {room.sessions:,} browser session{'s' if room.sessions != 1 else ''}")
chart.html(pictures.counts_html(room.counts))

# ---------- how each checkpoint reads the room ----------
if not checkpoints:
    st.info("No checkpoint yet to read the drawings with: train one on the Train page.")
table, kept = [], {}  # kept: checkpoint path → (the fingerprint its readings are kept under, learned from the room)
for path, loaded in readers.items():
    if (checkpoint := read_by[path]) is None:
        continue
    learned = trained_on_room(loaded[1])
    kept[path] = checkpoint, learned
    confusion = sections.counted(room_view.confusion, room, checkpoint, learned)
    right, n = int(confusion.trace()), int(confusion.sum())
    table.append({"Checkpoint": plain(resources.checkpoint_label(path)),  # st.table renders markdown
                  "Room's digits": f"{right / n:.1%}" if n else "–",
                  "Right": f"{right:,} of {n:,}" + (" held out" if learned else "") if n else "–",
                  "MNIST test": f"{test:.2%}" if (test := (loaded[1].get("metrics") or {}).get("test_acc")) is not None
                  else "– (not measured yet)"})
checkpoint = None
if table:
    # The table across the page (a half-width one cut its columns at 1400 px); the matrix and its chooser below.
    st.subheader("How each checkpoint reads the room")
    # st.table: plain HTML, no data-grid bundle for a browser new to the page to load (a few rows at most)
    st.table(pd.DataFrame(table), hide_index=True)
    left, right = st.columns([3, 2])
    left.caption("Accuracy on the drawings people labelled with a digit (not-a-digit ones have no right answer), "
                 "read by the network alone from the 28×28 each drawing became, as MNIST's 10,000 test images beside "
                 "it are read. A gap is how far the room's hands are from the writers of 1990s forms. A checkpoint "
                 "fine-tuned on the room is measured only on the held-out quarter of the drawings, the ones it never "
                 "learned from.")
    with left:
        path = resources.checkpoint_select("Checkpoint for the matrix and the gallery", key="room_checkpoint",
                                           default=resources.selected_checkpoint())
    if path in kept:
        checkpoint, learned = kept[path]
        confusion = sections.counted(room_view.confusion, room, checkpoint, learned)
        if confusion.sum():
            right.html(pictures.confusion_html(confusion, "The room's digits" + (", held out" if learned else "")
                                               + ": label → the checkpoint's answer"))
elif readers:  # digit checkpoints, none of whose answers could be kept
    st.info("The checkpoints' answers cannot be kept in this drawings store (a read-only file?): the table of how "
            "each reads the room is left out.")

# ---------- the gallery ----------
st.subheader("Drawings, newest first")
f1, f2, f3 = st.columns(3)
wrong_only = f1.toggle("Only the ones it reads wrong", key="room_wrong", disabled=checkpoint is None)
label = f2.selectbox("Label", ["any", *pictures.LABELS], key="room_label",
                     format_func=lambda x: x if x == "any" else pictures.label_word(x))
model = f3.selectbox("Answered at the time by", ["any", *room.models], key="room_model",
                     format_func=lambda x: "any" if x == "any" else x or "no model (imported)")
filters = room_view.Filters(wrong_only and checkpoint is not None, None if label == "any" else label,
                            None if model == "any" else model)
if st.session_state.get("_room_filters") != filters:
    st.session_state["_room_filters"], st.session_state["room_batch"] = filters, 0
batch = st.session_state.get("room_batch", 0)
shown = sections.counted(room_view.page, room, filters, checkpoint, batch, PAGE)
pages = max(1, -(-shown.matches // PAGE))
b1, b2, b3 = st.columns([1, 1, 4], vertical_alignment="center")
b1.button(":material/chevron_left: Newer", disabled=shown.index == 0, key="room_newer",
          on_click=st.session_state.update, kwargs={"room_batch": shown.index - 1})
b2.button("Older :material/chevron_right:", disabled=shown.index >= pages - 1, key="room_older",
          on_click=st.session_state.update, kwargs={"room_batch": shown.index + 1})
b3.caption(f"Page {shown.index + 1} of {pages} · {shown.matches:,} drawing{'s' if shown.matches != 1 else ''} match"
           + (f" · answers by {plain(resources.checkpoint_label(path))}" if checkpoint else ""))
if shown.drawings:
    st.html(pictures.gallery_html(shown.drawings, shown.read))
else:
    st.info("No drawing matches these filters.")

# ---------- room-wide changes and files ----------
sections.edit(shown.drawings, key=f"room_pick-{shown.index}-{hash(filters)}")
sections.downloads()
sections.import_file()
