#!/usr/bin/env bash
# Everything a GPU session checks, in one call on the GPU machine (from the repository root; results under $OUT):
# the carried wheels installed, asc-bench importable from this source tree with its entry points, the
# CUDA-marked tests, and benchmarks/gpu.py (its table as $OUT/gpu.md; copy it to benchmarks/results/gpu.md).
#   benchmarks/gpu_check.sh [--quick]     --quick: the benchmark at tiny sizes (to check the script itself)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
export PYTHONUNBUFFERED=1 ASC_BENCH_CACHE_DIR=${ASC_BENCH_CACHE_DIR:-/tmp/asc-bench-cache}
PY=${PYTHON:-python3}
site=/tmp/asc-bench-site
mkdir -p "$site"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl \
    || { echo "installing the carried wheels failed" | tee "$OUT/summary.txt"; exit 1; }
fi
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
# asc-bench from this tree without installing it: the plugins' package name and the entry points, as pip would make them
"$PY" benchmarks/gpu_site.py "$site" || { echo "making asc-bench importable failed" | tee "$OUT/summary.txt"; exit 1; }
{ nvidia-smi; "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'; } \
  >"$OUT/machine.txt" 2>&1
"$PY" -m pytest -q -p no:cacheprovider -m cuda tests/trial tests/data tests/model 2>&1 | tee "$OUT/cuda-tests.log"
tests=${PIPESTATUS[0]}
"$PY" benchmarks/gpu.py "$@" --out "$OUT/gpu.md" 2>&1 | tee "$OUT/gpu.log"
bench=${PIPESTATUS[0]}
echo "cuda tests exit $tests, benchmark exit $bench" | tee "$OUT/summary.txt"
exit $((tests || bench))
