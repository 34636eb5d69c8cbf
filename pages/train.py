import time
from pathlib import Path

import streamlit as st

import charts
import presenter
import train_view
import ui
from digits import TrainConfig
from digits.config import choice_words
from digits.models import title
from digits.summary import summarize
from digits.launch import RunActive, start_run, stop_run
from digits.runs import CHECKPOINT, LOG, list_runs, run_state

ui.use_app_navigation()

st.title("Train")
running = train_view.active_run()

if not presenter.is_presenter():
    with st.expander(":material/lock: Presenter"):
        presenter.presenter_gate("Starting and stopping training", "train")

with st.form("config", border=True):
    values = train_view.config_form(TrainConfig())
    submitted = st.form_submit_button(":material/play_arrow: Start training", type="primary")

if submitted and not presenter.is_presenter():
    st.warning("Starting training is for the presenter: enter the presenter key above.")
elif submitted:
    try:
        config = TrainConfig.from_dict(values)
    except ValueError as e:
        st.error(ui.plain(f"Cannot start: {e}"))
    else:
        if running:
            st.warning(ui.plain(f"A training run is already going ({running.name}); one at a time per server. It is shown below."))
        else:
            try:
                running = start_run(config, ui.RUNS)
            except RunActive as e:  # another session pressed Start at the same moment
                st.warning(f"{e} It is shown below.")
                running = train_view.active_run()
            except OSError as e:  # runs/ not writable, or a full disk: nothing started, nothing lost
                st.error(ui.plain(f"{e}. Nothing was started: free some space or fix the folder's permissions, then Start again."))
            else:
                st.session_state["run"] = running.name
                st.toast(f"Started {running.name}")

runs = list_runs(ui.RUNS)
if not runs:
    st.info("No runs yet. Choose a recipe above and press **Start training**.")
    st.stop()

names = [r.name for r in runs]
if running is not None:
    st.session_state["run"] = running.name
if st.session_state.get("run") not in names:
    st.session_state["run"] = names[0]
c1, c2 = st.columns([1, 2])
chosen = c1.selectbox("Run", names, key="run")
compare = c2.multiselect("Compare validation accuracy with", [n for n in names if n != chosen], max_selections=4)


def show(run_dir: Path, compare: list[str]) -> None:
    events = train_view.run_events(run_dir)
    state = run_state(run_dir, events)
    s = summarize(events)
    if state == "running" and not events and time.time() - run_dir.stat().st_mtime < 120:
        st.info("Starting: loading MNIST and building the model…")
        return
    if state == "running":
        eta = f" · ETA {s.eta:.0f} s" if s.eta is not None else ""
        st.progress(s.fraction, text=f"Epoch {s.epoch}/{s.epochs} · iteration {s.iteration}/{s.total_iterations}"
                                     f" · {s.elapsed:.0f} s elapsed{eta} · {s.samples_per_s:,.0f} samples/s")
        if presenter.is_presenter() and st.button(":material/stop: Stop training", type="secondary"):
            if stop_run(run_dir):
                st.toast("Stop requested: the run finishes its batch and keeps its best checkpoint.")
            else:
                st.warning("This run's process could not be reached; it may just have ended.")
    elif state == "crashed":
        st.error("This run's process ended without a final event: it crashed or was killed. "
                 "Its best checkpoint so far (if any) is intact.")
        if log := train_view.log_tail(run_dir / LOG):
            st.code(log, language=None)
    elif state == "failed":
        st.error(ui.plain(s.message))
    else:
        verb = "Finished" if state == "finished" else "Stopped on request"
        test = f" Test accuracy of the best checkpoint: **{s.test_acc:.2%}**." if s.test_acc is not None else ""
        st.success(f"{verb} after {s.iteration} iterations in {s.elapsed:.0f} s.{test}")
    if skipped := train_view.run_reader(run_dir).skipped:
        st.caption(f"{skipped} line{'s' if skipped > 1 else ''} of this run's event log could not be read and {'were' if skipped > 1 else 'was'} skipped.")
    m = st.columns(5)
    m[0].metric("Model", title(s.model))
    m[1].metric("Device", choice_words("device", s.device) if s.device else "–", help=s.device_name or None)
    m[2].metric("Best validation", f"{s.best_val_acc:.2%}" if s.best_val_acc is not None else "–")
    m[3].metric("Last loss (smoothed)", f"{s.loss_smooth[-1]:.4f}" if s.loss_smooth else "–")
    m[4].metric("Test accuracy", f"{s.test_acc:.2%}" if s.test_acc is not None else "–")
    others = {n: summarize(train_view.run_events(ui.RUNS / n)) for n in compare}
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.loss_chart(s), key=f"loss-{run_dir.name}", config={"displaylogo": False})
    c2.plotly_chart(charts.accuracy_chart(s, others), key=f"acc-{run_dir.name}", config={"displaylogo": False})
    c1, c2 = st.columns(2)
    if s.epoch_x:
        c1.plotly_chart(charts.epoch_chart(s), key=f"epoch-{run_dir.name}", config={"displaylogo": False})
    with c2:
        st.markdown("**Event log**")
        st.code("\n".join(s.log[-12:]) or "waiting for the first evaluation…", language=None)
    checkpoint = run_dir / CHECKPOINT
    if state != "running" and checkpoint.exists():
        st.caption(f"Best checkpoint: {ui.plain(checkpoint)}")
        b1, b2, _ = st.columns([1, 1, 3])
        for col, page, label in ((b1, "pages/predictions.py", "Open in Predictions"), (b2, "pages/draw.py", "Open in Draw")):
            if col.button(label, key=f"open-{page}"):
                st.session_state["open_checkpoint"] = str(checkpoint)
                st.switch_page(page)
    if state == "running" and st.session_state.get("_was_running") != run_dir.name:
        st.session_state["_was_running"] = run_dir.name
    elif state != "running" and st.session_state.get("_was_running") == run_dir.name:
        st.session_state.pop("_was_running")
        st.rerun()  # the run just ended: redraw the whole page once (form, run list, states)


run_dir = ui.RUNS / chosen
live = run_state(run_dir) == "running"
st.fragment(run_every=1.0 if live else None)(show)(run_dir, compare)
