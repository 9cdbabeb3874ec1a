"""Feedback messages in Korean and English. Every message a student sees has a key here."""

MESSAGES = {
    "passed": ("통과", "passed"),
    "failed": ("실패", "failed"),
    "not_attempted": ("아직 구현하지 않았습니다 (NotImplementedError)", "not attempted (NotImplementedError)"),
    "missing_function": ("함수 `{name}`가 정의되어 있지 않습니다", "function `{name}` is not defined"),
    "raised": ("예외 발생: {type}: {message}", "raised {type}: {message}"),
    "timeout": ("시간 초과: {message}", "time limit: {message}"),
    "crash": ("학생 코드 프로세스가 중단되었습니다: {message}", "the student process stopped: {message}"),
    "limit": ("제출물의 실행 한도를 넘었습니다: {message}", "the submission hit a limit: {message}"),
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
    "keras": ("{message}", "{message}"),
    "threshold": ("{message}", "{message}"),
    "output_printed": ("불필요한 출력이 {n} 바이트 있습니다 (verbose=0 확인)", "{n} bytes printed during training (use verbose=0)"),
    "cell_error": ("셀 {index} 실행 오류: {type}: {message}", "cell {index} failed: {type}: {message}"),
    "sandbox": ("{note}", "{note}"),
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
    "hidden_case": ("비공개 사례", "hidden case"),
    "public_case": ("공개 사례", "public case"),
    "hint": ("힌트: {hint}", "hint: {hint}"),
}


def t(key, lang="en", **params):
    ko, en = MESSAGES.get(key, (key, key))
    template = ko if lang == "ko" else en
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def pick(text, lang):
    """A spec's (ko, en) pair or a plain string."""
    if isinstance(text, (tuple, list)) and len(text) == 2:
        return text[0] if lang == "ko" else text[1]
    return text
