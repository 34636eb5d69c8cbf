"""digits.letterforms: digits drawn in the forms people write them, which a run may learn from
(config.drawn_digits), and the letters among digits.negatives' non-digits (issue #31)."""

import dataclasses

import pytest
import torch

from digits import TrainConfig, fit, load_checkpoint
from digits.events import describe
from digits.letterforms import COUNT, FORMS, pool
from digits.negatives import KINDS, LETTERS, negatives


def test_every_digit_has_more_than_one_form_and_the_long_flag_one_is_among_them():
    assert set(FORMS) == set(range(10)) and all(len(forms) >= 2 for forms in FORMS.values())
    assert "long flag" in FORMS[1] and "crossed" in FORMS[7] and "open" in FORMS[4]


def test_the_pool_is_each_form_as_classify_reads_it_with_its_digit_and_repeats_for_a_seed():
    images, labels = pool(3, 0)
    forms = COUNT
    assert images.dtype == torch.uint8 and images.shape == (3 * forms, 28, 28)  # none came out blank
    assert labels.tolist() == [d for d, f in FORMS.items() for _ in range(3 * len(f))]
    assert (images.flatten(1).amax(1) >= 240).all()  # ink, near full as to_mnist makes it
    again, _ = pool(3, 0)
    other, _ = pool(3, 1)
    assert torch.equal(images, again) and not torch.equal(images, other)


def test_the_letters_leave_out_those_written_as_digits_and_are_a_kind_of_negative():
    assert not set(LETTERS) & set("OoIlZzqgad")
    assert "letters" in KINDS
    drawn = [d for d in negatives(3, 0) if d.style == "letters"]
    assert len(drawn) == 3 and all(d.digit == -1 and d.image[..., 3].any() for d in drawn)


def test_a_run_with_drawn_digits_adds_them_to_each_batch_and_says_so(tiny_splits, tmp_path, monkeypatch):
    monkeypatch.setattr("digits.batch_source.DRAWN_PER_FORM", 2)  # the real generator, a small pool
    config = TrainConfig(model="lenet5", epochs=2, batch_size=32, lr=3e-3, eval_every=40, drawn_digits=0.25,
                         device="cpu")
    events = list(fit(config, tiny_splits, checkpoint=tmp_path / "best.pt"))
    assert events[-1].kind == "finished"
    assert load_checkpoint(tmp_path / "best.pt")[1]["config"]["drawn_digits"] == 0.25
    made = 2 * COUNT
    assert events[1].kind == "preparing" and (events[1].not_digits, events[1].drawn_digits) == (0, made)
    assert f"{made} digits in the forms people write them" in describe(events[1])
    assert "non-digits" not in describe(events[1])
    plain = list(fit(dataclasses.replace(config, drawn_digits=0.0, epochs=1), tiny_splits))
    assert "preparing" not in {e.kind for e in plain}


def test_the_batches_carry_the_drawn_digits_with_their_labels(tiny_splits, monkeypatch):
    from digits.batch_source import BatchSource

    monkeypatch.setattr("digits.batch_source.DRAWN_PER_FORM", 2)
    source = BatchSource(TrainConfig(batch_size=32, drawn_digits=0.25), tiny_splits, None, torch.device("cpu"))
    source.prepare()
    images, labels, others = next(iter(source.batches()))
    assert images.shape == (40, 28, 28) and labels.shape == (40,) and others is None  # 32 + 8 drawn
    drawn_images, drawn_labels = source.drawn
    for image, label in zip(images[32:], labels[32:]):
        (at,) = [i for i in range(len(drawn_images)) if torch.equal(drawn_images[i], image)][:1]
        assert drawn_labels[at] == label


@pytest.mark.parametrize("share", [-0.1, 0.6])
def test_a_drawn_digit_share_out_of_bounds_is_refused(share):
    with pytest.raises(ValueError):
        TrainConfig(drawn_digits=share)


def test_drawn_digits_are_refused_for_a_dataset_that_is_not_digits():
    with pytest.raises(ValueError, match="Drawn-digit share: about digits"):
        TrainConfig(dataset="fashion", drawn_digits=0.1)
    assert TrainConfig(dataset="fashion").drawn_digits == 0.0


def test_a_preparing_event_written_before_drawn_digits_still_loads():
    from digits.events import Preparing, from_dict

    old = from_dict({"kind": "preparing", "elapsed": 0.1, "not_digits": 14000})
    assert old == Preparing(0.1, 14000, 0) and "non-digits" in describe(old) and "forms people" not in describe(old)
    with pytest.raises(ValueError):
        from_dict({"kind": "preparing", "elapsed": 0.1, "not_digits": 0, "drawn_digits": "many"})


def test_each_form_is_drawn_as_its_digit_as_the_shipped_checkpoint_reads_it(shipped):
    """A form under the wrong digit or a skeleton that draws another digit would be read as that other one."""
    from digits.reading import answers_of

    images, labels = pool(4, 12345)  # other seeds than any run's pool (7000 + seed)
    read = answers_of(shipped["lenet5"], images).digit  # uint8, as MNIST test is given to it
    assert (read == labels).double().mean() >= 0.95
    for digit in range(10):
        assert (read[labels == digit] == digit).double().mean() >= 0.75, digit
