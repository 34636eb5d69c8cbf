"""A checkpoint that reads Fashion-MNIST in the app (#29): the pages about digits say so plainly, the others name
its classes. Through AppTest, with a real checkpoint on disk."""

import torch

from digits import TrainConfig, build_model, save_checkpoint
from tests.app.apptest import open_page, shown
from webapp import resources


def with_fashion(app):
    torch.manual_seed(1)
    path = save_checkpoint(resources.CHECKPOINTS / "clothes.pt", "cnn", build_model("cnn"),
                           config=TrainConfig(model="cnn", dataset="fashion").to_dict(), metrics={"test_acc": 0.8})
    at = open_page(app, "home")
    at.selectbox(key="checkpoint").set_value(str(path)).run()
    return at


def test_draw_says_a_clothes_checkpoint_is_not_for_digits(app):
    assert open_page(app, "draw").get("bidi_component")  # a digit checkpoint: the canvas
    at = open_page(with_fashion(app), "draw")
    said = " ".join(shown(i.value) for i in at.info)
    assert "reads Fashion-MNIST, not digits: reading a drawn digit is for digit models" in said
    assert not at.get("bidi_component") and not at.exception  # no canvas under it


def test_pages_with_test_images_use_the_checkpoints_own_and_name_its_classes(app, monkeypatch):
    asked = []
    real = resources.test_split
    monkeypatch.setattr(resources, "test_split", lambda dataset="mnist": asked.append(dataset) or real(dataset))
    at = with_fashion(app)
    for page in ("predictions", "model", "losses"):
        asked.clear()
        open_page(at, page)
        assert asked and set(asked) == {"fashion"}, page
    at.session_state["inside_image"] = "test"
    open_page(at, "inside")
    assert "fashion" in asked
    answer = [h.proto.body for h in at.get("html") if "inside-digit" in h.proto.body][0]
    assert any(name in answer for name in ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                           "Sneaker", "Bag", "Ankle boot"))


def test_predictions_names_the_classes_and_the_sidebar_the_dataset(app):
    at = open_page(with_fashion(app), "predictions")
    assert at.metric[2].label == "Hardest class"
    assert any(o.startswith("test image ") and (", predicted " in o) and any(c in o for c in ("Trouser", "Bag", "Coat"))
               for o in at.selectbox(key="closer-batch").options)
    assert "Classes by number: 0 T-shirt/top · 1 Trouser" in " ".join(c.value for c in at.caption)
    assert any("Small CNN · Fashion-MNIST · clothes.pt" in o for o in at.selectbox(key="checkpoint").options)


def test_the_room_leaves_a_clothes_checkpoint_out(room):
    at, _, _ = room
    path = save_checkpoint(resources.CHECKPOINTS / "clothes.pt", "cnn", build_model("cnn"),
                           config=TrainConfig(model="cnn", dataset="fashion").to_dict())
    at.run()
    assert not at.exception
    labels = " ".join(shown(str(v)) for t in at.table for v in t.value.get("Checkpoint", []))
    assert "cnn.pt" in labels and path.name not in labels
