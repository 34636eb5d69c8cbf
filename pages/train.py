import time
from pathlib import Path

import streamlit as st

from digits.config import choice_words
from digits.control import pause_requested
from digits.models import title
from digits.runs import CHECKPOINT, LOCK, LOG, list_runs, read_starting, run_state
from digits.summary import summarize
from webapp import navigation, presenter, resources, train as sections, train_form
from webapp.pictures import train as pictures
from webapp.text import plain

navigation.use_app_navigation()

PLOTLY = {"displaylogo": False}
SLOW = 1000  # samples/s below which a run is starved of CPU (a 2-core laptop trains LeNet-5 at ~5,000–15,000)

st.title("Train")
running = sections.active_run()

if not presenter.is_presenter():
    with st.expander(":material/lock: Presenter"):
        presenter.presenter_gate("Starting and stopping training", "train")

if running is None:  # nothing to watch: the settings come first
    train_form.new_run_panel(running)

runs = list_runs(resources.RUNS)
if not runs:
    st.info("No runs yet. Choose the settings above and press **Start training**.")
    st.stop()

names = [r.name for r in runs]
if running is not None:
    st.session_state["run"] = running.name
if st.session_state.get("run") not in names:
    st.session_state["run"] = names[0]
labels = sections.run_labels(names, running)
chosen = sections.run_select(names, labels)


def duration(seconds: float) -> str:
    """45 s, 3 min 20 s, 1 h 37 min: as a person reads a clock."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress(run_dir: Path, state: str, s) -> None:
    """Where the run is: a progress bar with its pace, Pause/Resume and Stop; or how it ended."""
    if state == "running":
        bar, buttons = st.columns([2, 1], vertical_alignment="bottom")
        stopping = st.session_state.get("_stopping") == run_dir.name  # Stop pressed here, the run not ended yet
        resuming = s.paused and not pause_requested(run_dir) and not stopping  # Resume pressed, not back yet
        eta = (" · stopping…" if stopping else " · resuming…" if resuming else " · paused" if s.paused
               else f" · finishing: the last validation and the test set (about {duration(s.finish_seconds)})"
               if s.finishing else f" · {duration(s.eta)} to go" if s.eta is not None
               else " · estimating the time left…")
        bar.progress(s.fraction, text=f"Epoch {s.epoch}/{s.epochs} · iteration {s.iteration}/{s.total_iterations}"
                                      f" · {duration(s.elapsed)} of training{eta} · {s.samples_per_s:,.0f} samples/s")
        with buttons:
            sections.run_controls(run_dir, s.paused)
        if resuming:
            st.info(f"Resuming after iteration {s.iteration}: the run picks up at its next batch…",
                    icon=":material/play_arrow:")
        elif s.paused:
            st.info(f"Paused after iteration {s.iteration}: the model stays as it is until you resume.",
                    icon=":material/pause:")
        elif not s.iteration and s.log:  # before the first step: what the run is doing (e.g. drawing its non-digits)
            st.caption(f":material/hourglass_top: {plain(s.log[-1])}")
        elif s.iteration and s.samples_per_s < SLOW:
            st.caption(":material/hourglass_bottom: Slow: training takes only the CPU time that other programs on this "
                       "machine leave over, so that drawing stays quick for everyone. Close other heavy programs to "
                       "speed it up.")
    elif state == "crashed":
        st.error("This run's process ended without a final event: it crashed or was killed. "
                 "Its best checkpoint so far (if any) is intact.")
        if log := sections.log_tail(run_dir / LOG):
            st.code(log, language=None, wrap_lines=True)
    elif state == "failed":
        st.error(plain(s.message))
    elif state == "stopped" and s.best_val_acc is None:  # before its first validation: nothing kept, said plainly
        st.warning(f"Stopped after {s.iteration} iterations in {duration(s.elapsed)}, before the first validation: no "
                   "checkpoint was kept. A run keeps its best model only once a validation has measured it; let the "
                   "next run reach its first evaluation (see *Evaluate every*) before stopping it.",
                   icon=":material/warning:")
    else:
        verb = "Finished" if state == "finished" else "Stopped on request"
        test = f" Test accuracy of the best checkpoint: **{s.test_acc:.2%}**." if s.test_acc is not None else ""
        st.success(f"{verb} after {s.iteration} iterations in {duration(s.elapsed)}.{test}")
        if (table := sections.before_after(s)) is not None:
            st.markdown("**Before → after**: the model the run started from, and the run's best checkpoint")
            st.table(table, hide_index=True, width="content")


def curves(run_dir: Path, s) -> None:
    """The run's numbers and its four views: loss and learning rate, accuracy, epochs, the event log."""
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(pictures.loss_chart(s), key=f"loss-{run_dir.name}", config=PLOTLY)
        st.caption("Each training batch's cross-entropy (light), its moving average (dark) on a log scale, and "
                   "the learning rate the schedule set (dotted, right axis).")
    with c2:
        zoom = st.session_state.get("acc_zoom", False)
        st.plotly_chart(pictures.accuracy_chart(s, zoom), key=f"acc-{run_dir.name}", config=PLOTLY)
        st.toggle("Zoom in on the last points", key="acc_zoom", help="The accuracy axis from just under the lowest "
                  "point shown to 100%, instead of 0–100% (the whole climb)")
        st.caption("Train: the share of each batch classified right as it is trained, smoothed — measured while the "
                   "weights still change (and on distorted images with augment), so it lags behind. Validation: "
                   "held-out images the model never trains on, measured at each evaluation.")
    # The charts first: on a phone they are what fits under the progress bar. Then the figures, one wrapping row
    # (five columns would stack one a row on a phone).
    st.html(pictures.figures_row([
        ("Architecture", title(s.model), ""),
        ("Device", choice_words("device", s.device) if s.device else "–", s.device_name),
        ("Best validation", f"{s.best_val_acc:.2%}" if s.best_val_acc is not None else "–", ""),
        ("Loss (smoothed)", f"{s.loss_smooth[-1]:.3g}" if s.loss_smooth else "–", ""),
        ("Test accuracy", f"{s.test_acc:.2%}" if s.test_acc is not None else "–", "")]))
    c1, c2 = st.columns(2)
    if s.epoch_x:
        with c1:
            st.plotly_chart(pictures.epoch_chart(s), key=f"epoch-{run_dir.name}", config=PLOTLY)
            st.caption("Each finished epoch's mean batch loss; the bar spans ± one standard deviation of its batches.")
    with c2:
        st.markdown("**Event log**")
        st.code("\n".join(s.log[-12:]) or "waiting for the first evaluation…", language=None, wrap_lines=True)
        if len(s.log) > 12:
            st.caption(f"The last 12 of {len(s.log)} lines.")


