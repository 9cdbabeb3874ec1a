"""Shared helpers for the test suite.

`load_solution("03_backprop")` imports solutions/03_backprop.py (file names start with digits, so
they cannot be imported by name) and returns the module. `load_solution` is a session-scoped
fixture whose value is the loader function `load_solution_module`; modules are cached, so the
Keras solution is imported only once per session. Tests that change a module's attributes use
`monkeypatch`, which restores them afterwards.
"""
import importlib.util
import os
from pathlib import Path

import pytest

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
# every `autograder check` a test runs grades the notebook itself; tests/test_check_server.py turns
# the warm check server on for its own checks, in a folder of its own
os.environ["AUTOGRADER_CHECK_SERVER_IDLE"] = "0"

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
DATA_DIR = REPO_ROOT / "data"

_CACHE = {}


def _load_path(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_solution_module(name, fresh=False):
    """Import solutions/<name>.py (e.g. "01_perceptron") and return the module.

    The module is cached per session; fresh=True imports a new, uncached copy.
    """
    stem = name[:-3] if name.endswith(".py") else name
    path = SOLUTIONS_DIR / f"{stem}.py"
    if not path.is_file():
        raise FileNotFoundError(path)
    if fresh:
        return _load_path(path, f"solution_{stem}_fresh")
    if stem not in _CACHE:
        _CACHE[stem] = _load_path(path, f"solution_{stem}")
    return _CACHE[stem]


@pytest.fixture(scope="session")
def load_solution():
    """The loader itself: `load_solution("03_backprop")` returns the module."""
    return load_solution_module


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


# tests/grading_helpers.py is imported by name from the grading tests (import mode importlib)
import sys as _sys  # noqa: E402

_sys.path.insert(0, str(Path(__file__).resolve().parent))
