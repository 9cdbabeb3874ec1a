"""Weaving the reference solutions into the released stubs (instructor side only).

`weave(nb, solution_source, markers=True)` gives nbgrader's source form: each stub's
`# YOUR CODE HERE` / `raise NotImplementedError()` pair becomes the solution's body between
`### BEGIN SOLUTION` and `### END SOLUTION`, which `nbgrader generate_assignment` turns back into
exactly the released stub. With markers=False it gives a plain, filled-in notebook.

Written questions: a markdown cell with nbgrader metadata `solution: true, grade: true, points`
is a manually graded answer cell (graded by TAs in formgrader). The released cell holds nbgrader's
text stub (`YOUR ANSWER HERE`); `weave` puts the model answer of MODEL_ANSWERS (by grade_id)
there, between the solution markers with markers=True (so `nbgrader generate_assignment` gives
back the stub and formgrader's TAs see what a full answer says in the source notebook).
"""
import ast
import copy
import re
import textwrap

from .submission import answer_points, is_answer_cell  # one rule for written answers (the bundle has no authoring)

_DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")
_STUB1 = re.compile(r"^(\s*)# YOUR CODE HERE\s*$")
_STUB2 = re.compile(r"^\s*raise NotImplementedError\(\)\s*$")
TEXT_STUB = "YOUR ANSWER HERE"   # nbgrader's ClearSolutions.text_stub

