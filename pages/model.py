import inspect
from pathlib import Path

import pandas as pd
import streamlit as st

from digits import MODELS, count_parameters
from digits.cli_args import train_command
from digits.config import applies, fields, label, value_words
from digits.inside import operations
from digits.models import BUILT
from digits.reading import VIEWS
from digits.summary import run_name
from webapp import model as sections, navigation, resources
from webapp.pictures import model as pictures

navigation.use_app_navigation()

st.title("Model")
path = resources.checkpoint_or_stop()
model, meta = resources.load_model(path)
name = meta["model"]
st.subheader(MODELS[name].description)

params = count_parameters(model)
c = st.columns(3)
c[0].metric("Parameters", f"{params:,}")
c[1].metric("Size (float32)", f"{params * 4 / 1024:.0f} KB")
c[2].metric("Test accuracy",
            f"{meta['metrics']['test_acc']:.2%}" if meta.get("metrics", {}).get("test_acc") is not None else "–")

st.markdown("**Every step of the forward pass**, for one 28×28 image: padding, pooling, activations and flattening "
            "included, so each shape follows from the one before. The Inside page shows what each step computes.")
rows = [{"layer": op.layer, "operation": op.operation, "output": " × ".join(map(str, op.shape)),
         "parameters": op.params}
        for op in operations(model)]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height="content",  # every step in view
             column_config={"parameters": st.column_config.NumberColumn(format="localized")})

if name == BUILT:
    with st.expander("Architecture (its layers, as the Train page's builder and `--arch` take them)"):
        st.code(meta["config"]["layers"], language=None, wrap_lines=True)
else:
    with st.expander("Architecture (from the class docstring)"):
        doc = inspect.cleandoc(type(model).__doc__)
        st.markdown(doc[doc.index("|"):] if "|" in doc else doc)  # the table and what follows; the title is above

st.markdown("**How this checkpoint was made**")
metric_words = {"test_acc": "Test accuracy", "val_acc": "Best validation accuracy", "iteration": "Best at iteration",
                "epoch": "Best in epoch", "train_seconds": "Training time", "device": "Trained on",
                "room_acc": "Room's held-out drawings", "room_train": "Room's drawings trained on",
                "room_held_out": "Room's drawings held out", "before_test_acc": "Test accuracy before the run",
                "before_room_acc": "Room's held-out drawings before the run", "temperature": "Calibration temperature",
                "uncalibrated_test_ece": "Test calibration error (ECE), T = 1",
                "test_ece": "Test calibration error (ECE), calibrated",
                "detector_val_flagged": "Not-a-digit detector: validation digits it flags",
                "detector_negatives_flagged": "Not-a-digit detector: drawn non-digits it flags"}
metrics = meta.get("metrics", {})
shown = {"File": path.name, "Created": meta.get("created", "–")}
if path.parent != resources.CHECKPOINTS:  # a run's best model: the run by its name, its folder as a detail
    shown["Run"] = f"{run_name(path.parent)} (folder {path.parent.name})"
for key, words in metric_words.items():
    if key in metrics:
        v = metrics[key]
        shown[words] = (f"{v:.2%}" if key.endswith(("acc", "ece")) else f"{v:.1%}" if key.endswith("flagged")
                        else f"{v:.0f} s" if key == "train_seconds"
                        else f"{v:.3f}" if key == "temperature"
                        else f"{v:,}" if isinstance(v, int) else str(v))
if meta.get("room_sha256"):
    shown["Room's drawings (SHA-256 of the set)"] = meta["room_sha256"]
config = meta.get("config", {})
for f in fields():
    if f.name in config and applies(f.name, config):  # not momentum for Adam, nor the room's share without it
        v = config[f.name]
        shown[label(f)] = "random weights (from scratch)" if f.name == "start_from" and not v else value_words(f, v)
