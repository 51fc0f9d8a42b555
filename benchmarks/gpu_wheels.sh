#!/usr/bin/env bash
# Fetch, on a machine with pip and a network, the wheels benchmarks/gpu_check.sh installs on a GPU machine whose
# image lacks them (its image has torch, torchaudio, numpy, typer, rich, PyYAML, filelock, torchmetrics and
# tensorboard; not pydantic, soundfile, torchinfo or torchao). Ray's wheel is too large to carry: the sweep is then skipped.
#   benchmarks/gpu_wheels.sh [FOLDER]      (default .whl, to be named in the device call's carry)
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:-.whl}
pins=$(grep -E '^(pydantic|pydantic_core|annotated-types|typing-inspection|typing_extensions|soundfile|cffi|pycparser|torchinfo|torchao)==' constraints.txt)
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
# shellcheck disable=SC2086
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d "$folder" $pins
ls -l "$folder"