# What a full answer to each written question says (for the TAs; never shipped to students).
MODEL_ANSWERS = {
    "written_xor_boundary": (
        "입력이 두 개인 퍼셉트론은 평면에 직선 $w_1x_1 + w_2x_2 + b = 0$ 하나를 긋고 그 한쪽에 1, 다른 쪽에 0을 줍니다. "
        "XOR의 1인 점 $(0,1), (1,0)$ 과 0인 점 $(0,0), (1,1)$ 은 대각선으로 엇갈려 있어 어떤 직선으로도 나뉘지 않습니다"
        "(선형 분리 불가능). 그래서 모든 샘플을 맞히는 $\\mathbf{w}, b$ 가 없고, 학습 규칙은 에포크마다 적어도 한 샘플을 "
        "틀려 오류 수가 0이 되지 못한 채 가중치가 맴돕니다. 퍼셉트론 수렴 정리는 선형 분리 가능한 데이터에만 성립합니다."),
    "written_xor_layers": (
        "첫 번째 층(은닉층)의 두 퍼셉트론 NAND와 OR는 같은 입력을 받아 각자 직선을 하나씩 긋고, 입력 $(x_1, x_2)$ 를 새 좌표 "
        "$(\\mathrm{NAND}, \\mathrm{OR})$ 로 옮깁니다. 두 번째 층(출력층)의 AND는 그 새 좌표에서 직선 하나로 (1, 1)만 골라냅니다. "
        "즉 첫 층이 입력 공간을 바꾸어 XOR를 선형 분리 가능한 문제로 만들고, 둘째 층이 그것을 나눕니다."),
    "written_hidden_space": (
        "강의 가중치에서 $n_1$ 은 NAND, $n_2$ 는 OR처럼 동작하므로 $(0,0) \\to (1,0)$, $(0,1) \\to (1,1)$, "
        "$(1,0) \\to (1,1)$, $(1,1) \\to (0,1)$ 로 옮겨집니다. XOR가 1인 두 입력은 은닉 공간의 한 점 $(1,1)$ 로 모이고 "
        "0인 두 입력은 $(1,0), (0,1)$ 로 갑니다. 출력 노드의 직선 $n_1 + n_2 - 1 = 0$ 의 한쪽($z > 0$)에는 $(1,1)$ 만 있고 "
        "$(1,0), (0,1)$ 은 직선 위($z = 0$, 계단 함수로 0)에 놓이므로 직선 하나로 나뉩니다. 은닉층이 입력을 선형 분리 가능한 "
        "공간으로 옮기는 것이 핵심입니다."),
    "written_sigmoid_half": (
        "입력 $(0,0)$ 과 $(1,1)$ 에서는 은닉 출력이 $(1,0)$ 또는 $(0,1)$ 이 되어 출력층의 가중합이 $1 \\cdot 1 + 1 \\cdot 0 - 1 = 0$ 으로 "
        "정확히 0입니다. 시그모이드는 $\\sigma(0) = 0.5$ 이므로 출력이 0.5가 됩니다. 계단 함수는 $z = 0$ 에서 0을 내므로 정답이 "
        "나왔던 것이고, 이 두 점은 출력 노드의 직선 바로 위에 놓여 경계 규칙에 기대고 있었습니다."),
    "written_vanishing": (
        "$\\sigma'(z) = \\sigma(1-\\sigma)$ 는 $\\sigma$ 에 대한 이차식으로 $\\sigma = 0.5$, 곧 $z = 0$ 에서 최대이고 그 값은 "
        "$0.5 \\cdot 0.5 = 0.25$ 입니다. 역전파에서 오차 신호는 층을 하나 거슬러 갈 때마다 그 층의 $\\sigma'$ 을 곱하므로 $L$ 개 층을 "
        "지나면 $0.25^L$ 이하로 줄어듭니다($0.25^{10} \\approx 10^{-6}$). 7절 그림에서 시그모이드 신경망의 $\\|\\partial E/\\partial b\\|$ "
        "는 입력 쪽 층으로 갈수록 자릿수가 여럿 작아져 앞쪽 층이 거의 배우지 못합니다. ReLU의 도함수는 양수 쪽에서 1이라 곱해도 "
        "줄지 않으므로 층별 크기가 비슷하게 유지됩니다."),
    "written_step_backprop": (
        "계단 함수의 도함수는 $z \\ne 0$ 인 모든 곳에서 0이고 $z = 0$ 에서는 정의되지 않습니다. 역전파는 오차 신호에 활성화 함수의 "
        "도함수를 곱해 전달하므로 모든 기울기가 0이 되어 경사 하강법이 가중치를 전혀 고치지 못합니다. 그래서 미분 가능한 "
        "시그모이드 같은 함수가 필요합니다."),
    "written_nag_lookahead": (
        "이번 걸음에는 적어도 관성 $\\beta\\mathbf{m}$ 만큼은 움직이므로, 실제로 도착할 곳에 가까운 $\\mathbf{w} + \\beta\\mathbf{m}$ 의 "
        "기울기가 현재 위치의 기울기보다 앞으로의 방향을 더 잘 알려 줍니다. 최솟값을 지나칠 참이면 미리 가 본 점의 기울기가 이미 "
        "반대쪽을 가리켜 속도를 줄이므로, 모멘텀보다 덜 지나치고 좁은 골짜기에서 좌우로 덜 흔들리며 더 빨리 수렴합니다."),
    "written_adaptive": (
        "아다그라드의 `cache` 는 $\\mathbf{s} \\leftarrow \\mathbf{s} + \\mathbf{g}^2$ 로 기울기 제곱을 더하기만 하므로 계속 커지고, "
        "걸음 $\\eta\\,\\mathbf{g}/\\sqrt{\\mathbf{s} + \\epsilon}$ 은 갈수록 작아져 결국 거의 멈춥니다. RMSProp은 "
        "$\\mathbf{s} \\leftarrow \\rho\\,\\mathbf{s} + (1-\\rho)\\,\\mathbf{g}^2$ 처럼 지수 이동 평균을 써서 오래된 기울기를 잊으므로 "
        "`cache` 가 최근 기울기의 크기 정도에 머물고 학습률이 0으로 줄지 않습니다."),
    "written_learning_rate": (
        "SGD는 한 번에 $\\eta\\,\\nabla J$ 만큼 움직입니다. 학습률이 10처럼 크면 걸음이 너무 커서 최솟값을 넘어 튀고 손실이 "
        "줄지 않거나 발산하며, tanh가 포화되어 곡선이 평평하거나 ±1에 붙습니다. 0.001처럼 작으면 100 에폭(3200번 갱신) 동안 "
        "가중치가 거의 움직이지 않아 손실이 천천히만 줄고 빨간 곡선은 거의 상수(평균 근처)에 머뭅니다. 0.1은 그 사이에서 "
        "100 에폭 안에 곡선 모양을 배우는 값입니다."),
    "written_tanh_role": (
        "tanh는 각 은닉 노드의 가중합을 휘게 하는 비선형 함수라서, 이들을 더하고 겹쳐 사인 곡선 같은 굽은 모양을 만들 수 "
        "있습니다. 활성화 함수가 모두 없으면 층을 몇 개 쌓아도 선형 함수의 합성은 선형이므로 모델은 직선 $y = ax + b$ 밖에 "
        "나타내지 못합니다. 출력층의 tanh는 예측을 $(-1, 1)$ 로 제한하지만, 이 데이터의 $y$ 는 모두 그 안에 있으므로 문제가 "
        "되지 않습니다."),
}


def _folder_answers():
    """Model answers an assignment keeps in its own folder (answers.py: MODEL_ANSWERS)."""
    import os
    from .spec import ASSIGNMENTS, assignment_dir, sibling
    found = {}
    for name in ASSIGNMENTS:
        if os.path.exists(os.path.join(assignment_dir(name), "answers.py")):
            found.update(getattr(sibling(os.path.join(assignment_dir(name), "spec.py"), "answers"), "MODEL_ANSWERS", {}))
    return found


MODEL_ANSWERS.update(_folder_answers())


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
        if is_answer_cell(cell):
            answer = MODEL_ANSWERS.get(cell.metadata["nbgrader"].get("grade_id"))
            if answer and cell.source.strip() == TEXT_STUB:
                cell.source = f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION" if markers else answer
            continue
        if cell.cell_type != "code" or "NotImplementedError" not in cell.source:
            continue
        cell.source, _ = weave_source(cell.source, bodies, markers)
    return nb


def answer_cells(nb):
    """{grade_id: points} of the notebook's written answer cells (graded by hand)."""
    return dict(answer_points(nb))


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
