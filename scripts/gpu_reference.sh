#!/usr/bin/env bash
# The whole GPU run for issue 7, in one command, on a machine with an NVIDIA GPU and JAX
# (no TensorFlow needed: Keras 3 runs the unchanged reference solution on the JAX backend).
#   bash scripts/gpu_reference.sh
# Rewrites autograder/assignments/05_keras_tanh/references/*.json (the GPU reference, with its provenance) and
# docs/measurements/keras_spread_gpu_tf32_{on,off}.json (20 seeds each).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install --quiet -e . --no-deps
$PY -m pip install --quiet "keras>=3.8,<3.16" pandas nbformat ipython tqdm
export KERAS_BACKEND=jax
$PY -c "import jax; print('devices:', jax.devices())"
mkdir -p docs/measurements
$PY benchmarks/keras_spread.py --seeds 20 --precision default --out docs/measurements/keras_spread_gpu_tf32_on.json
$PY benchmarks/keras_spread.py --seeds 20 --precision highest --out docs/measurements/keras_spread_gpu_tf32_off.json
$PY -m autograder reference 05_keras_tanh --device gpu
