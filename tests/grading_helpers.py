"""Helpers shared by tests/grading/: build a student's file from source text, grade it, read scores."""
import ast
import contextlib
import os

from autograder.grading import grade_file
from autograder.spec import repo_root


def replace_function(source, name, new_def):
    """The source with the top-level function `name` replaced by new_def (a student's one mistake)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return "\n".join(lines[:node.lineno - 1] + new_def.strip("\n").splitlines() + lines[node.end_lineno:]) + "\n"
    raise KeyError(name)


def grade_source(tmp_path, name, source, *, assignment, questions=None):
    """Write `source` as tmp_path/<name>.py and grade it."""
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return grade_file(str(path), assignment=assignment, questions=questions)


def scores(result):
    """{question: (score, max_score)}, a question's public and hidden entries added up."""
    from autograder.grading import question_scores
    return question_scores(result)


def assert_only_question_lost(result, affected, context):
    """A mistake in the functions of `affected` costs points there and nowhere else."""
    got = scores(result)
    assert got[affected][0] < got[affected][1], (context, result["tests"])
    for q, (score, max_score) in got.items():
        if q != affected:
            assert score == max_score, (context, q, result["tests"])


def grade_template(assignment):
    """Grade the untouched notebook students receive."""
    return grade_file(os.path.join(repo_root(), "assignments", f"{assignment}.ipynb"))


@contextlib.contextmanager
def environment(**values):
    """os.environ with these values for the duration (a kernel started meanwhile inherits them)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
