"""digits: train, watch and use handwritten-digit classifiers on MNIST. Never imports Streamlit."""

from .catalog import list_checkpoints
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import load_splits
from .device import resolve_device
from .evaluate import evaluate, predict
from .losses import cross_entropy, multiclass_svm
from .mnist import MNISTUnavailable, ensure_mnist
from .models import MODELS, build_model, count_parameters
from .preprocess import to_mnist
from .reading import Prediction, classify
from .train import fit

__all__ = [
    "CheckpointError", "list_checkpoints", "load_checkpoint", "save_checkpoint",
    "MNISTUnavailable", "ensure_mnist", "load_splits",
    "evaluate", "predict", "cross_entropy", "multiclass_svm",
    "MODELS", "build_model", "count_parameters",
    "Prediction", "classify", "to_mnist",
    "TrainConfig", "fit", "resolve_device",
]
