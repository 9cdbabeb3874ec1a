"""Feedback messages in Korean and English. Every message a student sees has a key here.

TERMS is the one word list the notebooks and every message share (a test checks the notebooks
against it): a case the student can run is a 공개 사례 (public case), one used only at grading a
비공개 사례 (hidden case), the locked cell under a question a 확인 셀 (check cell), and so on.

A message's parameters may themselves be bilingual: pass `Text(ko, en)` (or `msg(key, ...)`, a
message rendered in both languages) and `t` picks the side of the chosen language. Python's and
NumPy's own exception text is passed through as it is, quoted under a sentence in the chosen language.
"""


class Text(tuple):
    """A (ko, en) pair used as a message parameter; `t` renders the side of its language."""

    def __new__(cls, ko, en=None):
        return super().__new__(cls, (ko, ko if en is None else en))

    def __str__(self):   # a pair that reaches a plain format() shows its English side
        return self[1]


TERMS = {
    "public_case": ("공개 사례", "public case"),
    "hidden_case": ("비공개 사례", "hidden case"),
    "check_cell": ("확인 셀", "check cell"),
    "demo_cell": ("시연 셀", "demo cell"),
    "written_answer": ("서술형 문항", "written question"),
    "graded_by_hand": ("조교가 직접 채점", "graded by hand"),
    "question": ("문항", "question"),
    "case": ("사례", "case"),
    "score": ("점수", "score"),
    "result": ("결과", "status"),
    "message": ("내용", "message"),
    "hint": ("힌트", "hint"),
    "passed": ("통과", "passed"),
    "failed": ("실패", "failed"),
    "not_attempted": ("미구현", "not attempted"),
    "feedback": ("채점 결과", "Feedback"),
    "notes": ("기타", "Notes"),
    "cell": ("셀", "cell"),
    "line": ("줄", "line"),
}

