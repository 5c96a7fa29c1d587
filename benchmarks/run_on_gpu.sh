#!/usr/bin/env bash
# The GPU figures of the README, in one run on a CUDA machine (no network): from the
# repository root, with the project's non-torch wheels (and the psfmodels sdist, built
# there) in .whl/, and torch already installed. Tables go to $OUT (default /tmp/gpu).
set -u
export PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/gpu}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD/src:/tmp/site
SETUPTOOLS_SCM_PRETEND_VERSION=0.3.3 python3 -m pip install -q --no-index --no-deps \
  --no-build-isolation --target /tmp/site .whl/psfmodels-*.tar.gz 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__)" | tee -a "$OUT/gpu.txt"
cd benchmarks
timeout 120 python3 bench_restore.py --device cuda --wells 8 --size 512 --planes 9 \
  --restore all --batch auto --workers 4 2>&1 | grep -v Warning | tee "$OUT/restore.txt"
timeout 120 python3 bench_restore.py --device cuda --wells 8 --size 512 --planes 9 \
  --restore all --batch auto --workers 4 --channels-last --compile 2>&1 \
  | grep -v Warning | tee "$OUT/restore_compiled.txt"
timeout 240 python3 bench_plate.py --device cuda --wells 4 --workers 8 --batch auto 2>&1 \
  | grep -v Warning | tee "$OUT/plate.txt"
timeout ${TRAIN_TIMEOUT:-150} python3 bench_train.py --device cuda --models restormer --steps 20 --warmup 3 \
  --sweep 256,1024 2>&1 | grep -v Warning | tee "$OUT/train.txt"
