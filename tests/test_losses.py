import torch
import torch.nn.functional as F

from digits import cross_entropy, multiclass_svm


def test_cross_entropy_matches_torch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 10, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, 10, (64,), generator=g)
    assert abs(cross_entropy(logits, labels).item() - F.cross_entropy(logits, labels).item()) < 1e-6


def test_cross_entropy_is_stable_for_huge_logits():
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    labels = torch.tensor([1, 2])
    ours = cross_entropy(logits, labels)
    assert torch.isfinite(ours)
    assert abs(ours.item() - F.cross_entropy(logits, labels).item()) < 1e-6


def test_svm_loss_matches_multi_margin_loss_times_classes():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(32, 10, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 10, (32,), generator=g)
    reference = torch.nn.MultiMarginLoss()(logits, labels) * 10  # torch divides by the number of classes
    assert abs(multiclass_svm(logits, labels).item() - reference.item()) < 1e-9


def test_svm_loss_is_zero_when_margins_are_met():
    logits = torch.tensor([[5.0, 0.0, 3.9]])
    assert multiclass_svm(logits, torch.tensor([0])).item() == 0.0
    # only class 0 violates the margin
    assert abs(multiclass_svm(logits, torch.tensor([2])).item() - (5 - 3.9 + 1)) < 1e-6