MESSAGES = {
    # ---- words (tables, headers) -------------------------------------------------------------
    **{f"term_{k}": v for k, v in TERMS.items()},
    "passed": TERMS["passed"],
    "failed": TERMS["failed"],
    "hidden_case": TERMS["hidden_case"],
    "public_case": TERMS["public_case"],
    "hint": ("힌트: {hint}", "hint: {hint}"),
    "score_line": ("{name}: {score} / {max_score}", "{name}: {score} / {max_score}"),
    "check_failed": ("{name}: {score} / {max_score} — 통과하지 못한 공개 사례가 있습니다",
                     "{name}: {score} / {max_score} — some public cases failed"),
    "check_some_failed": ("통과하지 못한 공개 사례가 있습니다", "some public cases failed"),
    "where_output": ("반환값", "output"),
    "check_all_passed": ("공개 사례를 모두 통과했습니다. 채점 때는 비공개 사례도 함께 씁니다.",
                         "every public case passed; grading also uses hidden cases"),
    "printed_header": ("--- 제출물이 출력한 내용 (앞부분) ---", "--- printed by the submission (first part) ---"),
    "manual_pending": ("서술형 문항 `{name}` ({points}점): 조교가 직접 채점합니다",
                       "written question `{name}` ({points} points): to be graded by hand"),
    "manual_total": ("서술형 문항 {n}개({points}점)는 과제 100점 가운데 조교가 직접 채점하는 부분으로, 이 자동 채점 점수에는 들어 있지 않습니다",
                     "{n} written questions ({points} of the assignment's 100 points) are graded by hand and not part of this autograded score"),

    # ---- running the submission --------------------------------------------------------------
    "not_attempted": ("아직 구현하지 않았습니다 (NotImplementedError)", "not attempted (NotImplementedError)"),
    "missing_function": ("함수 `{name}`가 정의되어 있지 않습니다 (이름과 철자를 확인하세요)",
                         "function `{name}` is not defined"),
    "raised": ("함수를 부르자 예외가 발생했습니다 — {type}: {message}", "raised {type}: {message}"),
    "timeout": ("시간 초과: {message}", "time limit: {message}"),
    "call_timeout": ("함수 호출이 {seconds:g}초 안에 끝나지 않았습니다 (무한 반복이나 너무 많은 반복을 확인하세요)",
                     "the call ran longer than {seconds:g} s (look for an endless or too long loop)"),
    "cell_timeout": ("셀 {cell}이(가) {seconds:g}초 안에 끝나지 않았습니다", "cell {cell} ran longer than {seconds:g} s"),
    "total_timeout": ("제출물 전체의 실행 시간 한도({seconds:g}초)를 넘었습니다",
                      "the submission ran past its total time limit ({seconds:g} s)"),
    "crash": ("학생 코드 프로세스가 중단되었습니다: {message}", "the student process stopped: {message}"),
    "limit": ("제출물의 실행 한도를 넘었습니다: {message}", "the submission hit a limit: {message}"),
    "out_of_memory": ("메모리 한도({mb} MB)를 넘었습니다", "out of memory (limit {mb} MB)"),
    "harness_fault": ("채점기 쪽의 문제로 이 문항을 채점하지 못했습니다 (여러분의 잘못이 아닙니다): {message}",
                      "the grader could not grade this question (a fault of the grader, not yours): {message}"),
    "cell_error": ("셀 {index} 실행 오류: {type}: {message}", "cell {index} failed: {type}: {message}"),
    "cell_error_at": ("`{cell}`(으)로 시작하는 셀의 {line}번째 줄에서 오류가 났습니다 — {type}: {message}",
                      "the cell that starts with `{cell}` failed at line {line}: {type}: {message}"),
    "cell_error_count": ("실행 번호 [{count}]인 셀의 {line}번째 줄에서 오류가 났습니다 — {type}: {message}",
                         "cell [{count}] failed at line {line}: {type}: {message}"),
    "syntax_error_at": ("`{cell}`(으)로 시작하는 셀의 {line}번째 줄에 문법 오류가 있습니다 — {message}",
                        "syntax error in the cell that starts with `{cell}`, line {line}: {message}"),
    "shell_skipped": ("채점 때는 셸 명령을 실행하지 않습니다: !{command}", "shell command not run at grading time: !{command}"),
    "magic_skipped": ("채점 때는 셀 매직 %%{name}을(를) 실행하지 않습니다", "cell magic %%{name} not run at grading time"),
    "check_server_stopped": ("{assignment}의 check 서버를 멈췄습니다", "stopped the check server of {assignment}"),
    "check_server_none": ("실행 중인 {assignment}의 check 서버가 없습니다", "no check server of {assignment} was running"),
    "warm_unavailable": ("미리 띄워 둔 실행 환경을 쓸 수 없어 새로 시작했습니다 ({reason})",
                         "warm sandbox unavailable ({reason}); started a fresh one"),
    "sandbox_on": ("격리 실행(bubblewrap): 네트워크 없음, 읽기 전용 시스템, 문항마다 비우는 개별 쓰기 공간, 별도 프로세스 공간, "
                   "seccomp 필터, 권한 없는 사용자로 실행",
                   "bubblewrap sandbox: no network, read-only system, private /tmp, own PID namespace"),
    "sandbox_off": ("주의: 격리 실행 환경(bubblewrap)이 없어 ({reason}) 같은 한도의 일반 하위 프로세스에서 실행했습니다",
                    "WARNING: no bubblewrap sandbox ({reason}); student code ran in a plain child process "
                    "with the same limits"),
    "backend_fallback": ("Keras 백엔드 {wanted}이(가) 설치되어 있지 않아 Keras 문항을 {used}에서 실행했습니다",
                         "Keras backend {wanted} is not installed here; the Keras questions ran on {used}"),

    # ---- comparing values ----------------------------------------------------------------------
    "type": ("{where}: 반환 형식이 {actual}입니다. 기대: {expected}", "{where}: returned {actual}, expected {expected}"),
    "shape": ("{where}: 배열 모양(shape)이 {actual}입니다. 기대: {expected}", "{where}: shape {actual}, expected {expected}"),
    "dtype": ("{where}: 자료형(dtype)이 {actual}입니다. 기대: {expected}", "{where}: dtype {actual}, expected {expected}"),
    "length": ("{where}: 길이가 {actual}입니다. 기대: {expected}", "{where}: length {actual}, expected {expected}"),
    "keys": ("{where}: 키가 {actual}입니다. 기대: {expected}", "{where}: keys {actual}, expected {expected}"),
    "value": ("{where}: 값이 다릅니다{detail}", "{where}: wrong value{detail}"),
    "value_public": ("{where}: 값이 다릅니다. 결과 {actual}, 기대 {expected}", "{where}: wrong value: got {actual}, expected {expected}"),
    "nonfinite": ("{where}: nan 또는 inf가 있습니다", "{where}: contains nan or inf"),
    "relerr": ("{where}: 상대 오차 {err:.2e} > 허용 {tol:.0e} ({against})", "{where}: relative error {err:.2e} > {tol:.0e} (against {against})"),
    "mutated": ("입력 `{arg}`을(를) 함수 안에서 바꾸었습니다 (입력은 바꾸지 마세요)", "the function modified its input `{arg}` (inputs must not change)"),
    "warned": ("경고가 발생했습니다: {warning}", "it emitted a warning: {warning}"),
    "structure": ("구조 규칙 위반: {message}", "structural rule: {message}"),
    "unreadable_output": ("돌려준 값을 읽을 수 없습니다 ({error})", "the returned value cannot be read ({error})"),
    "expected_tuple_of": ("값 {n}개의 튜플", "a tuple of {n}"),
    "expected_numbers": ("NumPy 배열 또는 숫자", "NumPy arrays or numbers"),
    "keras": ("{message}", "{message}"),
    "threshold": ("{message}", "{message}"),
    "output_printed": ("학습 중에 {n} 바이트를 출력했습니다 (verbose=0으로 출력을 끄세요)",
                       "{n} bytes printed during training (use verbose=0)"),
    "sandbox": ("{note}", "{note}"),

    # ---- 01 / 02: how a gate or a table is built (structure rules) ------------------------------
    "gate_uninspectable": ("게이트를 검사할 수 없습니다", "could not inspect the gate"),
    "gate_table_wrong": ("올바른 perceptron으로 바꾸어 넣어도 진리표가 틀립니다 (w와 b를 확인하세요)",
                         "with a correct perceptron the truth table is wrong (check w and b)"),
    "gate_must_call_perceptron": ("게이트는 perceptron(x, w, b)를 불러서 답을 내야 합니다",
                                  "the gate must call perceptron(x, w, b)"),
    "xor_uninspectable": ("XOR를 검사할 수 없습니다", "could not inspect XOR"),
    "xor_table_wrong": ("올바른 게이트로 바꾸어 넣어도 XOR의 진리표가 틀립니다 (조합을 확인하세요)",
                        "with correct gates, XOR's truth table is wrong (check how the gates are combined)"),
    "xor_from_gates": ("XOR의 출력은 게이트(AND, OR, NAND)의 출력이어야 합니다",
                       "XOR's output must come from the gates (AND, OR, NAND)"),
    "xor_uses_caret": ("XOR에 ^ 연산자를 썼습니다. 게이트를 조합하세요", "XOR uses the ^ operator; compose the gates instead"),
    "xor_compares": ("XOR가 입력을 비교합니다 (==, !=, is, in). 게이트를 조합하세요",
                     "XOR compares its inputs (==, !=, is, in); compose the gates instead"),
    "xor_lookup": ("XOR가 표에서 값을 찾아봅니다. 게이트를 조합하세요", "XOR looks values up in a table; compose the gates instead"),
    "xor_must_call_gates": ("XOR는 게이트 AND, OR, NAND를 불러야 합니다", "XOR must call the gates AND, OR, NAND"),
    "table_uninspectable": ("xor_table을 검사할 수 없습니다", "could not inspect xor_table"),
    "table_wrong": ("주어진 가중치와 올바른 mlp_forward로 바꾸어 넣으면 표가 {table}입니다",
                    "with the given weights and a correct mlp_forward the table is {table}"),
    "table_must_call_mlp": ("xor_table은 mlp_forward를 불러야 합니다", "xor_table must call mlp_forward"),
    "table_by_hand": ("표는 손으로 적지 말고 mlp_forward의 y를 int로 바꾸어 만드세요",
                      "the table must be mlp_forward's y (as int), not written by hand"),

    # ---- 04: the optimisation loop --------------------------------------------------------------
    "expected_steps_list": ("단계들의 리스트", "a list of steps"),
    "expected_step_pair": ("(w_next, config)", "(w_next, config)"),
    "expected_update_pair": ("튜플 (w_next, config)", "a tuple (w_next, config)"),
    "where_step": ("{n}번째 단계", "step {n}"),

    # ---- 05: Keras --------------------------------------------------------------------------------
    "keras_not_a_model": ("build_model은 keras.Model을 돌려주어야 합니다 (돌려준 것: {got})",
                          "build_model must return a keras.Model (it returned {got})"),
    "keras_not_dense": ("{n}번째 층이 {cls}입니다. 이 신경망에는 Dense 층만 있습니다",
                        "layer {n} is a {cls}; the network has only Dense layers"),
    "keras_layer_count": ("Dense 층이 {n}개(노드 수 {units})입니다. 기대: {want_n}개 {want}",
                          "the model has {n} Dense layers with units {units}; expected {want_n}: {want}"),
    "keras_units": ("{n}번째 Dense 층의 노드 수가 {units}입니다. 기대: {want}",
                    "Dense layer {n} has {units} units, expected {want}"),
    "keras_no_dense": ("모델에 Dense 층이 없습니다", "the model has no Dense layers"),
    "keras_output_layer": ("출력층", "the output layer"),
    "keras_hidden_layer": ("{n}번째 은닉층", "hidden layer {n}"),
    "keras_activation": ("{where}({n}번째 Dense 층)의 활성화 함수가 {actual}입니다. 기대: {expected}",
                         "{where} (Dense layer {n}) uses activation {actual}, expected {expected}"),
    "keras_no_input": ("모델에 입력 모양이 아직 없어 가중치도 없습니다. keras.Input(shape=(1,))로 시작하세요",
                       "the model has no input shape yet, so it has no weights: start it with keras.Input(shape=(1,))"),
    "keras_input_shape": ("입력 모양이 {actual}입니다. 기대: {expected} (특성 하나)",
                          "the input shape is {actual}, expected {expected} (one feature)"),
    "keras_params": ("파라미터가 {actual}개입니다. 기대: {expected}개{detail}",
                     "the model has {actual} parameters, expected {expected}{detail}"),
    "keras_params_detail": (" (Dense 층별: {per_layer}, 기대: {want})", " (per Dense layer: {per_layer}, expected {want})"),
    "keras_no_bias": ("{n}번째 Dense 층에 바이어스가 없습니다 (use_bias=False)", "Dense layer {n} has no bias (use_bias=False)"),
    "keras_compile_uninspectable": ("컴파일한 모델을 검사할 수 없습니다", "could not inspect the compiled model"),
    "keras_no_optimizer": ("모델에 최적화 함수가 없습니다. model.compile(optimizer=..., loss=...)을 부르세요",
                           "the model has no optimizer: call model.compile(optimizer=..., loss=...)"),
    "keras_optimizer": ("최적화 함수가 {actual}입니다. 기대: {expected} (keras.optimizers.SGD)",
                        "the optimizer is {actual}, expected {expected} (keras.optimizers.SGD)"),
    "keras_learning_rate": ("학습률이 {actual}입니다. 기대: {expected}", "the learning rate is {actual}, expected {expected}"),
    "keras_unreadable": ("읽을 수 없음", "not readable"),
    "keras_momentum": ("기본 SGD에는 모멘텀이 없습니다 (momentum={momentum}, nesterov={nesterov})",
                       "plain SGD has no momentum (got momentum={momentum}, nesterov={nesterov})"),
    "keras_no_loss": ("모델에 손실 함수가 없습니다. model.compile(optimizer=..., loss='mse')를 부르세요",
                      "the model has no loss: call model.compile(optimizer=..., loss='mse')"),
    "keras_loss": ("손실 함수가 {actual}입니다. 기대: 평균제곱오차 ('mse')", "the loss is {actual}, expected mean squared error ('mse')"),
    "keras_return_model": ("compile_model은 컴파일한 그 모델을 돌려주어야 합니다 (return model)",
                           "compile_model must return the model it compiled (return model)"),
    "keras_train_uninspectable": ("학습 결과를 검사할 수 없습니다", "could not inspect the training"),
    "keras_no_history": ("train_model은 model.fit이 돌려준 History 객체를 돌려주어야 합니다 (돌려준 것: {got})",
                         "train_model must return the History object of model.fit (it returned {got})"),
    "keras_history_epochs": ("History에 에폭이 {actual}개 기록되어 있습니다. 기대: {expected}개{detail}",
                             "the history has {actual} epochs, expected {expected}{detail}"),
    "keras_use_epochs": (" (epochs 인자를 쓰세요)", " (use the epochs argument)"),
    "keras_steps_with_epochs": ("epochs={epochs}로 학습했을 때 가중치 갱신이 {actual}번입니다. 기대: {expected}번",
                                "with epochs={epochs} the model took {actual} optimizer steps, expected {expected}"),
    "keras_steps": ("가중치 갱신이 {actual}번{per}입니다. 기대: 에폭마다 {per_epoch}번 (표본 {n}개, 배치 크기 {batch}는 Keras "
                    "기본값): batch_size를 넘기지 마세요",
                    "the model took {actual} optimizer steps{per}, expected {per_epoch} per epoch ({n} samples in "
                    "batches of {batch}, Keras's default): do not pass batch_size"),
    "keras_steps_per": (" (에폭 {epochs}개, 에폭마다 {each:g}번)", " in {epochs} epochs ({each:g} per epoch)"),
    "keras_weights_unreadable": ("학습한 가중치를 읽을 수 없습니다", "could not read the trained weights"),
    "keras_predictions": ("학습한 신경망의 예측값", "the trained network's predictions"),
    "keras_fit": ("학습한 뒤 데이터에 대한 MSE가 {mse:.4f} (R² {r2:.3f})입니다. {limit:.4f} 이하여야 합니다 "
                  "(기준 답안의 {reference:.4f}의 {factor:g}배. 이 여유를 어떻게 쟀는지는 docs/tolerances.md)",
                  "after training, the network's MSE on the data is {mse:.4f} (R^2 {r2:.3f}); it must be at most "
                  "{limit:.4f} ({factor:g} x the reference's {reference:.4f}; see docs/tolerances.md for how this "
                  "margin was measured)"),
    "keras_predict_uninspectable": ("predict_curve의 결과를 검사할 수 없습니다", "could not inspect predict_curve's result"),
    "keras_no_scatter": ("데이터의 산점도가 없습니다. 점 {n}개를 ax.scatter로 그리세요 (찾은 것: {found})",
                         "no scatter plot of the data: expected ax.scatter with {n} points (found {found})"),
    "keras_scatters_found": ("점 {counts}개인 산점도", "scatters with {counts} points"),
    "keras_no_scatter_found": ("산점도 없음", "no scatter"),
    "keras_scatter_points": ("산점도의 점이 데이터 (X, y)가 아닙니다", "the scatter's points are not the data (X, y)"),
    "keras_no_curve": ("(domain, y_hat)을 지나는 선이 없습니다. 점 {n}개로 ax.plot(domain, y_hat, color='red')를 그리세요",
                       "no line through (domain, y_hat): expected ax.plot(domain, y_hat, color='red') with {n} points"),
    "keras_curve_color": ("곡선의 색이 {rgba}입니다. 빨간색으로 그리세요 (color='red')",
                          "the curve is drawn in color {rgba}, expected red (color='red')"),
    "expected_tuple_xy": ("튜플 (X, y)", "a tuple (X, y)"),
    "expected_numpy": ("NumPy 배열", "a NumPy array"),
    "expected_figure": ("matplotlib Figure", "a matplotlib Figure"),
    "return_fig_not_ax": (" (ax가 아니라 fig를 돌려주세요)", " (return fig, not ax)"),

    # ---- reading the submission ---------------------------------------------------------------
    "no_file": ("제출 파일을 찾을 수 없습니다: {path}", "no submission file found: {path}"),
    "empty_file": ("빈 파일입니다: {path}", "the file is empty: {path}"),
    "binary_file": ("텍스트가 아닌(바이너리) 파일입니다: {path}", "not a text file (binary): {path}"),
    "not_text": ("텍스트로 읽을 수 없습니다: {path}", "cannot be read as text: {path}"),
    "not_json": ("노트북 파일이 JSON 형식이 아닙니다 ({path}): {error}", "the notebook is not valid JSON ({path}): {error}"),
    "not_notebook": ("Jupyter 노트북이 아닙니다: {path}", "not a Jupyter notebook: {path}"),
    "bad_notebook": ("노트북을 읽을 수 없습니다 ({path}): {error}", "the notebook cannot be read ({path}): {error}"),
    "too_large": ("파일이 너무 큽니다 ({size} 바이트): {path}", "the file is too large ({size} bytes): {path}"),
    "not_utf8": ("파일이 UTF-8이 아닙니다 ({encoding}로 읽었습니다)", "the file is not UTF-8 (read as {encoding})"),
    "unknown_assignment": ("어느 과제인지 알 수 없습니다 (--assignment로 지정하세요)", "cannot tell which assignment this is (use --assignment)"),
    "link_outside": ("제출물 {path}이(가) 제출 폴더 밖({target})을 가리키는 링크라서 읽지 않았습니다",
                     "the submission {path} is a link out of the submissions folder ({target}); not read"),
    "wrong_assignment_meta": ("이 노트북은 과제 {found}의 것입니다 (채점 중인 과제: {expected})",
                              "this notebook belongs to assignment {found} (grading {expected})"),
    "wrong_assignment_names": ("이 제출물은 과제 {found}의 함수({names})를 담고 있습니다 (채점 중인 과제: {expected})",
                               "this submission holds the functions of assignment {found} ({names}), not {expected}"),

    # ---- a run a TA can trust and read (issue 12): check's usage errors, report.html, similar ----
    "check_no_file": ("파일이 없습니다: {path}", "no such file: {path}"),
    "check_unreadable": ("파일을 읽을 수 없습니다: {path} ({error})", "cannot read {path}: {error}"),
    "check_unknown_question": ("{assignment} 과제에 없는 문항입니다: {names} (있는 문항: {known})",
                               "no question {names} in {assignment} (its questions: {known})"),
    "check_unknown_assignment": ("알 수 없는 과제입니다: {name} (있는 과제: {known})",
                                 "unknown assignment {name} (one of {known})"),
    "check_not_checked": ("확인하지 못했습니다: {reason}", "not checked: {reason}"),
    "report_title": ("{assignment} 채점 보고서", "{assignment}: class report"),
    "report_generated": ("작성: {when}", "written {when}"),
    "report_students": ("학생 수", "students"),
    "report_student": ("학생", "student"),
    "report_mean": ("평균", "mean"),
    "report_median": ("중앙값", "median"),
    "report_statuses": ("상태", "statuses"),
    "report_status": ("상태", "status"),
    "report_detail": ("내용", "detail"),
    "report_distribution": ("반 전체 점수 분포", "Class score distribution"),
    "report_score": ("점수", "score"),
    "report_no_results": ("결과가 없습니다", "no results"),
    "report_questions": ("문항별 결과", "Questions"),
    "report_pass_rate": ("사례별 통과율 (%)", "pass rate of each case (%)"),
    "report_case": ("사례", "case"),
    "report_written": ("서술형 문항", "written answers"),
    "report_failure": ("가장 흔한 실패 메시지", "most common failure messages"),
    "report_no_failures": ("실패한 사례가 없습니다", "no case failed"),
    "report_time": ("학생별 채점 시간", "Grading time per student"),
    "report_seconds": ("초", "seconds"),
    "report_troubles": ("한도 초과 또는 채점기 오류", "Limits hit and harness faults"),
    "report_no_troubles": ("없습니다", "none"),
    "similar_title": ("{assignment} 코드 유사도", "{assignment}: code similarity"),
    "similar_intro": ("학생이 직접 쓴 셀만 비교했습니다 (배포된 템플릿과 같은 셀과 주어진 코드는 제외). "
                      "기준 {threshold}% 이상인 쌍: {n}개 (비교한 학생 {students}명).",
                      "Only the students' own cells were compared (cells identical to the released template, and "
                      "the given code, left out). Pairs at or above {threshold}%: {n} (of {students} students)."),
    "similar_none": ("기준을 넘는 쌍이 없습니다", "no pair reaches the threshold"),
    "similar_skipped": ("비교하지 못한 제출물", "submissions not compared"),
    "similar_shared": ("공통 부분 (강조 표시)", "shared fragments (highlighted)"),
}


