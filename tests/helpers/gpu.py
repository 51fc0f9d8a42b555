"""Marks for tests that need a CUDA GPU: ``@pytest.mark.cuda`` (select them with ``-m cuda``) and skipped
without one."""

from __future__ import annotations

import pytest
import torch

NEEDS_CUDA = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
"""``pytestmark = NEEDS_CUDA`` in a module, or ``@pytest.mark.cuda`` plus the skip on one test."""
