import pytest
import torch

from digits import CheckpointError, build_model, list_checkpoints, load_checkpoint, save_checkpoint
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
