"""`TrainConfig`: every training setting, its default, its help text and its valid values, in one place. (About
250 lines: one home for every setting is the point, so it is not split.)

The CLI's flags, the Train page's form and the checks on a config read from a file (a checkpoint, a
run folder, a form) are all built from the field metadata here: a new setting is one line.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import arch
from .data import Splits, load_splits
from .mnist import DATASETS
from .models import BUILT, MODELS

MNIST_TRAIN_IMAGES = 60_000
MAX_BATCH = 8192          # larger batches only risk exhausting memory on a small machine
MAX_TEXT = 500            # characters of a text setting (a checkpoint's path)
MIN_EVALUATIONS = 10      # validations in a run with eval_every 0: enough points for an accuracy curve
# settings that are about digits: pens and scans, drawings that are not digits, the room's drawn digits
DIGITS_ONLY = ("roughen", "not_digits", "drawn_digits", "drawings", "room_share")


# Named sets of settings. A recipe fills the Train page's form or the CLI's flags (`--recipe NAME`); a
# setting given explicitly wins. The figures are measured: README, "Running a workshop".
RECIPES = {
    # Fine-tune a checkpoint (--start-from) on MNIST plus the room's drawings: one epoch at a fifth of the
    # default learning rate, distorted copies, the drawings a tenth of the images. A shipped LeNet-5 read a
    # room of calculator-style digits from 93% to 100% (held out) in ~20 s, MNIST test 99.29% → 99.29%.
    "room": dict(epochs=1, optimizer="adam", lr=1e-3, schedule="onecycle", augment=True, drawings=True, room_share=0.1),
    # LeNet-5 from scratch to 99% test accuracy in the least wall time on a 2-core CPU (#16): SGD with Nesterov
    # momentum, one-cycle to 0.2 at batch 256, 6 epochs, one validation per epoch (196 batches of 256 = 50,000
    # images) instead of >= 10. Measured (README, "Speed"): 5 epochs gave 98.95-99.02% over seeds 0-2, 6 gave
    # 98.93-99.05%, weight decay 5e-4 moved the hardest seed from 98.93% to 98.98%.
    "fast": dict(epochs=6, batch_size=256, optimizer="sgd", lr=0.2, momentum=0.9, weight_decay=5e-4,
                 schedule="onecycle", eval_every=196),
}


def setting(default, help: str, *, label: str = "", choices=None, low=None, high=None, low_open=False, high_open=False,
            step=None):
    """A config field: its default, a one-line help, the form's label, and either its choices (a mapping
    of each value to its words) or its bounds (and the step a form's +/- buttons take)."""
    return dataclasses.field(default=default, metadata=dict(help=help, label=label, choices=choices, low=low, high=high,
                                                            low_open=low_open, high_open=high_open, step=step))


def label(f: dataclasses.Field) -> str:
    """The words for a setting, in forms and messages: "Learning rate", "Batch size"."""
    return f.metadata["label"] or f.name.replace("_", " ").capitalize()


def choice_words(setting_name: str, value: str) -> str:
    """The words for one of a setting's choices: "One-cycle" for "onecycle", "LeNet-5" for "lenet5"."""
    (f,) = (f for f in fields() if f.name == setting_name)
    words = f.metadata["choices"].get(value, value)
    return words if isinstance(words, str) else words.title  # a model's registry entry carries its title


def value_words(f: dataclasses.Field, value) -> str:
    """The words for a setting's value, in pages and messages: its choice's words, yes or no, a number as %g."""
    if f.metadata["choices"] is not None:
        return choice_words(f.name, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(TrainConfig)


def applies(name: str, settings: dict) -> bool:
    """Whether the setting `name` takes part in a run with these `settings` (a TrainConfig as a dict, or what a
    form holds): momentum only for SGD (Adam keeps its own momentum terms), the room's share only with the
    room's drawings. The Train page shows, and the Model page lists, only what applies."""
    if name == "momentum":
        return settings.get("optimizer", TrainConfig.optimizer) == "sgd"
    if name == "room_share":
        return bool(settings.get("drawings", TrainConfig.drawings))
    if name == "layers":
        return settings.get("model", TrainConfig.model) == BUILT
    if name in DIGITS_ONLY:
        return settings.get("dataset", TrainConfig.dataset) == "mnist"
    return True


@dataclass(frozen=True)
class TrainConfig:
    model: str = setting("lenet5", "the network: a key of digits.MODELS; built: your own layers", label="Architecture",
                         choices=MODELS)
    layers: str = setting("", "a built network's layers, in order, as text (digits.arch): "
                          "'conv 8 3, relu, maxpool 2, flatten, linear 10'; or --arch FILE with a JSON list",
                          label="Layers")
    dataset: str = setting("mnist", "the images to learn from: MNIST's handwritten digits, or Fashion-MNIST's "
                           "clothes (the same 28×28 grey images, ten classes; fetched offline and checked as MNIST is)",
                           choices={name: d.title for name, d in DATASETS.items()})
    start_from: str = setting("", "a checkpoint to fine-tune (its path; the same architecture); empty: random weights",
                              label="Start from")
    epochs: int = setting(10, "passes over the training split (a LeNet-5 epoch takes ~5 s on a 2-core CPU)",
                          low=1, high=1000)
    batch_size: int = setting(128, "images per step", low=1, high=MAX_BATCH)
    optimizer: str = setting("adam", "the optimizer", choices={"adam": "Adam", "sgd": "SGD"})
    lr: float = setting(5e-3, "peak learning rate: the one-cycle schedule warms up to it, then anneals",
                        label="Learning rate", low=0.0, high=10.0, low_open=True, step=1e-3)
    momentum: float = setting(0.9, "SGD's momentum (Nesterov); Adam uses its own defaults",
                              low=0.0, high=1.0, high_open=True)
    weight_decay: float = setting(0.0, "L2 penalty on the weights", low=0.0, high=1.0, high_open=True, step=1e-4)
    schedule: str = setting("onecycle", "learning rate over the run: one-cycle (Smith & Topin 2018) or constant",
                            choices={"onecycle": "One-cycle", "constant": "Constant"})
    val_size: int = setting(10_000, "images held out of the 60,000 training images for validation",
                            label="Validation images", low=1, high=MNIST_TRAIN_IMAGES - 1000, step=1000)
    eval_every: int = setting(0, "training iterations between validations; 0: every 500 "
                              "(the small-CNN tutorial's interval), "
                              f"or more often so that a short run gets at least {MIN_EVALUATIONS}",
                              label="Evaluate every (0 = auto)", low=0, high=10**6, step=50)
    augment: bool = setting(False, "random affine distortions on the device: rotation, scale, shear, shift")
    roughen: bool = setting(False, "also roughen half the training images on the device: thinner or thicker strokes, "
                            "low resolution, ink blotches (other pens and scans)", label="Roughen")
    not_digits: float = setting(0.0, "made-up drawings that are not digits (digits.negatives) added to each batch, "
                                "as a share of it, and trained towards equal probabilities for all ten digits (outlier "
                                "exposure, Hendrycks et al. 2019): a scribble gets no confident digit; 0: none",
                                label="Not-digit share", low=0.0, high=0.5, step=0.05)
    drawn_digits: float = setting(0.0, "digits drawn by the program in the forms people write and MNIST's writers "
                                  "seldom did (digits.letterforms: a 1 with a long flag, a crossed 7, an open 4...) "
                                  "added to each batch, as a share of it; 0: none", label="Drawn-digit share",
                                  low=0.0, high=0.5, step=0.05)
    drawings: bool = setting(False, "also learn from the room's drawings (digits.room): a fixed quarter is held out "
                             "and measured at each evaluation, 15% help choose the best model, the rest are repeated "
                             "to make room_share of the training images", label="Room's drawings")
    room_share: float = setting(0.1, "the share of each epoch's training images that are copies of the room's drawings",
                                label="Room's share", low=0.0, high=0.5, low_open=True, step=0.05)
    seed: int = setting(0, "random seed: same seed, same split, same run on the same device", low=0, high=2**31 - 1)
    device: str = setting("auto", "where to train: auto is CUDA, then Apple MPS, then the CPU",
                          choices={"auto": "Auto (GPU if present)", "cpu": "CPU", "cuda": "GPU (CUDA)",
                                   "mps": "GPU (Apple)"})

    def __post_init__(self):
        problems = {f.name: p for f in dataclasses.fields(self) if (p := _problem(f, getattr(self, f.name)))}
        if "val_size" not in problems and isinstance(self.batch_size, int) and self.batch_size >= 1:
            most = min(MAX_BATCH, MNIST_TRAIN_IMAGES - self.val_size)  # a batch needs that many training images
            if self.batch_size > most:
                problems["batch_size"] = (f"batch size must be from 1 to {most} "
                                          f"(at most the {MNIST_TRAIN_IMAGES - self.val_size} "
                                          f"training images, and {MAX_BATCH}), got {self.batch_size!r}")
        about_digits = [label(f) for f in dataclasses.fields(self)  # the room's share only counts with its drawings
                        if f.name in DIGITS_ONLY and f.name != "room_share" and getattr(self, f.name)]
        if self.dataset != "mnist" and about_digits:
            problems["dataset"] = f"{', '.join(about_digits)}: about digits, not for {self.dataset}"
        if "layers" not in problems and "model" not in problems:
            if (problem := _layers_problem(self.model, self.layers, self.batch_size)):
                problems["layers"] = problem
        if problems:
            raise ValueError("; ".join(problems.values()))
        if self.layers:  # one way to write a network: the same layers are the same text everywhere
            object.__setattr__(self, "layers", arch.text(arch.parse(self.layers)))

    def evaluation_interval(self, total_iterations: int) -> int:
        """Iterations between validations: eval_every, or with 0 the tutorial's 500, shortened so that
        a short run is validated at least MIN_EVALUATIONS times (a 2-epoch run would get only 1)."""
        if self.eval_every:
            return self.eval_every
        return max(1, min(500, total_iterations // MIN_EVALUATIONS))

    def splits(self, progress=lambda message: None) -> Splits:
        """The run's data: its dataset's test set, and its validation set carved out of the training images
        with its size and seed."""
        return load_splits(self.val_size, self.seed, progress=progress, dataset=self.dataset)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Known keys only (others are ignored, so that old files stay readable); ValueError if invalid."""
        if not isinstance(d, dict):
            raise ValueError(f"a config must be a mapping, not {type(d).__name__}")
        return cls(**{k: v for k, v in d.items() if k in cls.field_names()})

    @classmethod
    def recipe(cls, name: str) -> dict:
        """The settings a recipe names (RECIPES); ValueError for an unknown name."""
        if name not in RECIPES:
            raise ValueError(f"unknown recipe {_shown(name)} (choose {', '.join(RECIPES)})")
        return dict(RECIPES[name])

    @classmethod
    def from_file(cls, path: Path | str) -> "TrainConfig":
        """A config.json (as a run folder holds); ValueError with a one-line reason if unusable."""
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read(100_000))
        except (OSError, ValueError, RecursionError) as e:
            raise ValueError(f"cannot read the config {path}: {str(e)[:120]}") from None
        return cls.from_dict(data)


def _shown(value) -> str:
    text = (repr(value) if isinstance(value, str) else str(value) if isinstance(value, (int, float))
            else type(value).__name__)
    return text if len(text) <= 40 else text[:39] + "…"


def _layers_problem(model: str, layers: str, batch_size) -> str | None:
    """Why a config's layers do not go with its model: a built network needs working layers (digits.arch
    says which layer fails), a shipped one has its own and takes none."""
    if model != BUILT:
        return None if layers == "" else f"layers are for a built network; {model} has its own"
    if not layers.strip():
        return "a built network needs its layers ('conv 8 3, relu, maxpool 2, flatten, linear 10')"
    try:
        spec = arch.parse(layers)
    except ValueError as e:
        return str(e)
    if isinstance(batch_size, int) and (mb := arch.training_mb(spec, batch_size)) > arch.MAX_TRAINING_MB:
        return (f"its layers' outputs take {mb:,.0f} MB at batch {batch_size}: at most {arch.MAX_TRAINING_MB:,} "
                "MB (a smaller batch)")
    return None


def _problem(f: dataclasses.Field, value) -> str | None:
    """Why `value` is not valid for field `f`, in words; None when it is."""
    m, name = f.metadata, label(f).lower()
    if m["choices"] is not None:
        if isinstance(value, str) and value in m["choices"]:
            return None
        if f.name == "model":
            return f"unknown model {_shown(value)} (choose {', '.join(m['choices'])})"
        return f"{name} must be one of {', '.join(m['choices'])}, got {_shown(value)}"
    if f.type in (bool, "bool"):
        return None if isinstance(value, bool) else f"{name} must be true or false, got {_shown(value)}"
    if f.type in (str, "str"):
        longest = arch.MAX_TEXT if f.name == "layers" else MAX_TEXT
        if f.name == "layers" and isinstance(value, str):
            value = value.replace("\n", " ")  # a network's layers may be written one a line
        ok = isinstance(value, str) and len(value) <= longest and value.isprintable()
        return None if ok else f"{name} must be text of at most {longest} characters, got {_shown(value)}"
    whole = f.type in (int, "int")
    # an int is finite, however long (math.isfinite cannot take one too big for a float)
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))
    low_ok = number and (value > m["low"] if m["low_open"] else value >= m["low"])
    high_ok = number and (value < m["high"] if m["high_open"] else value <= m["high"])
    if number and (isinstance(value, int) or not whole) and low_ok and high_ok:
        return None
    if whole:
        return f"{name} must be from {m['low']} to {m['high']} (a whole number), got {_shown(value)}"
    lo = f"above {m['low']:g}" if m["low_open"] else f"at least {m['low']:g}"
    hi = f"below {m['high']:g}" if m["high_open"] else f"at most {m['high']:g}"
    return f"{name} must be {lo} and {hi}, got {_shown(value)}"
