"""Reading submissions (autograder.submission) and refusing bad input clearly: a link out of the
submissions folder is refused, another assignment's notebook is named as such, and `autograder
check` exits 2 with a specific message for a missing file, an unknown question or assignment."""
import json
import os
import subprocess
import sys

import pytest

from autograder import grading, i18n
from autograder import spec as specmod
from autograder.authoring import weave
from autograder.submission import (SubmissionError, import_nbformat, link_outside, normalize, read_submission,
                                   template_skip_set)

nbformat = import_nbformat()
ROOT = specmod.repo_root()


def _solution(assignment):
    with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
        return fh.read()


def _template(assignment):
    return nbformat.read(os.path.join(ROOT, "assignments", f"{assignment}.ipynb"), as_version=4)


def _functions(assignment):
    return {f for q in specmod.load_spec(assignment).questions for f in q.functions}


def _skip(assignment):
    return template_skip_set(grading.template_path(assignment))


# ---- reading ------------------------------------------------------------------------------
def test_python_file_cells_follow_the_cell_markers(tmp_path):
    path = tmp_path / "kim.py"
    path.write_text("# %%\nx = 1\n# %% second\ndef f():\n    return x\n", encoding="utf-8")
    sub = read_submission(str(path), assignment="01_perceptron")
    assert sub.student == "kim" and sub.kind == "python"
    assert [c["source"].strip() for c in sub.cells] == ["x = 1", "def f():\n    return x"]


def test_notebook_leaves_out_exactly_the_templates_demo_and_check_cells(tmp_path):
    a = "03_backprop"
    nb = weave(_template(a), _solution(a), markers=False)
    path = tmp_path / "lee.ipynb"
    nbformat.write(nb, str(path))
    skip = _skip(a)
    sub = read_submission(str(path), skip_for=lambda _: skip)
    code = [i for i, c in enumerate(c for c in nb.cells if c.cell_type == "code")]
    expected_skipped = [i for i, c in zip(code, [c for c in nb.cells if c.cell_type == "code"])
                        if normalize(c.source) in skip]
    assert sub.assignment == a  # from the notebook's metadata
    assert sub.skipped == expected_skipped and expected_skipped
    assert len(sub.cells) + len(sub.skipped) == len(code)


def test_an_edited_check_cell_is_not_left_out(tmp_path):
    a = "01_perceptron"
    nb = _template(a)
    skip = _skip(a)
    edited = next(c for c in nb.cells if c.cell_type == "code" and normalize(c.source) in skip)
    edited.source += "\nprint('mine')"
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, str(path))
    sub = read_submission(str(path), skip_for=lambda _: skip)
    assert any("print('mine')" in c["source"] for c in sub.cells)


@pytest.mark.parametrize("content, key", [(b"", "empty_file"), (b"\x00\x01binary", "binary_file"),
                                          (b'{"cells": [', "not_json"), (b'{"a": 1}', "not_notebook")])
def test_unreadable_files_say_why(tmp_path, content, key):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as info:
        read_submission(str(path))
    assert info.value.key == key and info.value.status == "unreadable"


