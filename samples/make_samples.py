"""Make the bundled sample class (samples/<assignment>/) that `make demo` grades.

Four made-up students per assignment: alice (correct: the solutions woven into the notebook),
bob (partly wrong: one plausible mistake), chloe (untouched release), dan (broken in some way).
What bob gets wrong and how dan is broken is each assignment's own: its folder's samples.py
(autograder/assignments/<name>/samples.py: MISTAKE = (solution text, replacement), BROKEN = a
code cell or None). Every assignment the package discovers that has a samples.py gets samples.
Run `python samples/make_samples.py [ASSIGNMENT ...]` after changing a notebook or a solution
(no argument: every assignment).
"""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder.authoring import weave  # noqa: E402
from autograder.spec import assignment_dir, discover, load_spec  # noqa: E402
from autograder.submission import import_nbformat  # noqa: E402

nbformat = import_nbformat()


def sample_table(assignment):
    """The assignment's samples.py as a module (MISTAKE, BROKEN), or None when it has none."""
    path = os.path.join(assignment_dir(assignment), "samples.py")
    if not os.path.isfile(path):
        return None
    spec = importlib.util.spec_from_file_location(f"samples_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def truncated_notebook(assignment):
    """A notebook cut off in the middle of its first graded function (an interrupted upload)."""
    first = load_spec(assignment).questions[0].functions[0]
    return '{"cells": [ {"cell_type": "code", "source": "def ' + first + '('


def main(only=()):
    for assignment in discover():
        if only and assignment not in only:
            continue
        table = sample_table(assignment)
        template = os.path.join(ROOT, "assignments", f"{assignment}.ipynb")
        if table is None or not os.path.exists(template):
            continue
        old, new = table.MISTAKE
        broken_cell = getattr(table, "BROKEN", None)
        nb = nbformat.read(template, as_version=4)
        with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
            solution = fh.read()
        out = os.path.join(ROOT, "samples", assignment)
        os.makedirs(out, exist_ok=True)
        nbformat.write(weave(nb, solution, markers=False), os.path.join(out, "alice.ipynb"))
        assert old in solution, (assignment, old)
        nbformat.write(weave(nb, solution.replace(old, new), markers=False), os.path.join(out, "bob.ipynb"))
        nbformat.write(nb, os.path.join(out, "chloe.ipynb"))
        if broken_cell:
            broken = weave(nb, solution, markers=False)
            broken.cells.insert(2, nbformat.v4.new_code_cell(broken_cell))
            nbformat.write(broken, os.path.join(out, "dan.ipynb"))
        else:
            with open(os.path.join(out, "dan.ipynb"), "w", encoding="utf-8") as fh:
                fh.write(truncated_notebook(assignment))
        print(f"wrote {out}")


if __name__ == "__main__":
    unknown = sorted(set(sys.argv[1:]) - set(discover()))
    if unknown:
        sys.exit(f"unknown assignment(s): {', '.join(unknown)}; known: {', '.join(discover())}")
    main(sys.argv[1:])
