"""The Room page's parts that read or change the store: reading it, one change a button, the presenter's
relabel, delete and import, the downloads. Each opens its own connection and closes it: sqlite3's belong
to the thread that opened them, and Streamlit runs sessions (and deferred downloads) on threads of their own."""

from __future__ import annotations

import io
import time
from contextlib import closing
from pathlib import Path

import streamlit as st

from digits import drawing_files, drawings, room_answers, room_view
from webapp import presenter, resources
from webapp.pictures import room as pictures
from webapp.text import plain


@st.cache_resource(show_spinner=False)
def _kept(path: str) -> room_view.Kept:
    """The room's numbers, kept for every session while the store is unchanged (one a store file)."""
    return room_view.Kept(path)


def counted(query, *args):
    """query(db, *args) of digits.room_view (or room_answers), counted once for every session while the store is
    unchanged; a store that fails meanwhile ends the page in one line."""
    def count():
        with closing(drawings.connect()) as db:  # a connection a count: sqlite3's belong to the thread that opened it
            return query(db, *args)
    key = (query.__name__, *(a.extent if isinstance(a, room_view.Room) else a for a in args))
    try:
        return _kept(str(drawings.default_path())).get(key, count)
    except drawings.DrawingsError as e:
        st.error(plain(pictures.message(e)))
        st.stop()


def read() -> room_view.Room:
    """The room in numbers (digits.room_view.look), what was left out said in one line each; a store that cannot be
    opened ends the page in one line."""
    room = counted(room_view.look)
    if damaged := room.extent.damaged:
        st.warning(f"{damaged:,} damaged drawing{'s' if damaged != 1 else ''} skipped: "
                   f"{'its row breaks' if damaged == 1 else 'their rows break'} the store's rules (written "
                   "outside the app?).")
    if room.extent.beyond:
        st.info(f"The newest {room.extent.shown:,} drawings are shown and counted; {room.extent.beyond:,} older ones "
                f"are in the store beyond the collection's limit of {drawings.MAX_DRAWINGS:,}.")
    return room


def _read_missing(db, model, checkpoint: str, floor: int) -> int | None:
    """How many drawings the checkpoint read now (0: none was new); None when the store cannot keep readings."""
    if not room_answers.ready(db):
        return None
    return room_answers.read_missing(db, model, checkpoint, floor)


def readings(models: dict[Path, object]) -> dict[Path, str | None]:
    """{path: the fingerprint its readings of the room are kept under (digits.room_answers), once it has read every
    drawing of the room; None when the store cannot keep them, or the file is gone (the page then shows no answers)}
    for {path: its loaded model}. Called before the room is counted: keeping new readings is itself a change to the
    store, and counted after them, the room's numbers are counted once for that state, which every viewer after this
    one then shares. (The next viewer asks the store once more for the room's floor and for unread drawings, 0.3 s at
    20,000 drawings, and finds none; asking again here instead would cost every first viewer after a change that.)"""
    try:
        fingerprints = {path: room_answers.fingerprint(path) for path in models}
    except OSError:  # a file that went away since it was listed: the next run lists what is there
        return dict.fromkeys(models)
    if not models:
        return {}
    out, floor = {}, counted(drawings.floor)  # readings change no drawing: one floor for every checkpoint
    for path, model in models.items():
        with st.spinner(f"Reading the room's new drawings with {plain(resources.checkpoint_label(path))}…"):
            read = counted(_read_missing, model, fingerprints[path], floor)
        out[path] = fingerprints[path] if read is not None else None
    return out


def write(action, *args) -> None:
    """A button's callback: one change to the store, before the run that shows it; its outcome in one line."""
    try:
        with closing(drawings.connect()) as db:
            st.session_state["room_done"] = ("success", action(db, *args))
    except drawings.DrawingsError as e:
        st.session_state["room_done"] = ("error", f"Not done: {pictures.message(e)}")


