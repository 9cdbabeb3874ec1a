"""06's model answers to its written questions (for the TAs; never shipped: release and gradescope
leave answers.py out). authoring.MODEL_ANSWERS gathers every assignment's."""
MODEL_ANSWERS = {
    "written_softmax_ce": (
        "출력층 노드 10개는 숫자 0..9에 하나씩 대응하고, 소프트맥스는 가중합을 모두 양수이고 합이 1인 "
        "$p_k=e^{z_k}/\\sum_j e^{z_j}$로 바꾸므로 '숫자 k일 확률'로 읽고, 예측은 argmax입니다. 정답 7에 0.9를 주면 "
        "$-\\log 0.9\\approx0.105$, 0.05를 주면 $-\\log 0.05\\approx3.0$으로 약 28배: 교차 엔트로피는 정답에 작은 확률을 준"
        "(틀린 답을 확신한) 예측을 크게 벌하며 $p_7\\to0$이면 한없이 커집니다. 레이블이 원-핫이 아니라 정수 0..9이므로 "
        "sparse_categorical_crossentropy를 씁니다(값은 같고, categorical_crossentropy는 원-핫을 받습니다)."),
    "written_mistakes": (
        "(가) 예: 8을 1로, 9를 5로 읽은 경우 — 8×8 픽셀에서는 고리나 틈이 한두 픽셀로 뭉개져 닫힌 고리가 있는 8/9/0/6, "
        "세로획이 비슷한 1/7/4가 같은 모양이 되고, 기울거나 굵은 글씨도 다른 숫자와 겹칩니다. (나) 모델은 학습 데이터에 "
        "맞추어 가중치를 고치므로 학습 정확도는 외운 것까지 포함해 좋게 나옵니다. 처음 보는 데이터에서의 성능(일반화)은 "
        "학습에 쓰지 않은 시험 데이터로만 잴 수 있습니다. 학습 정확도가 훨씬 높으면 과적합(overfitting)을 의심합니다."),
}
