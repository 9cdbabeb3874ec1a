"""Tests of solutions/04_optimizers.py against the contract (spec: 04 optimizers).

Every expected number is computed here from the spec's formulas, written out step by step, on
the gradient g(w) = A * w of the bowl f(w) = 1/2 sum A w^2 with A = [1, 10], w0 = [1, -2].
The last part pins down, against the installed Keras 3, where the lecture's formulas and
keras.optimizers agree step for step and where (and by how much) they differ.
"""
import math

import numpy as np
import pytest

A = np.array([1.0, 10.0])
W0 = np.array([1.0, -2.0])
RULES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
DEFAULTS = {
    "sgd": {"learning_rate": 0.01},
    "momentum": {"learning_rate": 0.01, "momentum": 0.9},
    "nesterov": {"learning_rate": 0.01, "momentum": 0.9},
    "adagrad": {"learning_rate": 0.01, "epsilon": 1e-6},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-8},
    "adam": {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
STATE_KEYS = {
    "sgd": set(),
    "momentum": {"velocity"},
    "nesterov": {"velocity"},
    "adagrad": {"cache"},
    "rmsprop": {"cache"},
    "adam": {"m", "v", "t"},
}
CUSTOM = {
    "sgd": {"learning_rate": 0.1},
    "momentum": {"learning_rate": 0.1, "momentum": 0.8},
    "nesterov": {"learning_rate": 0.1, "momentum": 0.8},
    "adagrad": {"learning_rate": 0.5, "epsilon": 1e-3},
    "rmsprop": {"learning_rate": 0.05, "rho": 0.7, "epsilon": 1e-4},
    "adam": {"learning_rate": 0.2, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3},
}


def grad(w):
    return A * w


@pytest.fixture(scope="module")
def sol(load_solution):
    return load_solution("04_optimizers")


# ---- two steps by hand -----------------------------------------------------------------------
# Each function writes the spec's rule out twice, component by component (k = 0, 1).

def hand_sgd(lr):
    w0 = [1.0, -2.0]
    g0 = [1.0 * w0[0], 10.0 * w0[1]]
    w1 = [w0[k] - lr * g0[k] for k in range(2)]
    g1 = [1.0 * w1[0], 10.0 * w1[1]]
    w2 = [w1[k] - lr * g1[k] for k in range(2)]
    return [w1, w2]


def hand_momentum(lr, beta):
    w0 = [1.0, -2.0]
    m0 = [0.0, 0.0]
    g0 = [1.0 * w0[0], 10.0 * w0[1]]
    m1 = [beta * m0[k] - lr * g0[k] for k in range(2)]
    w1 = [w0[k] + m1[k] for k in range(2)]
    g1 = [1.0 * w1[0], 10.0 * w1[1]]
    m2 = [beta * m1[k] - lr * g1[k] for k in range(2)]
    w2 = [w1[k] + m2[k] for k in range(2)]
    return [w1, w2], [m1, m2]


def hand_nesterov(lr, beta):
    w0 = [1.0, -2.0]
    m0 = [0.0, 0.0]
    look0 = [w0[k] + beta * m0[k] for k in range(2)]
    g0 = [1.0 * look0[0], 10.0 * look0[1]]
    m1 = [beta * m0[k] - lr * g0[k] for k in range(2)]
    w1 = [w0[k] + m1[k] for k in range(2)]
    look1 = [w1[k] + beta * m1[k] for k in range(2)]
    g1 = [1.0 * look1[0], 10.0 * look1[1]]
    m2 = [beta * m1[k] - lr * g1[k] for k in range(2)]
    w2 = [w1[k] + m2[k] for k in range(2)]
    return [w1, w2], [m1, m2]


def hand_adagrad(lr, eps):
    w0 = [1.0, -2.0]
    s0 = [0.0, 0.0]
    g0 = [1.0 * w0[0], 10.0 * w0[1]]
    s1 = [s0[k] + g0[k] ** 2 for k in range(2)]
    w1 = [w0[k] - lr * g0[k] / math.sqrt(s1[k] + eps) for k in range(2)]
    g1 = [1.0 * w1[0], 10.0 * w1[1]]
    s2 = [s1[k] + g1[k] ** 2 for k in range(2)]
    w2 = [w1[k] - lr * g1[k] / math.sqrt(s2[k] + eps) for k in range(2)]
    return [w1, w2], [s1, s2]


def hand_rmsprop(lr, rho, eps):
    w0 = [1.0, -2.0]
    s0 = [0.0, 0.0]
    g0 = [1.0 * w0[0], 10.0 * w0[1]]
    s1 = [rho * s0[k] + (1 - rho) * g0[k] ** 2 for k in range(2)]
    w1 = [w0[k] - lr * g0[k] / math.sqrt(s1[k] + eps) for k in range(2)]
    g1 = [1.0 * w1[0], 10.0 * w1[1]]
    s2 = [rho * s1[k] + (1 - rho) * g1[k] ** 2 for k in range(2)]
    w2 = [w1[k] - lr * g1[k] / math.sqrt(s2[k] + eps) for k in range(2)]
    return [w1, w2], [s1, s2]


def hand_adam(lr, b1, b2, eps):
    w0 = [1.0, -2.0]
    m0 = [0.0, 0.0]
    v0 = [0.0, 0.0]
    # step t = 1
    g0 = [1.0 * w0[0], 10.0 * w0[1]]
    m1 = [b1 * m0[k] + (1 - b1) * g0[k] for k in range(2)]
    v1 = [b2 * v0[k] + (1 - b2) * g0[k] ** 2 for k in range(2)]
    mh1 = [m1[k] / (1 - b1 ** 1) for k in range(2)]
    vh1 = [v1[k] / (1 - b2 ** 1) for k in range(2)]
    w1 = [w0[k] - lr * mh1[k] / (math.sqrt(vh1[k]) + eps) for k in range(2)]
    # step t = 2
    g1 = [1.0 * w1[0], 10.0 * w1[1]]
    m2 = [b1 * m1[k] + (1 - b1) * g1[k] for k in range(2)]
    v2 = [b2 * v1[k] + (1 - b2) * g1[k] ** 2 for k in range(2)]
    mh2 = [m2[k] / (1 - b1 ** 2) for k in range(2)]
    vh2 = [v2[k] / (1 - b2 ** 2) for k in range(2)]
    w2 = [w1[k] - lr * mh2[k] / (math.sqrt(vh2[k]) + eps) for k in range(2)]
    return [w1, w2], [(m1, v1, 1), (m2, v2, 2)]


def hand(rule, hp):
    """(ws, states): ws = [w1, w2]; states[i] = the state dict after step i + 1."""
    if rule == "sgd":
        return hand_sgd(hp["learning_rate"]), [{}, {}]
    if rule in ("momentum", "nesterov"):
        f = hand_momentum if rule == "momentum" else hand_nesterov
        ws, ms = f(hp["learning_rate"], hp["momentum"])
        return ws, [{"velocity": m} for m in ms]
    if rule == "adagrad":
        ws, ss = hand_adagrad(hp["learning_rate"], hp["epsilon"])
        return ws, [{"cache": s} for s in ss]
    if rule == "rmsprop":
        ws, ss = hand_rmsprop(hp["learning_rate"], hp["rho"], hp["epsilon"])
        return ws, [{"cache": s} for s in ss]
    ws, st = hand_adam(hp["learning_rate"], hp["beta1"], hp["beta2"], hp["epsilon"])
    return ws, [{"m": m, "v": v, "t": t} for m, v, t in st]


def test_hand_sgd_literal_numbers():
    # the helper itself, on numbers simple enough to check by eye: lr = 0.1
    # w1 = (1 - 0.1*1, -2 - 0.1*(-20)) = (0.9, 0.0); w2 = (0.9 - 0.09, 0 - 0) = (0.81, 0.0)
    ws = hand_sgd(0.1)
    np.testing.assert_allclose(ws, [[0.9, 0.0], [0.81, 0.0]], rtol=1e-15, atol=1e-15)
    ws, ms = hand_nesterov(0.1, 0.9)
    # m1 = (-0.1, 2.0), w1 = (0.9, 0.0); look-ahead (0.81, 1.8), g = (0.81, 18)
    # m2 = (-0.09 - 0.081, 1.8 - 1.8) = (-0.171, 0.0), w2 = (0.729, 0.0)
    np.testing.assert_allclose(ws, [[0.9, 0.0], [0.729, 0.0]], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ms, [[-0.1, 2.0], [-0.171, 0.0]], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("which", ["defaults", "custom"])
def test_first_two_steps_by_hand(sol, rule, which):
    update = getattr(sol, rule)
    if which == "defaults":
        hp, config = DEFAULTS[rule], None
    else:
        hp, config = CUSTOM[rule], dict(CUSTOM[rule])
    ws, states = hand(rule, hp)
    w = W0.copy()
    for i in range(2):
        w, config = update(w, grad, config)
        np.testing.assert_allclose(w, ws[i], rtol=1e-12, atol=1e-15)
        for key, expected in states[i].items():
            if key == "t":
                assert config["t"] == expected
            else:
                np.testing.assert_allclose(config[key], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rule", RULES)
def test_defaults_filled_when_config_is_none(sol, rule):
    _, config = getattr(sol, rule)(W0.copy(), grad, None)
    for key, value in DEFAULTS[rule].items():
        assert config[key] == value, key


@pytest.mark.parametrize("rule", RULES)
def test_missing_keys_take_defaults(sol, rule):
    """A config with only the learning rate uses the defaults for everything else."""
    hp = dict(DEFAULTS[rule], learning_rate=0.05)
    ws, _ = hand(rule, hp)
    w, config = getattr(sol, rule)(W0.copy(), grad, {"learning_rate": 0.05})
    np.testing.assert_allclose(w, ws[0], rtol=1e-12, atol=1e-15)
    assert config["learning_rate"] == 0.05


@pytest.mark.parametrize("rule", RULES)
def test_state_keys_exactly(sol, rule):
    _, config = getattr(sol, rule)(W0.copy(), grad, None)
    assert set(config) - set(DEFAULTS[rule]) == STATE_KEYS[rule]
    _, config = getattr(sol, rule)(W0.copy(), grad, config)
    assert set(config) - set(DEFAULTS[rule]) == STATE_KEYS[rule]
    if rule == "adam":
        assert config["t"] == 2


@pytest.mark.parametrize("rule", RULES)
def test_w_not_modified_in_place(sol, rule):
    w = W0.copy()
    w_next, config = getattr(sol, rule)(w, grad, None)
    np.testing.assert_array_equal(w, W0)
    assert not np.array_equal(w_next, W0)
    w_prev = w_next.copy()
    getattr(sol, rule)(w_next, grad, config)
    np.testing.assert_array_equal(w_next, w_prev)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("steps", [0, 1, 7])
def test_minimize_path(sol, rule, steps):
    w0 = W0.copy()
    w_final, path = sol.minimize(getattr(sol, rule), grad, w0, steps)
    path = np.asarray(path)
    assert path.shape == (steps + 1, 2)
    np.testing.assert_array_equal(path[0], W0)
    np.testing.assert_array_equal(path[-1], w_final)
    np.testing.assert_array_equal(w0, W0)
    # the path is the sequence of updates
    w, config = W0.copy(), None
    for i in range(1, steps + 1):
        w, config = getattr(sol, rule)(w, grad, config)
        np.testing.assert_allclose(path[i], w, rtol=1e-15, atol=0)


def test_minimize_uses_given_config(sol):
    _, path = sol.minimize(sol.sgd, grad, W0, 2, {"learning_rate": 0.1})
    np.testing.assert_allclose(path[1:], hand_sgd(0.1), rtol=1e-12, atol=1e-15)


# ---- progress on an elongated bowl ------------------------------------------------------------

BOWL_A = np.array([1.0, 25.0])
BOWL_W0 = np.array([-1.5, 0.8])


def bowl_loss(w):
    return 0.5 * float(np.sum(BOWL_A * np.asarray(w) ** 2))


def bowl_grad(w):
    return BOWL_A * w


def run_bowl(sol, rule, lr, steps):
    w, _ = sol.minimize(getattr(sol, rule), bowl_grad, BOWL_W0, steps, {"learning_rate": lr})
    return bowl_loss(w)


def test_sgd_on_bowl_closed_form(sol):
    """Plain GD on a diagonal quadratic: w_k = (1 - lr A)^k w0, componentwise."""
    _, path = sol.minimize(sol.sgd, bowl_grad, BOWL_W0, 50, {"learning_rate": 0.02})
    k = np.arange(51)[:, None]
    np.testing.assert_allclose(path, (1 - 0.02 * BOWL_A) ** k * BOWL_W0, rtol=1e-12, atol=1e-300)


def test_progress_ordering_on_elongated_bowl(sol):
    """Measured with the reference: f(w0) = 9.125. After 50 steps at lr 0.02:
    sgd 0.149, momentum 0.046, nesterov 0.0024. Adam at lr 0.1: 0.031, RMSprop at lr 0.1: ~4e-30."""
    f0 = bowl_loss(BOWL_W0)
    assert f0 == pytest.approx(0.5 * (1 * 1.5 ** 2 + 25 * 0.8 ** 2))
    L = {r: run_bowl(sol, r, 0.02, 50) for r in ("sgd", "momentum", "nesterov")}
    L["adam"] = run_bowl(sol, "adam", 0.1, 50)
    L["rmsprop"] = run_bowl(sol, "rmsprop", 0.1, 50)
    L["adagrad"] = run_bowl(sol, "adagrad", 0.5, 50)
    print("bowl losses after 50 steps:", {k: f"{v:.3e}" for k, v in L.items()})
    assert L["sgd"] < f0
    assert L["momentum"] < L["sgd"]
    assert L["nesterov"] < L["sgd"]
    assert L["nesterov"] <= L["momentum"]
    for r in ("adam", "rmsprop", "adagrad"):
        assert L[r] < 0.05 * f0, r
        assert L[r] < L["sgd"], r


def test_rmsprop_and_adam_defaults_are_slow_but_move(sol):
    """With their small default learning rates (0.001) both still decrease the loss."""
    for rule in ("rmsprop", "adam"):
        w, _ = sol.minimize(getattr(sol, rule), bowl_grad, BOWL_W0, 50)
        assert bowl_loss(w) < bowl_loss(BOWL_W0)


# ---- Keras 3 against the lecture --------------------------------------------------------------
# Read from keras/src/optimizers/*.py (Keras 3.15):
#   SGD      m <- beta m - lr g;  w <- w + m                       (= the lecture's momentum)
#            nesterov: m <- beta m - lr g(w);  w <- w + beta m - lr g(w), with g at the stored
#            variable. The stored variable is the lecture's look-ahead point w + beta m.
#   Adagrad  accumulator starts at initial_accumulator_value = 0.1 (the lecture: 0);
#            w <- w - lr g / sqrt(acc + eps), eps inside the sqrt as in the lecture; eps 1e-7.
#   RMSprop  v <- rho v + (1 - rho) g^2; w <- w - lr g / sqrt(v + eps), eps inside as in the
#            lecture; default eps 1e-7 (lecture 1e-8).
#   Adam     alpha = lr sqrt(1 - b2^t) / (1 - b1^t); w <- w - alpha m / (sqrt(v) + eps): Kingma
#            and Ba's "epsilon hat", i.e. the lecture's rule with eps_t = eps / sqrt(1 - b2^t);
#            default eps 1e-7 (lecture 1e-8).
# Keras keeps learning_rate in a float32 variable and casts Python-float hyperparameters through
# float32 (momentum, beta_1, beta_2 in Adam's bias correction). With float64 model variables the
# lecture's formulas reproduce Keras exactly once those hyperparameters are rounded through
# float32 (`f32` below); with float32 variables they agree to float32 rounding.

KERAS_STEPS = 30


def f32(x):
    return float(np.float32(x))


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_path(keras, opt, A, w0, steps=KERAS_STEPS, dtype="float64"):
    """Run a Keras optimizer on the bowl g(w) = A w; returns the (steps + 1, n) float64 path."""
    var = keras.Variable(np.asarray(w0, dtype=dtype), dtype=dtype)
    path = [np.array(var.numpy(), dtype=np.float64)]
    for _ in range(steps):
        w = np.asarray(var.numpy())
        g = keras.ops.convert_to_tensor((A * w).astype(dtype))
        opt.apply_gradients([(g, var)])
        path.append(np.array(var.numpy(), dtype=np.float64))
    return np.array(path)


def lecture_path(update, A, w0, config, steps=KERAS_STEPS, view=None, before_step=None):
    """The solution's rule on the same bowl; view(w, config) chooses what to record."""
    w = np.array(w0, dtype=np.float64)
    config = dict(config)
    path = [w.copy()]
    for t in range(1, steps + 1):
        if before_step:
            before_step(config, t)
        w, config = update(w, lambda v: A * v, config)
        path.append(np.array(view(w, config) if view else w, dtype=np.float64))
    return np.array(path)


def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.mark.keras
def test_keras_defaults_as_read_from_source(keras):
    o = keras.optimizers
    assert float(o.SGD().learning_rate) == pytest.approx(0.01)
    assert (o.SGD().momentum, o.SGD().nesterov) == (0.0, False)
    ada = o.Adagrad()
    assert float(ada.learning_rate) == pytest.approx(0.001)  # lecture: 0.01
    assert ada.initial_accumulator_value == 0.1               # lecture: 0
    assert ada.epsilon == 1e-7                                # lecture: 1e-6
    rms = o.RMSprop()
    assert float(rms.learning_rate) == pytest.approx(0.001)
    assert (rms.rho, rms.epsilon) == (0.9, 1e-7)              # lecture: 0.9, 1e-8
    adam = o.Adam()
    assert float(adam.learning_rate) == pytest.approx(0.001)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.9, 0.999, 1e-7)  # lecture eps 1e-8


@pytest.mark.keras
def test_keras_sgd_agrees(keras, sol):
    kp32 = keras_path(keras, keras.optimizers.SGD(0.02), BOWL_A, BOWL_W0, dtype="float32")
    lp = lecture_path(sol.sgd, BOWL_A, BOWL_W0, {"learning_rate": 0.02})
    d32 = max_abs(kp32, lp)
    kp64 = keras_path(keras, keras.optimizers.SGD(0.02), BOWL_A, BOWL_W0)
    lp_f32hp = lecture_path(sol.sgd, BOWL_A, BOWL_W0, {"learning_rate": f32(0.02)})
    d64 = max_abs(kp64, lp_f32hp)
    print(f"SGD: float32 max|diff| {d32:.2e}; float64 (lr via float32) {d64:.2e}")
    assert d32 < 1e-6
    assert d64 <= 1e-12


@pytest.mark.keras
def test_keras_momentum_agrees(keras, sol):
    mk = lambda: keras.optimizers.SGD(0.02, momentum=0.9)
    kp32 = keras_path(keras, mk(), BOWL_A, BOWL_W0, dtype="float32")
    lp = lecture_path(sol.momentum, BOWL_A, BOWL_W0, {"learning_rate": 0.02, "momentum": 0.9})
    d32 = max_abs(kp32, lp)
    kp64 = keras_path(keras, mk(), BOWL_A, BOWL_W0)
    lp_f32hp = lecture_path(sol.momentum, BOWL_A, BOWL_W0,
                            {"learning_rate": f32(0.02), "momentum": f32(0.9)})
    d64 = max_abs(kp64, lp_f32hp)
    d64_nominal = max_abs(kp64, lp)
    print(f"momentum: float32 {d32:.2e}; float64 {d64:.2e}; float64 vs nominal hp {d64_nominal:.2e}")
    assert d32 < 2e-6
    assert d64 <= 1e-12
    assert d64_nominal < 1e-6


@pytest.mark.keras
def test_keras_nesterov_is_the_lookahead_reparametrisation(keras, sol):
    """Keras's variable follows the lecture's look-ahead point w + beta m exactly, not w."""
    mk = lambda: keras.optimizers.SGD(0.02, momentum=0.9, nesterov=True)
    hp = {"learning_rate": f32(0.02), "momentum": f32(0.9)}
    kp = keras_path(keras, mk(), BOWL_A, BOWL_W0)
    shifted = lecture_path(sol.nesterov, BOWL_A, BOWL_W0, hp,
                           view=lambda w, c: w + c["momentum"] * c["velocity"])
    plain = lecture_path(sol.nesterov, BOWL_A, BOWL_W0, hp)
    d_shift = max_abs(kp, shifted)
    d_plain = max_abs(kp, plain)
    kp32 = keras_path(keras, mk(), BOWL_A, BOWL_W0, dtype="float32")
    nominal = lecture_path(sol.nesterov, BOWL_A, BOWL_W0, {"learning_rate": 0.02, "momentum": 0.9},
                           view=lambda w, c: w + c["momentum"] * c["velocity"])
    d32 = max_abs(kp32, nominal)
    print(f"nesterov: Keras vs lecture w + beta m {d_shift:.2e} (float32 run {d32:.2e}); "
          f"Keras vs lecture w {d_plain:.3f}")
    assert d_shift <= 1e-12
    assert d32 < 2e-6
    # the two parametrisations differ by beta * m, which is large early on (measured 0.36)
    assert 0.3 < d_plain < 0.4
    # and both go to the same minimum
    assert np.allclose(kp[0], plain[0]) and max_abs(kp[-1], plain[-1]) < 0.05


@pytest.mark.keras
def test_keras_adagrad_initial_accumulator(keras, sol):
    lr = 0.1
    # Keras with its defaults (accumulator 0.1, eps 1e-7) vs the lecture's defaults (0, 1e-6)
    kp = keras_path(keras, keras.optimizers.Adagrad(lr), BOWL_A, BOWL_W0)
    lp = lecture_path(sol.adagrad, BOWL_A, BOWL_W0, {"learning_rate": f32(lr)})
    d_default = max_abs(kp, lp)
    # first step by hand: g0 = (-1.5, 20); Keras lr g / sqrt(0.1 + g^2 + 1e-7),
    # lecture lr g / sqrt(g^2 + 1e-6): for g = -1.5, 0.1*1.5/sqrt(2.3500001) vs 0.1*1.5/sqrt(2.250001)
    g0 = BOWL_A * BOWL_W0
    k1 = BOWL_W0 - f32(lr) * g0 / np.sqrt(0.1 + g0 ** 2 + 1e-7)
    l1 = BOWL_W0 - f32(lr) * g0 / np.sqrt(g0 ** 2 + 1e-6)
    np.testing.assert_allclose(kp[1], k1, rtol=1e-7)
    np.testing.assert_allclose(lp[1], l1, rtol=1e-12)
    first_step_diff = max_abs(k1, l1)
    # accumulator 0 and the lecture's eps: identical
    kp0 = keras_path(keras, keras.optimizers.Adagrad(lr, initial_accumulator_value=0.0,
                                                     epsilon=1e-6), BOWL_A, BOWL_W0)
    d_matched = max_abs(kp0, lp)
    # Keras's defaults = the lecture with cache started at 0.1 and eps 1e-7
    lp01 = lecture_path(sol.adagrad, BOWL_A, BOWL_W0,
                        {"learning_rate": f32(lr), "epsilon": 1e-7, "cache": np.full(2, f32(0.1))})
    d_cache01 = max_abs(kp, lp01)
    print(f"adagrad: defaults differ by {d_default:.2e} over {KERAS_STEPS} steps "
          f"(first step {first_step_diff:.2e}); accumulator 0 + eps 1e-6: {d_matched:.2e}; "
          f"lecture with cache 0.1, eps 1e-7: {d_cache01:.2e}")
    assert d_default > 1e-3
    assert first_step_diff == pytest.approx(0.1 * 1.5 * (1 / math.sqrt(2.250001) - 1 / math.sqrt(2.3500001)),
                                            rel=1e-4)
    assert d_matched <= 1e-12
    assert d_cache01 <= 1e-12


def _eps_position_check(keras, kopt):
    """One step with eps = 1 on g = (-1.5, 20): inside the sqrt gives lr g / sqrt(s + 1),
    outside would give lr g / (sqrt(s) + 1)."""
    kp = keras_path(keras, kopt, BOWL_A, BOWL_W0, steps=1)
    return kp[1]


@pytest.mark.keras
def test_keras_adagrad_and_rmsprop_put_eps_inside_the_sqrt(keras):
    g0 = BOWL_A * BOWL_W0
    lr = f32(0.1)
    w_ada = _eps_position_check(
        keras, keras.optimizers.Adagrad(0.1, initial_accumulator_value=0.0, epsilon=1.0))
    s = g0 ** 2
    np.testing.assert_allclose(w_ada, BOWL_W0 - lr * g0 / np.sqrt(s + 1.0), rtol=1e-12)
    assert max_abs(w_ada, BOWL_W0 - lr * g0 / (np.sqrt(s) + 1.0)) > 1e-3
    w_rms = _eps_position_check(keras, keras.optimizers.RMSprop(0.1, rho=0.9, epsilon=1.0))
    s = 0.1 * g0 ** 2
    np.testing.assert_allclose(w_rms, BOWL_W0 - lr * g0 / np.sqrt(s + 1.0), rtol=1e-12)
    assert max_abs(w_rms, BOWL_W0 - lr * g0 / (np.sqrt(s) + 1.0)) > 1e-3


# Gradients of order 1e-6 .. 1e-4, where epsilon matters.
TINY_A = np.array([1e-6, 1e-4])


@pytest.mark.keras
def test_keras_rmsprop_differs_only_by_default_eps(keras, sol):
    lr = 0.01
    # ordinary gradients: the eps defaults do not matter
    kp = keras_path(keras, keras.optimizers.RMSprop(lr), BOWL_A, BOWL_W0)
    lp = lecture_path(sol.rmsprop, BOWL_A, BOWL_W0, {"learning_rate": f32(lr)})
    d_ordinary = max_abs(kp, lp)
    # tiny gradients: Keras's eps 1e-7 vs the lecture's 1e-8
    kpt = keras_path(keras, keras.optimizers.RMSprop(lr), TINY_A, BOWL_W0)
    lpt = lecture_path(sol.rmsprop, TINY_A, BOWL_W0, {"learning_rate": f32(lr)})
    d_tiny = max_abs(kpt, lpt)
    # same eps: identical
    kpt8 = keras_path(keras, keras.optimizers.RMSprop(lr, epsilon=1e-8), TINY_A, BOWL_W0)
    d_matched = max_abs(kpt8, lpt)
    print(f"rmsprop: default eps, ordinary gradients {d_ordinary:.2e}; tiny gradients "
          f"{d_tiny:.2e}; Keras eps=1e-8: {d_matched:.2e}")
    assert d_ordinary < 1e-6
    assert d_tiny > 1e-2
    assert d_matched <= 1e-12


def keras_adam_formula(A, w0, lr, b1, b2, eps, steps=KERAS_STEPS):
    """Keras 3's Adam update written out in float64, with its float32 rounding of lr and of the
    betas in the bias correction (the moment updates use the Python floats)."""
    w = np.array(w0, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    path = [w.copy()]
    for t in range(1, steps + 1):
        g = A * w
        alpha = f32(lr) * math.sqrt(1 - f32(b2) ** t) / (1 - f32(b1) ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        w = w - m * alpha / (np.sqrt(v) + eps)
        path.append(w.copy())
    return np.array(path)


@pytest.mark.keras
def test_keras_adam_epsilon_hat(keras, sol):
    lr, b1, b2 = 0.1, 0.9, 0.999
    # 1. Keras is exactly the epsilon-hat formula above
    kp = keras_path(keras, keras.optimizers.Adam(lr), BOWL_A, BOWL_W0)
    d_formula = max_abs(kp, keras_adam_formula(BOWL_A, BOWL_W0, lr, b1, b2, 1e-7))
    # 2. ordinary gradients: Keras (eps 1e-7) vs lecture defaults (eps 1e-8) agree to ~1e-5,
    #    the remainder coming from Keras's float32 betas in the bias correction
    lp = lecture_path(sol.adam, BOWL_A, BOWL_W0, {"learning_rate": lr})
    d_ordinary = max_abs(kp, lp)
    # 3. tiny gradients, same eps = 1e-8 on both sides: they differ...
    kpt = keras_path(keras, keras.optimizers.Adam(lr, epsilon=1e-8), TINY_A, BOWL_W0)
    lpt = lecture_path(sol.adam, TINY_A, BOWL_W0, {"learning_rate": lr, "epsilon": 1e-8})
    d_tiny_same_eps = max_abs(kpt, lpt)

    # ... and the lecture with eps_t = eps / sqrt(1 - b2^t) follows Keras
    def eps_hat(config, t):
        config["epsilon"] = 1e-8 / math.sqrt(1 - b2 ** t)

    lpt_hat = lecture_path(sol.adam, TINY_A, BOWL_W0, {"learning_rate": lr}, before_step=eps_hat)
    d_tiny_hat = max_abs(kpt, lpt_hat)
    d_tiny_formula = max_abs(kpt, keras_adam_formula(TINY_A, BOWL_W0, lr, b1, b2, 1e-8))
    print(f"adam: Keras vs its formula {d_formula:.2e} (tiny {d_tiny_formula:.2e}); ordinary "
          f"gradients vs lecture {d_ordinary:.2e}; tiny gradients same eps {d_tiny_same_eps:.2e}; "
          f"lecture with eps_t = eps/sqrt(1-b2^t) {d_tiny_hat:.2e}")
    assert d_formula <= 1e-12
    assert d_tiny_formula <= 1e-12
    assert 1e-7 < d_ordinary < 3e-5
    assert d_tiny_same_eps > 1e-2
    assert d_tiny_hat < 3e-5
