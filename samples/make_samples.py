"""Make the bundled sample class (samples/<assignment>/) that `make demo` grades.

Four made-up students per assignment: alice (correct: the solutions woven into the notebook),
bob (partly wrong: one plausible mistake), chloe (untouched release), dan (broken in some way).
Run `python samples/make_samples.py` after changing a notebook or a solution.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder.authoring import weave  # noqa: E402
from autograder.submission import import_nbformat  # noqa: E402

nbformat = import_nbformat()

# (solution text, replacement): one plausible student mistake per assignment
MISTAKES = {
    "01_perceptron": ("return 1 if z > 0 else 0", "return 1 if z >= 0 else 0"),
    "02_xor_mlp": ("(n_in + 1) * n_out", "n_in * n_out"),
    "03_backprop": ("delta2 = (y - t) * sigmoid_grad_from_output(y)", "delta2 = (y - t)"),
    "04_optimizers": ("m_hat = m / (1 - b1 ** t)", "m_hat = m"),
    "05_keras_tanh": ('keras.layers.Dense(4, activation="tanh")', 'keras.layers.Dense(4, activation="relu")'),
}

BROKEN = {
    "02_xor_mlp": "def helper(:\n    pass  # a syntax error in one cell\n",
    "03_backprop": "import os\nos._exit(1)  # a cell that kills the process\n",
    "04_optimizers": "while True:\n    pass  # an infinite loop at top level\n",
    "05_keras_tanh": "import tensorflw  # a typo in an import\n",
}


def main():
    for assignment, (old, new) in MISTAKES.items():
        template = os.path.join(ROOT, "assignments", f"{assignment}.ipynb")
        if not os.path.exists(template):
            continue
        nb = nbformat.read(template, as_version=4)
        with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
            solution = fh.read()
        out = os.path.join(ROOT, "samples", assignment)
        os.makedirs(out, exist_ok=True)
        nbformat.write(weave(nb, solution, markers=False), os.path.join(out, "alice.ipynb"))
        assert old in solution, (assignment, old)
        nbformat.write(weave(nb, solution.replace(old, new), markers=False), os.path.join(out, "bob.ipynb"))
        nbformat.write(nb, os.path.join(out, "chloe.ipynb"))
        if assignment in BROKEN:
            broken = weave(nb, solution, markers=False)
            broken.cells.insert(2, nbformat.v4.new_code_cell(BROKEN[assignment]))
            nbformat.write(broken, os.path.join(out, "dan.ipynb"))
        else:
            with open(os.path.join(out, "dan.ipynb"), "w", encoding="utf-8") as fh:
                fh.write('{"cells": [ {"cell_type": "code", "source": "def weighted_sum(x, w, b):\\n')  # truncated JSON
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
