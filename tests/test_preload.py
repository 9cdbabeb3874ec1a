"""Which libraries a warm sandbox has imported before the student's cells run: the Keras
assignments' sandboxes run Keras on JAX without TensorFlow (Keras would import it only to seed it),
and a submission that imports TensorFlow itself, as the lecture's code does, gets a warm sandbox
that has it (spec.preload_if_imported), so that no question of it pays TensorFlow's import."""
import os

import pytest

from autograder import grading
from autograder import spec as specmod
from autograder.spec import imported_modules
from autograder.submission import import_nbformat


def _cells(*sources):
    return [{"index": i, "source": s} for i, s in enumerate(sources)]


def test_imports_are_found_by_their_top_level_module():
    heavy = ["tensorflow", "torch"]
    assert imported_modules(_cells("import numpy as np", "x = 'import tensorflow'"), heavy) == []
    assert imported_modules(_cells("import tensorflow as tf"), heavy) == ["tensorflow"]
    assert imported_modules(_cells("from tensorflow import keras"), heavy) == ["tensorflow"]
    assert imported_modules(_cells("import os, tensorflow.keras.layers"), heavy) == ["tensorflow"]
    assert imported_modules(_cells("def f():\n    import torch\n    return torch"), heavy) == ["torch"]
    assert imported_modules(_cells("from .tensorflow import x"), heavy) == []          # a relative import
    assert imported_modules(_cells("import tensorflow as tf\nthis is not python("), heavy) == ["tensorflow"]
    assert imported_modules(_cells("import tensorflowx"), heavy) == []
    assert imported_modules(_cells("import torch", "import tensorflow"), heavy) == heavy  # the candidates' order


def test_the_keras_assignments_preload_tensorflow_only_for_submissions_that_import_it():
    for name in specmod.ASSIGNMENTS:
        spec = specmod.load_spec(name)
        if any(q.needs_keras for q in spec.questions):
            assert "tensorflow" not in spec.preload and spec.preload_if_imported == ["tensorflow"], name


PROBE = 'import sys\nprint("TensorFlow before the student imported anything:", "tensorflow" in sys.modules)\n'


def _sample_with(tmp_path, extra_import):
    nb = import_nbformat().read(os.path.join(specmod.repo_root(), "samples", "05_keras_tanh", "alice.ipynb"),
                                as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "import keras" in c.source)
    setup.source = PROBE + extra_import + setup.source
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "05_keras_tanh.ipynb"
    import_nbformat().write(nb, str(path))
    return str(path)


@pytest.mark.keras
@pytest.mark.xdist_group("keras-cache")
def test_a_submission_importing_tensorflow_gets_a_sandbox_that_has_it(tmp_path):
    spec = specmod.load_spec("05_keras_tanh")
    if specmod.sandbox_env(spec)[1] is not None:
        pytest.skip("Keras's preferred backend is not installed: the sandbox runs on TensorFlow anyway")
    questions = ["load_data", "build_model"]
    plain = grading.grade_file(_sample_with(tmp_path / "a", ""), questions=questions)
    lecture_style = "import tensorflow as tf\nfrom tensorflow import keras as tf_keras\n"
    with_tf = grading.grade_file(_sample_with(tmp_path / "b", lecture_style), questions=questions)
    assert "TensorFlow before the student imported anything: False" in plain["output"], plain["output"][-800:]
    assert "TensorFlow before the student imported anything: True" in with_tf["output"], with_tf["output"][-800:]
    # the same verdicts: which sandbox served a submission changes nothing in its grade
    assert plain["score"] == with_tf["score"] == sum(q.points for q in spec.questions if q.name in questions)


def test_a_lazy_module_runs_its_code_only_when_first_read(tmp_path, monkeypatch):
    from autograder.child.kit import lazy_modules
    pkg = tmp_path / "lazy_pkg_under_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from lazy_pkg_under_test import heavy as heavy\n")
    (pkg / "heavy").mkdir()
    (pkg / "heavy" / "__init__.py").write_text("import sys\nsys.modules['lazy_pkg_ran'] = True\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import sys
    with lazy_modules(["lazy_pkg_under_test.heavy"]) as finder:
        import lazy_pkg_under_test
    assert finder not in sys.meta_path
    try:
        assert "lazy_pkg_ran" not in sys.modules                 # bound by the package, not run
        assert lazy_pkg_under_test.heavy.VALUE == 42              # the first read runs it
        assert sys.modules["lazy_pkg_ran"] is True
    finally:
        for name in ("lazy_pkg_under_test", "lazy_pkg_under_test.heavy", "lazy_pkg_ran"):
            sys.modules.pop(name, None)


WRAPPERS_PROBE = ('import sys\nprint("scikit-learn before the student imported anything:", "sklearn" in sys.modules)\n'
                  'print("JAX lowering dialects preloaded:", "jaxlib.mlir.dialects.mhlo" in sys.modules)\n'
                  'print("h5py before the student used it:", "h5py._hl" in sys.modules)\n'
                  'import h5py\nprint("h5py has its File:", h5py.File.__name__)\n'
                  'import keras\nfrom keras.wrappers import SKLearnClassifier\nimport sklearn.base\n'
                  'print("wrapper is an estimator:", issubclass(SKLearnClassifier, sklearn.base.BaseEstimator))\n')


@pytest.mark.keras
@pytest.mark.xdist_group("keras-cache")
def test_keras_scikit_learn_wrappers_load_when_a_submission_uses_them(tmp_path):
    """05's warm sandbox imports Keras without its scikit-learn wrappers and h5py (kit.LAZY_AT_PRELOAD),
    and a submission that uses them gets the real ones, built on scikit-learn's classes. It has imported
    the MLIR dialects JAX loads on its first lowering (kit.preload_jax_lowering), which every Keras
    question's child would otherwise import again."""
    spec = specmod.load_spec("05_keras_tanh")
    if specmod.sandbox_env(spec)[1] is not None:
        pytest.skip("Keras's preferred backend is not installed")
    result = grading.grade_file(_sample_with(tmp_path, WRAPPERS_PROBE), questions=["load_data"])
    assert "scikit-learn before the student imported anything: False" in result["output"], result["output"][-800:]
    assert "wrapper is an estimator: True" in result["output"], result["output"][-800:]
    assert "JAX lowering dialects preloaded: True" in result["output"], result["output"][-800:]
    # h5py (Keras's legacy .h5 format) is bound, not run, until a submission reads it
    assert "h5py before the student used it: False" in result["output"], result["output"][-800:]
    assert "h5py has its File: File" in result["output"], result["output"][-800:]