def edit(page: list, key: str) -> None:
    """Relabel or delete drawings picked from the gallery's page (presenter only)."""
    with st.expander("Relabel or delete drawings"):
        if not page or not presenter.presenter_gate("Relabelling and deleting drawings", "room_edit"):
            return
        labels = {d.id: d.label for d in page}
        picked = st.multiselect("Drawings on this page", list(labels), key=key,
                                format_func=lambda i: f"#{i} · {pictures.label_word(labels[i])}")
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        new = c1.selectbox("Relabel as", pictures.LABELS, format_func=pictures.label_word, key="room_new_label")
        many = f"{len(picked)} drawing{'s' if len(picked) != 1 else ''}"

        def relabel(db):
            done = sum(drawings.relabel(db, i, new) for i in picked)
            st.session_state.pop(key, None)  # done: nothing picked any more
            return f"Relabelled {count(done)} as {pictures.label_word(new)}." + gone(len(picked) - done)

        def delete(db):
            done = sum(drawings.delete(db, i) for i in picked)
            room_answers.forget_deleted(db)  # their kept answers go with them
            st.session_state.pop(key, None)
            st.session_state.pop("room_sure", None)
            return f"Deleted {count(done)}." + gone(len(picked) - done)

        c2.button("Relabel", disabled=not picked, on_click=write, args=(relabel,), key="room_relabel", width="stretch")
        sure = st.checkbox(f"Yes, delete {many} for good (an export first keeps a copy)", key="room_sure",
                           disabled=not picked)
        c3.button(":material/delete: Delete", disabled=not (picked and sure), on_click=write, args=(delete,),
                  key="room_delete", width="stretch")


def count(n: int) -> str:
    return f"{n} drawing{'s' if n != 1 else ''}"


def gone(n: int) -> str:
    """What a change could not do: drawings someone else deleted since this page was drawn."""
    return f" {count(n)} {'was' if n == 1 else 'were'} gone already (deleted by someone else)." if n else ""


def _export(export):
    """A download's data, made when the button is pressed (on a thread of its own: a connection of its own)."""
    def data():
        with closing(drawings.connect()) as db:
            return export(db)
    return data


def _npz(db) -> bytes:
    out = io.BytesIO()
    drawing_files.export_npz(db, out)
    return out.getvalue()


def downloads() -> None:
    with st.expander("Download the collection"):
        if not presenter.presenter_gate("Downloading the room's drawings", "room_download"):
            return
        day = time.strftime("%Y%m%d")
        d1, d2, d3 = st.columns(3)
        d1.download_button(".npz: images and labels", _export(_npz), f"room-drawings-{day}.npz",
                           "application/octet-stream", key="room_npz", icon=":material/download:")
        d2.download_button(".zip: the canvases as PNG", _export(drawing_files.export_pngs), f"room-canvases-{day}.zip",
                           "application/zip", key="room_zip", icon=":material/download:")
        d3.download_button(".csv: who, when, which model", _export(drawing_files.export_csv),
                           f"room-drawings-{day}.csv", "text/csv", key="room_csv", icon=":material/download:")
        st.caption("The .npz holds `images` uint8 (N, 28, 28) and `labels` (N,), -1 for not a digit, as "
                   "`python -m digits drawings import` and the Import below read it. The .zip holds each canvas "
                   "as drawn (imported drawings have none); the .csv each drawing's id, time, session, label, "
                   "model and its answer.")


def import_file() -> None:
    """A .npz of `images` and `labels` added to the room (presenter only; checked by drawing_files.import_npz)."""
    with st.expander("Import drawings (.npz)"):
        if not presenter.presenter_gate("Importing drawings", "room_import"):
            return
        f = st.file_uploader("A .npz with `images` uint8 (N, 28, 28) and `labels` (N,), -1 for not a digit",
                             type=["npz"], key="room_import")
        if f is None or st.session_state.get("_room_imported") == f.file_id:
            return
        st.session_state["_room_imported"] = f.file_id
        write(lambda db: "Imported {:,} drawings ({:,} were already in the room).".format(
            *drawing_files.import_npz(db, f.getvalue())))
        st.rerun()
