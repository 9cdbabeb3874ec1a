"""`autograder release --out DIR`: the student bundle (instructor side only).

DIR gets the released notebooks, the data, and a copy of the `autograder` package that can only
check with the public cases: no `*.hidden.json`, none of the instructor-only modules (nbgrader
set-up, this module, the solution weaving), nothing from `solutions/`. A `pyproject.toml` makes
`pip install DIR` work; the notebooks and data are also shipped inside the package
(`autograder/_bundle/`), so `autograder check` finds the templates once installed. README.md tells
students what to run (Korean and English).
"""
import fnmatch
import os
import shutil
import sys

from . import spec as specmod

INSTRUCTOR_ONLY = ("nbgrader_bridge.py", "gradebook_writer.py", "release.py", "authoring.py", "gradescope.py",
                   "gradescope_results.py", "gradescope_files")
EXCLUDE = ("hidden.json", "hidden.py", "samples.py", "answers.py", "secret*", "__pycache__", "*.pyc", "_bundle", ".*")
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dl-homework-autograder"
version = "{version}"
description = "Check your deep-learning homework notebooks with the public cases (student bundle)."
readme = "README.md"
requires-python = ">=3.10,<3.14"
dependencies = [
{deps}
]

[project.optional-dependencies]
keras = [
{keras}
]

[project.scripts]
autograder = "autograder.cli:main"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["assignments/*/*.py", "assignments/*/references/public.json", "locale/*.json",
              "_bundle/assignments/*.ipynb", "_bundle/data/*"]
'''

README = '''\
# 딥러닝 기초 과제 (Deep-learning homework) — 학생용 묶음 / student bundle

## 한국어

1. 설치 (처음 한 번, 가상환경 권장):

   ```
   python -m venv .venv && source .venv/bin/activate
   pip install ".[keras]"        # 과제 05(Keras)를 하지 않으면: pip install .
   ```
2. 노트북 열기: `jupyter lab assignments/03_backprop.ipynb` (또는 VS Code / Colab).
   `# YOUR CODE HERE` 와 `raise NotImplementedError()` 를 지우고 함수를 완성하세요.
   노트북은 `assignments/` 에 둔 채로 여세요. 과제 05 는 `data/dataset2.csv` 를 복사하지 않고 찾아 읽습니다
   (`data_path("dataset2.csv")`: 노트북 옆, 그 위쪽 폴더의 `data/`, 설치한 패키지 안의 사본 순서).
3. 확인: 각 문항 아래의 확인 셀(`check("03_backprop.backward")`)을 실행하거나, 터미널에서

   ```
   autograder check 03_backprop.ipynb                 # 모든 문항
   autograder check 03_backprop.ipynb -q backward     # 한 문항만
   autograder check 03_backprop.ipynb --lang ko       # 한국어 메시지
   ```

   확인 셀은 공개 사례(public case)만 확인하고, 통과하지 못해도 오류를 내지 않으므로 Restart & Run All 은
   끝까지 갑니다. 실제 채점에는 비공개 사례(hidden case)도 쓰이므로 공개 사례를 모두 통과해도 만점이
   보장되지는 않습니다. 잠긴 셀(확인 셀 등)은 고치지 마세요.
4. 셀에 관한 규칙: 채점기는 노트북의 코드 셀을 모두 실행하고, 처음부터 있던 확인 셀과 시연 셀 가운데 고치지
   않은 것만 뺍니다. 새로 만든 셀도 실행되므로 실험한 셀은 제출 전에 지우세요.
5. 노트북 끝의 서술형 문항은 조교가 직접 채점합니다. 그 점수도 과제 100점 안에 들어 있습니다 (각 문항 제목에 배점이 있습니다).

## English

1. Install (once, preferably in a virtual environment):

   ```
   python -m venv .venv && source .venv/bin/activate
   pip install ".[keras]"        # without the Keras exercise (05): pip install .
   ```
2. Open a notebook: `jupyter lab assignments/03_backprop.ipynb` (or VS Code / Colab). Replace each
   `# YOUR CODE HERE` / `raise NotImplementedError()` with your code. Keep the notebooks in
   `assignments/`: exercise 05 finds `data/dataset2.csv` without copying (`data_path("dataset2.csv")`
   looks beside the notebook, in `data/` there or in any folder above, then in the installed package).
3. Check your work: run the check cell under each question (`check("03_backprop.backward")`), or
   from a terminal:

   ```
   autograder check 03_backprop.ipynb                 # every question
   autograder check 03_backprop.ipynb -q backward     # one question
   autograder check 03_backprop.ipynb --lang ko       # messages in Korean
   ```

   The check uses the public cases only and does not raise when one fails, so Restart & Run All
   goes to the end; grading also uses hidden cases, so passing every public case does not
   guarantee full marks. Do not edit the locked cells (the check cells and others).
4. Extra cells: the grader runs every code cell of your notebook except the template's check and
   demo cells that you left unchanged; a new cell runs too, so delete your experiments before you submit.
5. The written questions at the end of each notebook are graded by hand; their points are part of the assignment's 100 (each heading gives its points).

## Contents

