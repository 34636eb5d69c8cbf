import pytest
import torch

from digits import CheckpointError, build_model, list_checkpoints, load_checkpoint, save_checkpoint
from digits.checkpoint import amend_checkpoint
from digits.uploads import import_checkpoint
from tests.helpers import evil_checkpoint


def saved(tmp_path, name="lenet5", file="model.pt"):
    torch.manual_seed(0)
    model = build_model(name)
    path = save_checkpoint(tmp_path / file, name, model, config={"epochs": 1}, metrics={"test_acc": 0.5})
    return model.eval(), path


@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_round_trip_gives_identical_logits(tmp_path, name):
    model, path = saved(tmp_path, name)
    back, meta = load_checkpoint(path)
    x = torch.randn(8, 1, 28, 28)
    assert torch.equal(model(x), back(x))
    assert meta["model"] == name and meta["metrics"] == {"test_acc": 0.5} and meta["config"] == {"epochs": 1}
    assert "state_dict" not in meta and not back.training


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    _, path = saved(tmp_path)
    saved(tmp_path)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_loading_is_weights_only(tmp_path, monkeypatch):
    _, path = saved(tmp_path)
    calls = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real(*a, **k))
    load_checkpoint(path)
    assert calls and all(k.get("weights_only") is True for k in calls)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_truncated_file(tmp_path):
    _, path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=f"{path.name}: not a loadable checkpoint"):
        load_checkpoint(path)


def test_foreign_files(tmp_path):
    plain = tmp_path / "state_dict.pt"
    torch.save(build_model("cnn").state_dict(), plain)  # a bare state_dict, as pytorch/examples saves
    with pytest.raises(CheckpointError, match="not a digits checkpoint"):
        load_checkpoint(plain)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_checkpoint(text)


def test_unknown_model_and_wrong_shapes(tmp_path):
    _, path = saved(tmp_path, "lenet5")
    data = torch.load(path, weights_only=True)
    torch.save({**data, "model": "resnet"}, tmp_path / "unknown.pt")
    with pytest.raises(CheckpointError, match="unknown model 'resnet'"):
        load_checkpoint(tmp_path / "unknown.pt")
    torch.save({**data, "model": "cnn"}, tmp_path / "mismatch.pt")  # LeNet weights claimed as the small CNN
    with pytest.raises(CheckpointError, match="do not fit model 'cnn'"):
        load_checkpoint(tmp_path / "mismatch.pt")


def test_a_pickle_that_runs_code_is_refused_without_running(tmp_path):
    evil, marker = evil_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="evil.pt: not a loadable checkpoint"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_list_checkpoints_reports_bad_files_without_failing(tmp_path):
    saved(tmp_path, "cnn", "b.pt")
    saved(tmp_path, "lenet5", "a.pt")
    (tmp_path / "broken.pt").write_bytes(b"\x00" * 10)
    good, bad = list_checkpoints(tmp_path)
    assert [(c.path.name, c.model) for c in good] == [("a.pt", "lenet5"), ("b.pt", "cnn")]
    assert list(bad) == [tmp_path / "broken.pt"] and "broken.pt" in bad[tmp_path / "broken.pt"]


def checkpoint_bytes(tmp_path, name="cnn"):
    _, path = saved(tmp_path, name, file=f"src-{name}.pt")
    return path.read_bytes()


def test_import_stores_a_valid_upload_under_a_safe_new_name(tmp_path):
    data = checkpoint_bytes(tmp_path)
    folder = tmp_path / "checkpoints"
    first = import_checkpoint(data, "../../etc/my model.pt", folder, protected=("cnn.pt",))
    assert first == folder / "my-model.pt" and load_checkpoint(first)[1]["model"] == "cnn"
    second = import_checkpoint(data, "C:\\\\Users\\\\me\\\\my model.pt", folder)
    assert second == folder / "my-model-1.pt"  # never overwrites
    shipped = import_checkpoint(data, "cnn.pt", folder, protected=("cnn.pt",))
    assert shipped == folder / "cnn-1.pt"      # a shipped name is never taken
    assert import_checkpoint(data, "/abs/../..", folder).parent == folder
    assert not list(folder.glob(".upload*"))


@pytest.mark.parametrize("make, message", [
    (lambda d, tmp: d[: len(d) // 2], "not a loadable checkpoint"),
    (lambda d, tmp: b"x" * 6_000_000, "over the 5 MB limit"),
])
def test_import_refuses_bad_uploads_and_keeps_nothing(tmp_path, make, message):
    folder = tmp_path / "checkpoints"
    with pytest.raises(CheckpointError, match=message):
        import_checkpoint(make(checkpoint_bytes(tmp_path), tmp_path), "upload.pt", folder)
    assert not folder.exists() or not list(folder.iterdir())


def test_import_refuses_code_and_names_the_upload(tmp_path):
    evil, marker = evil_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="^evil.pt: not a loadable checkpoint"):
        import_checkpoint(evil.read_bytes(), "evil.pt", tmp_path / "checkpoints")
    assert not marker.exists()


def test_the_temperature_is_plain_data_that_comes_back_on_the_model(tmp_path):
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "t.pt", "cnn", build_model("cnn"), metrics={"test_acc": 0.5, "temperature": 1.7})
    model, meta = load_checkpoint(path)
    assert model.temperature == meta["metrics"]["temperature"] == 1.7
    assert load_checkpoint(saved(tmp_path)[1])[0].temperature == 1.0  # a checkpoint without one: the softmax as it is


def test_amending_a_checkpoint_changes_only_what_it_is_given(tmp_path):
    _, path = saved(tmp_path)
    before = torch.load(path, weights_only=True)
    amend_checkpoint(path, {"temperature": 1.25, "test_ece": 0.01},
                     {"calibration_command": "python -m digits calibrate x"})
    after = torch.load(path, weights_only=True)
    assert list(after) == list(before) + ["calibration_command"]
    assert after["metrics"] == {**before["metrics"], "temperature": 1.25, "test_ece": 0.01}
    assert all(torch.equal(after["state_dict"][k], v) for k, v in before["state_dict"].items())
    assert {k: v for k, v in after.items() if k not in ("metrics", "state_dict", "calibration_command")} == \
        {k: v for k, v in before.items() if k not in ("metrics", "state_dict")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # written in place, atomically


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0, 1e9, "2", True, [1.0]])
def test_a_temperature_out_of_its_range_is_refused_with_one_line(tmp_path, value):
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "bad.pt", "cnn", build_model("cnn"), metrics={"temperature": value})
    with pytest.raises(CheckpointError) as raised:
        load_checkpoint(path)
    assert ("metrics.temperature must be a number from 0.05 to 20.0" in str(raised.value)
            and "\n" not in str(raised.value))
    _, good = saved(tmp_path)
    kept = good.read_bytes()
    with pytest.raises(CheckpointError, match="metrics.temperature"):  # nor can one be written into a good file
        amend_checkpoint(good, {"temperature": value})
    with pytest.raises(ValueError, match="not a text field"):
        amend_checkpoint(good, text={"calibration_command": "x" * 1001})
    assert good.read_bytes() == kept