# ---- links out of the submissions folder -----------------------------------------------------
def test_a_link_out_of_the_folder_is_refused(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    link = subs / "eve.py"
    target = os.path.join(ROOT, "solutions", "03_backprop.py")
    link.symlink_to(target)
    assert link_outside(str(link)) == ("eve.py", os.path.realpath(target))
    with pytest.raises(SubmissionError) as info:
        read_submission(str(link), assignment="03_backprop")
    assert info.value.status == "refused" and info.value.key == "link_outside"
    # a folder that links out, and a folder holding a link out, are refused the same way
    (subs / "mal").symlink_to(os.path.join(ROOT, "samples", "03_backprop"), target_is_directory=True)
    own = subs / "own"
    own.mkdir()
    (own / "own.py").symlink_to(target)
    for path in (subs / "mal", own):
        with pytest.raises(SubmissionError) as info:
            read_submission(str(path), assignment="03_backprop")
        assert info.value.status == "refused", path


def test_a_link_inside_the_folder_is_read(tmp_path):
    (tmp_path / "real.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert link_outside(str(tmp_path / "alias.py")) is None
    assert read_submission(str(tmp_path / "alias.py")).cells[0]["source"].strip() == "x = 1"


def test_a_refused_link_is_graded_zero_with_its_reason(tmp_path):
    link = tmp_path / "eve.py"
    link.symlink_to(os.path.join(ROOT, "solutions", "01_perceptron.py"))
    result = grading.grade_file(str(link), assignment="01_perceptron")
    assert result["score"] == 0 and result["extra_data"]["status"] == "refused"
    assert "link" in result["output"] and "01_perceptron.py" in result["output"]


# ---- another assignment's notebook -----------------------------------------------------------
def test_metadata_of_another_assignment_is_named(tmp_path):
    path = tmp_path / "park.ipynb"
    nbformat.write(weave(_template("02_xor_mlp"), _solution("02_xor_mlp"), markers=False), str(path))
    with pytest.raises(SubmissionError) as info:
        read_submission(str(path), assignment="03_backprop")
    assert info.value.status == "wrong_assignment"
    assert info.value.params["found"] == "02_xor_mlp" and info.value.params["expected"] == "03_backprop"
    result = grading.grade_file(str(path), assignment="03_backprop")
    assert result["score"] == 0 and result["extra_data"]["status"] == "wrong_assignment"
    assert "02_xor_mlp" in result["output"], result["output"]
    assert result["max_score"] == specmod.load_spec("03_backprop").max_score


def test_the_names_a_file_defines_tell_its_assignment(tmp_path):
    path = tmp_path / "choi.py"
    path.write_text(_solution("02_xor_mlp"), encoding="utf-8")
    with pytest.raises(SubmissionError) as info:
        read_submission(str(path), assignment="04_optimizers")
    assert info.value.status == "wrong_assignment" and info.value.params["found"] == "02_xor_mlp"
    named = set(info.value.params["names"].split(", "))
    assert named and named <= _functions("02_xor_mlp")


def test_own_partial_work_is_not_another_assignment(tmp_path):
    """A file with the right assignment's functions, or with only a few functions that another
    assignment also has (sigmoid is in 02 and 03), is read as the given assignment."""
    own = tmp_path / "own.py"
    own.write_text(_solution("03_backprop"), encoding="utf-8")
    assert read_submission(str(own), assignment="03_backprop").cells
    shared = _functions("02_xor_mlp") & _functions("03_backprop")
    assert shared  # the case this guards
    few = tmp_path / "few.py"
    few.write_text("".join(f"def {name}(x):\n    return x\n\n" for name in sorted(shared)), encoding="utf-8")
    assert read_submission(str(few), assignment="03_backprop").cells


# ---- autograder check: usage errors exit 2 with a specific message ----------------------------
def _check(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "autograder", "check", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd or ROOT, env=env)


def test_check_a_missing_file_exits_2(tmp_path):
    missing = str(tmp_path / "nothing.ipynb")
    proc = _check(missing)
    assert proc.returncode == 2, proc
    assert i18n.t("check_no_file", path=missing) in proc.stderr
    assert "0 / 0" not in proc.stdout


def test_check_an_unknown_question_exits_2():
    path = os.path.join(ROOT, "assignments", "03_backprop.ipynb")
    known = [q.name for q in specmod.load_spec("03_backprop").questions]
    proc = _check(path, "-q", "no_such_question")
    assert proc.returncode == 2, proc
    assert "no_such_question" in proc.stderr and known[0] in proc.stderr
    proc = _check(path, "-q", f"03_backprop.{known[0]}")  # the notebook's own spelling works too
    assert proc.returncode == 0, proc.stderr
    assert known[0] in proc.stdout


def test_check_an_unknown_assignment_exits_2(tmp_path):
    proc = _check(os.path.join(ROOT, "assignments", "03_backprop.ipynb"), "--assignment", "99_nothing")
    assert proc.returncode == 2 and "99_nothing" in proc.stderr
    nb = json.loads(open(os.path.join(ROOT, "assignments", "03_backprop.ipynb"), encoding="utf-8").read())
    nb["metadata"]["autograder"]["assignment"] = "99_nothing"
    path = tmp_path / "renamed.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    proc = _check(str(path))
    assert proc.returncode == 2 and "99_nothing" in proc.stderr, proc


def test_check_another_assignments_notebook_exits_2_and_names_it():
    proc = _check(os.path.join(ROOT, "assignments", "02_xor_mlp.ipynb"), "--assignment", "03_backprop")
    assert proc.returncode == 2, proc
    assert "02_xor_mlp" in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file without read permission")
def test_check_an_unreadable_file_exits_2(tmp_path):
    path = tmp_path / "locked.ipynb"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0)
    proc = _check(str(path))
    assert proc.returncode == 2 and "locked.ipynb" in proc.stderr


def test_check_a_folder_without_a_notebook_exits_2(tmp_path):
    proc = _check(str(tmp_path), "--assignment", "01_perceptron")
    assert proc.returncode == 2, proc
    assert i18n.t("no_file", path=str(tmp_path)) in proc.stderr
