"""The page tests' fixtures: the app with its own folders (`app`), and a room of drawings (`room`)."""


import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from digits import build_model, save_checkpoint
from tests.app.apptest import APP, STREAMLIT_INIT, open_page, room_store
from tests.helpers import synthetic_split
from webapp import resources

# The pages run torch as the app's server does (app.py): one CPU thread; the tests' own reference
# computations, in this thread, then match the pages' to the last bit.
torch.set_num_threads(1)


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app with its own checkpoints, runs folder and drawings store, and a small stand-in for the MNIST test set."""
    # AppTest puts Streamlit back into its pages-folder mode before every run (app_test.py resets
    # PagesManager.uses_pages_directory); a real server leaves that mode for good at its first
    # st.navigation (see navigation.use_app_navigation). Do as the server does, or every page run would be run
    # twice and a button press lost in between. The test below runs pages in that mode on purpose.
    def leave_legacy_mode(self, *args, **kwargs):
        STREAMLIT_INIT(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", leave_legacy_mode)
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "checkpoints" / "cnn.pt", "cnn", build_model("cnn"), metrics={"test_acc": 0.1})
    monkeypatch.setattr(resources, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(resources, "RUNS", tmp_path / "runs")
    monkeypatch.setenv("DIGITS_DRAWINGS", str(tmp_path / "drawings.sqlite"))  # never the room's own file
    monkeypatch.setattr(resources, "test_split", lambda dataset="mnist": synthetic_split(200, 5))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    yield at
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def room(app, tmp_path):
    """The Room page over six stored drawings: four digits (the first labelled as the model reads it, the
    second as another digit), one not a digit, one with a model name full of markup."""
    from digits import drawings

    rng = np.random.default_rng(3)
    pixels = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(6)]
    model = resources.load_model(resources.CHECKPOINTS / "cnn.pt")[0]
    _, predicted = room_store(tmp_path / "probe", model, [(p, 0, "probe", None) for p in pixels])
    labels = [predicted[0], (predicted[1] + 1) % 10, predicted[2], (predicted[3] + 5) % 10, drawings.NOT_A_DIGIT,
              predicted[5]]
    names = ["cnn.pt", "cnn.pt", "lenet5.pt", "cnn.pt", "cnn.pt", "<img src=x onerror=alert(1)>"]
    ids, _ = room_store(tmp_path, model,
                        [(p, lab, f"s{k % 2}", name) for k, (p, lab, name) in enumerate(zip(pixels, labels, names))])
    return open_page(app, "room"), ids, labels

