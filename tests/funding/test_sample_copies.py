"""The workbooks under tests/funding/samples/ are byte-for-byte the ministry samples of ../shared/samples/."""
import hashlib
import os

import pytest

from .conftest import ALLOCATION, ANNEX, SHARED_SAMPLES


def _sha(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.parametrize("path", [ANNEX, ALLOCATION])
def test_samples_are_the_shared_ones(path):
    assert os.path.isfile(path), path
    original = os.path.join(SHARED_SAMPLES, os.path.basename(path))
    if not os.path.isfile(original):
        pytest.skip("../shared/samples/ is not beside this checkout; the copies are used as they are")
    assert _sha(path) == _sha(original)
