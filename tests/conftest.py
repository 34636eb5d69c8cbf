"""Fixtures shared by the tests; the helpers they use are in tests/helpers.py."""

import pytest

from digits.data import Splits
from tests.helpers import synthetic_split


@pytest.fixture
def tiny_splits() -> Splits:
    return Splits(train=synthetic_split(512, 1), val=synthetic_split(128, 2), test=synthetic_split(128, 3))