# Text from the file shown as data (a table cell), never as markdown. The loader already bounds its length.
st.dataframe(pd.DataFrame({"": list(shown), "value": [str(v) for v in shown.values()]}), hide_index=True,
             width="stretch", height="content")
if meta.get("command"):
    st.caption("The command that trained it (paths in this project's folders):")
    # A run the app started recorded `--config its/config.json --run-dir …`: the settings as flags say more.
    made = (train_command({**config, "start_from": pictures.portable_path(config["start_from"], "checkpoints")
                           if config.get("start_from") else ""})
            if "--config" in meta["command"] and config else pictures.portable_command(meta["command"]))
    st.code(made, language="bash", wrap_lines=True)
if meta.get("calibration_command"):
    st.caption("The command that calibrated it:")
    st.code(meta["calibration_command"], language="bash", wrap_lines=True)
if meta.get("detector_command"):
    st.caption("The command that fitted its not-a-digit detector:")
    st.code(meta["detector_command"], language="bash", wrap_lines=True)

sections.take_home(path, model, meta)

st.markdown("**Calibration: does \"90% sure\" mean right 9 times in 10?**")
test = resources.mnist_or_stop(resources.dataset_of(meta))


@st.cache_data(show_spinner="Measuring on the 10,000 test images how often the model is right at each confidence, "
                            "once with one pass and once as the Draw page reads a drawing (nine views), and what its "
                            "not-a-digit detector flags: about 15 s, once per checkpoint…", max_entries=8)
def figures(path: str, mtime: float, digits: bool):
    """(Calibration, ECE as the Draw page reads, the detector's curve or None), kept on disk per checkpoint file
    (webapp/model.py)."""
    return sections.figures(Path(path), test, digits)


c, read_ece, curve = figures(str(path), path.stat().st_mtime, resources.dataset_of(meta) == "mnist")
st.plotly_chart(pictures.reliability_chart(c), key="reliability",
                config={"displaylogo": False, "displayModeBar": False})
st.caption("Each point is a group of test images by how sure the model was (bigger: more images): on the dashed line "
           f"its confidence means what it says; below it, it was sure more often than right. Groups of fewer than "
           f"{pictures.SPARSE} images are open circles with their count: with so few, right 0 or 100% of the time "
           "says little.")
if c.temperature != 1.0:
    effect = "above 1 it makes the model less sure" if c.temperature > 1 else "below 1 it makes the model surer"
    st.markdown(f"On average the model's confidence is off from how often it is right by **{c.ece_before:.2%}** "
                f"with the network's own probabilities and **{c.ece_after:.2%}** with its temperature of "
                f"{c.temperature:.2f} (expected calibration error, 15 bins; 0 is perfect). The temperature was fitted "
                f"on the validation images, never on these test images. It divides the network's scores before they "
                f"become probabilities: {effect} of every answer, and the digit it answers never changes.")
else:
    st.markdown(f"On average the model's confidence is off from how often it is right by **{c.ece_before:.2%}** "
                "(expected calibration error, 15 bins; 0 is perfect). This checkpoint has no temperature: its "
                "probabilities are the network's own. `python -m digits calibrate CHECKPOINT --write` fits one on the "
                "validation images.")
st.markdown(f"Read as the Draw page reads a drawing (each image and its {len(VIEWS) - 1} one-pixel shifts, averaged"
            f"{', with the temperature' if c.temperature != 1.0 else ''}): **{read_ece:.2%}**.")
if max(c.ece_before, c.ece_after) < 0.01 and resources.dataset_of(meta) == "mnist":
    st.markdown("Under one percentage point either way: on MNIST's own digits this model's confidence already means "
                "what it says. Drawings unlike MNIST's are another matter, which is why the Draw page says when it is "
                "unsure.")
elif max(c.ece_before, c.ece_after) < 0.01:
    st.markdown("Under one percentage point either way: on its own test images this model's confidence already means "
                "what it says.")

if curve is not None:
    sections.detector_section(curve)
