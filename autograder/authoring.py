"""Weaving the reference solutions into the released stubs (instructor side only).

`weave(nb, solution_source, markers=True)` gives nbgrader's source form: each stub's
`# YOUR CODE HERE` / `raise NotImplementedError()` pair becomes the solution's body between
`### BEGIN SOLUTION` and `### END SOLUTION`, which `nbgrader generate_assignment` turns back into
exactly the released stub. With markers=False it gives a plain, filled-in notebook.
"""
import ast
import copy
import re
import textwrap

_DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")
_STUB1 = re.compile(r"^(\s*)# YOUR CODE HERE\s*$")
_STUB2 = re.compile(r"^\s*raise NotImplementedError\(\)\s*$")


def solution_bodies(solution_source):
    """{function name: body source without its docstring, dedented}."""
    tree = ast.parse(solution_source)
    lines = solution_source.splitlines()
    bodies = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        if not body:
            continue
        start = body[0].lineno - 1
        # keep comment lines that sit between the docstring and the first statement
        while start > 0 and lines[start - 1].strip().startswith("#"):
            start -= 1
        bodies[node.name] = textwrap.dedent("\n".join(lines[start:node.end_lineno]))
    return bodies


def weave_source(source, bodies, markers=True):
    """Replace each stub in one cell's source by the solution's body. Returns (source, names woven)."""
    lines = source.splitlines()
    out, woven, current = [], [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _DEF.match(line)
        if m:
            current = m.group(2)
        s1 = _STUB1.match(line)
        if s1 and i + 1 < len(lines) and _STUB2.match(lines[i + 1]) and current in bodies:
            indent = s1.group(1)
            body = textwrap.indent(bodies[current], indent)
            if markers:
                out += [f"{indent}### BEGIN SOLUTION", body, f"{indent}### END SOLUTION"]
            else:
                out.append(body)
            woven.append(current)
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out), woven


def weave(nb, solution_source, markers=True):
    """A copy of the notebook with every stub filled from the solution source."""
    bodies = solution_bodies(solution_source)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code" or "NotImplementedError" not in cell.source:
            continue
        cell.source, _ = weave_source(cell.source, bodies, markers)
    return nb


def stub_functions(nb):
    """Names of the functions that are stubs in a released notebook."""
    names = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        current = None
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            m = _DEF.match(line)
            if m:
                current = m.group(2)
            if _STUB1.match(line) and i + 1 < len(lines) and _STUB2.match(lines[i + 1]) and current:
                names.append(current)
    return names