def compare(chosen: str, labels: dict[str, str]) -> None:
    """The chosen run beside others: smoothed loss and validation accuracy on shared axes, and their settings
    and results side by side."""
    st.subheader("Compare runs")
    others = st.multiselect("Compare with", [n for n in labels if n != chosen], max_selections=5, key="compare",
                            format_func=labels.get,
                            placeholder="Choose runs to compare")
    if not others:
        return
    picked = [chosen, *others]
    summaries = {n: summarize(sections.run_events(resources.RUNS / n)) for n in picked}
    c1, c2 = st.columns(2)
    c1.plotly_chart(pictures.compare_chart({labels[n]: s for n, s in summaries.items()}, "loss"), config=PLOTLY)
    c2.plotly_chart(pictures.compare_chart({labels[n]: s for n, s in summaries.items()}, "accuracy"), config=PLOTLY)
    st.dataframe(sections.runs_table(picked, summaries), hide_index=True)


def show(run_dir: Path, labels: dict[str, str], first_point_due: bool = False) -> None:
    events = sections.run_events(run_dir)
    state = run_state(run_dir, events)
    s = summarize(events)
    if state == "running" and not events and time.time() - run_dir.stat().st_mtime < 120:
        lock = run_dir / LOCK  # made just before the process is started, and never written to
        since = max(0.0, time.time() - (lock.stat().st_mtime if lock.exists() else run_dir.stat().st_mtime))
        st.info(f"Starting ({since:.0f} s): {read_starting(run_dir) or 'starting Python'}…",
                icon=":material/hourglass_top:")
        return
    progress(run_dir, state, s)
    if skipped := sections.run_reader(run_dir).skipped:
        st.caption(f"{skipped} line{'s' if skipped > 1 else ''} of this run's event log could not be read and "
                   f"{'were' if skipped > 1 else 'was'} skipped.")
    curves(run_dir, s)
    checkpoint = run_dir / CHECKPOINT
    if state != "running" and checkpoint.exists():
        st.caption(f"Best checkpoint: {plain(checkpoint)}")
        b1, b2, _ = st.columns([1, 1, 3])
        for col, page, label in ((b1, "pages/predictions.py", "Open in Predictions"),
                                 (b2, "pages/draw.py", "Open in Draw")):
            if col.button(label, key=f"open-{page}"):
                st.session_state["open_checkpoint"] = str(checkpoint)
                st.switch_page(page)
    compare(run_dir.name, labels)
    if first_point_due and (s.iteration or state != "running"):
        st.rerun()  # the first chart point is shown (or the run ended): the whole page again, polled once a second
    if state == "running" and st.session_state.get("_was_running") != run_dir.name:
        st.session_state["_was_running"] = run_dir.name
    elif state != "running" and st.session_state.get("_was_running") == run_dir.name:
        st.session_state.pop("_was_running")
        st.rerun()  # the run just ended: redraw the whole page once (the panel opens, the run list, states)


run_dir = resources.RUNS / chosen
live = run_state(run_dir) == "running"
# A live run is polled once a second; until its first chart point, four times (from a warm spare process,
# digits.spare, the point comes ~0.3 s after Start: a second's wait would be most of the time to it).
due = live and not any(e.kind == "step" for e in sections.run_events(run_dir))
st.fragment(run_every=0.25 if due else 1.0 if live else None)(show)(run_dir, labels, due)
if running is not None:  # the run comes first; the settings wait, folded, below it
    train_form.new_run_panel(running)