def _resolve(value, lang):
    return pick(value, lang) if isinstance(value, Text) else value


def t(key, lang="en", **params):
    ko, en = MESSAGES.get(key, (key, key))
    template = ko if lang == "ko" else en
    params = {k: _resolve(v, lang) for k, v in params.items()}
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def msg(key, **params):
    """A message rendered in both languages, to pass as another message's parameter."""
    return Text(t(key, "ko", **params), t(key, "en", **params))


def term(name, lang="ko"):
    """One word of TERMS in the chosen language."""
    ko, en = TERMS[name]
    return ko if lang == "ko" else en


def pick(text, lang):
    """A spec's (ko, en) pair or a plain string."""
    if isinstance(text, (tuple, list)) and len(text) == 2:
        return text[0] if lang == "ko" else text[1]
    return text


# ---- the grading core: hidden cases, isolation of questions, injected helpers ------------------------
MESSAGES.update({
    "hidden_passed": ("통과", "passed"),
    "hidden_not_attempted": ("아직 구현하지 않았습니다", "not attempted"),
    "hidden_missing": ("함수가 정의되어 있지 않습니다", "a function is missing"),
    "hidden_type": ("반환 형식이 다릅니다", "wrong type"),
    "hidden_shape": ("배열 모양(shape)이 다릅니다", "wrong shape"),
    "hidden_dtype": ("자료형(dtype)이 다릅니다", "wrong dtype"),
    "hidden_value": ("값이 다릅니다", "wrong value"),
    "hidden_warning": ("경고가 발생했습니다", "emitted a warning"),
    "hidden_time": ("시간 초과", "time limit"),
    "hidden_raised": ("예외가 발생했습니다", "raised an exception"),
    "hidden_changed_input": ("입력을 바꾸었습니다", "changed its input"),
    "hidden_structure": ("구조 규칙 위반", "structural rule"),
    "hidden_crash": ("학생 코드 프로세스가 중단되었습니다", "the student process stopped"),
    "hidden_skipped": ("앞선 시간 초과로 부르지 않았습니다", "not called after an earlier time-out"),
    "question_timeout": ("이 문항의 실행 시간 한도({seconds:g}초)를 다 썼습니다",
                         "this question used up its time ({seconds:g} s)"),
    "skipped_after_timeout": ("`{name}`이(가) 앞선 사례에서 시간을 넘겨 이 사례는 부르지 않았습니다",
                              "not called: `{name}` ran out of time on an earlier case"),
    "reference_failed": ("기준 답안의 `{name}`이(가) 이 인자로는 답하지 못했습니다: {message}",
                         "the reference `{name}` could not answer these arguments: {message}"),
    "injected": ("이 문항은 여러분의 {names} 대신 기준 답안의 것으로 채점했습니다 (여러분의 것이 자기 문항의 공개 사례를 통과하지 못했습니다)",
                 "graded with the reference's {names} in place of yours (yours fails its own question's public cases)"),
    "injection_unavailable": ("여러분의 {names}이(가) 자기 문항을 통과하지 못해 이 결과에도 영향을 줍니다. 채점 때는 그 자리에 "
                              "기준 답안의 것을 씁니다",
                              "your {names} fails its own question, which affects this result too; at grading time the "
                              "reference's is used in its place"),
    "public_needs_hidden": ("공개 사례의 점수는 같은 문항의 비공개 사례(또는 구조 검사)를 하나 이상 통과해야 인정됩니다",
                            "public cases earn credit only when at least one hidden case (or structure check) of the "
                            "question passes"),
    "protocol_fault": ("학생 코드 프로세스가 알 수 없는 응답을 보냈습니다: {message}",
                       "the student process sent something that is not an answer: {message}"),
})
