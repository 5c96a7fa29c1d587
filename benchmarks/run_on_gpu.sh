#!/usr/bin/env bash
# The GPU figures of the README, in one run on a CUDA machine (no network): from the
# repository root, with the project's non-torch wheels (and the psfmodels sdist, built
# there) in .whl/, and torch (and numba) already installed. Tables go to $OUT (default
# /tmp/gpu). Each step has its own time limit, most important first.
set -u
export PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/gpu}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD/src:/tmp/site
SETUPTOOLS_SCM_PRETEND_VERSION=0.3.3 python3 -m pip install -q --no-index --no-deps \
  --no-build-isolation --target /tmp/site .whl/psfmodels-*.tar.gz 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, numba, numpy; print('torch', torch.__version__, 'numba', numba.__version__, 'numpy', numpy.__version__)" | tee -a "$OUT/gpu.txt"
cd benchmarks
# steps to run (arguments; default all): check restore34 train plate restore restore_tasks
# restore_compiled
STEPS=${*:-check restore34 train plate}
RESTORE="--device cuda --wells 8 --size 512 --planes 9 --restore all --batch auto --workers 4"
# BBBC006-deep fields: 34 planes each (about 550 tiles of 160 x 160 per field), enough
# fields that filling and draining the pipeline is a small part of the run
RESTORE34="--device cuda --wells 12 --size 512 --planes 34 --restore all --batch auto --workers 8"
step() {  # step NAME SECONDS COMMAND...: run if asked for, keep the output, time it
  local name=$1 limit=$2; shift 2
  case " $STEPS " in *" $name "*) ;; *) return ;; esac
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | grep -v Warning | tee "$OUT/$name.txt"
  echo "[$name: $((SECONDS - t0)) s]" | tee -a "$OUT/steps.txt"
}
step check ${T_CHECK:-60} python3 check_gpu.py
step restore34 ${T_RESTORE34:-180} python3 bench_restore.py $RESTORE34 --repeats 2
step train ${T_TRAIN:-230} python3 bench_train.py --device cuda --models restormer --steps 20 \
  --warmup 3 --skip "float32 compiled" --sweep 16,64,256,1024 --compiled-at 256
step plate ${T_PLATE:-200} python3 bench_plate.py --device cuda --wells 4 --workers 8 --batch auto
step restore ${T_RESTORE:-100} python3 bench_restore.py $RESTORE --repeats 3
step restore_tasks ${T_TASKS:-80} python3 bench_restore.py $RESTORE --repeats 2 --prefetch false
step restore_compiled ${T_COMPILED:-110} python3 bench_restore.py $RESTORE --repeats 2 \
  --channels-last --compile