| path | what |
| --- | --- |
| `assignments/` | the five homework notebooks |
| `data/dataset2.csv` | the data for exercise 05 |
| `autograder/` | the checker (public cases only) |
'''


def _excluded(name):
    return any(fnmatch.fnmatch(name, pat) for pat in EXCLUDE)


def _copy_package(src, dest):
    def ignore(folder, names):
        out = {n for n in names if _excluded(n)}
        if os.path.realpath(folder) == os.path.realpath(src):
            out |= {n for n in names if n in INSTRUCTOR_ONLY}
        return out
    shutil.copytree(src, dest, ignore=ignore)
    for name in os.listdir(os.path.join(dest, "assignments")):
        folder = os.path.join(dest, "assignments", name)
        for module in (sorted(os.listdir(folder)) if os.path.isdir(folder) else []):
            path = os.path.join(folder, module)
            if module.endswith(".py") and os.path.isfile(path):  # wherever a hidden generator is defined
                with open(path, encoding="utf-8") as fh:
                    stripped = strip_hidden_generators(fh.read())
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(stripped)


HIDDEN_STUB = 'raise RuntimeError("hidden cases are drawn at grading time and not shipped")'


def strip_hidden_generators(source):
    """A spec's source with the body of every hidden case generator (a function of `rng` named
    `*_hidden`, or defined inside one) replaced by a raise: the bundle's check needs only the public cases, and nothing in
    the bundle can regenerate the hidden inputs (whose seed is the course's secret anyway)."""
    import ast
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    cuts = []

    def generators(nodes, inside_hidden=False):
        for node in nodes:
            if isinstance(node, ast.FunctionDef):
                hidden = inside_hidden or node.name.endswith("_hidden")
                if hidden and "rng" in [a.arg for a in node.args.args]:
                    yield node
                else:
                    yield from generators(node.body, hidden)
    for node in generators(tree.body):
            first = node.body[0]
            start = first.lineno - 1
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str) and len(node.body) > 1:
                start = node.body[1].lineno - 1   # keep the docstring
            indent = " " * node.body[0].col_offset
            cuts.append((start, node.end_lineno, f"{indent}{HIDDEN_STUB}\n"))
    for start, end, text in sorted(cuts, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def _project_metadata():
    """(version, dependencies, keras extra) from the repository's pyproject.toml."""
    version, deps, keras = "0.1.0", ["numpy", "nbformat", "nbclient", "ipython", "matplotlib", "pandas", "tqdm"], \
        ["tensorflow-cpu", "keras"]
    path = os.path.join(specmod.repo_root(), "pyproject.toml")
    try:
        import tomllib
        with open(path, "rb") as fh:
            project = tomllib.load(fh)["project"]
        version = project.get("version", version)
        deps = project.get("dependencies", deps)
        keras = project.get("optional-dependencies", {}).get("keras", keras)
    except (ImportError, OSError, KeyError, ValueError):
        pass
    return version, deps, keras


def check_bundle(out):
    """Problems that would leak answers: solution markers, hidden references, solutions/."""
    problems = []
    for folder, dirs, files in os.walk(out):
        rel_folder = os.path.relpath(folder, out)
        if rel_folder.split(os.sep)[0] == "solutions":
            problems.append(f"{rel_folder}: a solutions folder")
        for name in files:
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if name in ("hidden.json", "hidden.py") or name.startswith("secret"):
                problems.append(f"{rel}: hidden references")
                continue
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    text = fh.read()
            except (UnicodeDecodeError, OSError):
                continue
            if any(m in text for m in SOLUTION_MARKERS):
                problems.append(f"{rel}: contains a solution block")
    return problems


def build_bundle(out):
    repo = specmod.repo_root()
    out = os.path.abspath(out)
    if os.path.exists(out) and os.listdir(out):
        print(f"autograder release: {out} exists and is not empty; choose a new folder", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    pkg_src = os.path.dirname(os.path.abspath(__file__))
    pkg_dest = os.path.join(out, "autograder")
    _copy_package(pkg_src, pkg_dest)
    for assignment in specmod.ASSIGNMENTS:
        nb = os.path.join(repo, "assignments", f"{assignment}.ipynb")
        if not os.path.exists(nb):
            print(f"warning: assignments/{assignment}.ipynb is missing", file=sys.stderr)
            continue
        for base in (out, os.path.join(pkg_dest, "_bundle")):
            os.makedirs(os.path.join(base, "assignments"), exist_ok=True)
            shutil.copy2(nb, os.path.join(base, "assignments", f"{assignment}.ipynb"))
        if not os.path.exists(os.path.join(pkg_dest, "assignments", assignment, "references", "public.json")):
            print(f"warning: no public references for {assignment}; `autograder check` cannot check it",
                  file=sys.stderr)
    for rel in sorted({rel for a in specmod.ASSIGNMENTS for rel in specmod.load_spec(a).data_files.values()}):
        for base in (out, os.path.join(pkg_dest, "_bundle")):
            os.makedirs(os.path.join(base, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(repo, rel), os.path.join(base, rel))
    version, deps, keras = _project_metadata()
    fmt = lambda items: "\n".join(f"    {d!r}," for d in items).replace("'", '"')  # noqa: E731
    with open(os.path.join(out, "pyproject.toml"), "w", encoding="utf-8") as fh:
        fh.write(PYPROJECT.format(version=version, deps=fmt(deps), keras=fmt(keras)))
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(README)
    problems = check_bundle(out)
    if problems:
        print("autograder release: the bundle would leak answers:\n  " + "\n  ".join(problems), file=sys.stderr)
        shutil.rmtree(out)
        return 1
    print(f"student bundle in {out} (install: pip install {out})")
    return 0
