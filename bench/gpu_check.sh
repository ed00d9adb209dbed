#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and the project's .venv (torch with CUDA):
#   1. the tests marked cuda:  .venv/bin/python -m pytest -q -m cuda --ignore tests/test_distributed.py
#      (pytest's exit status 5, "no tests selected", counts as success);
#   2. with two GPUs or more, data parallel on two of them (NCCL, one process per GPU) against one:
#      .venv/bin/python -m pytest -q -m cuda tests/test_distributed.py   (skipped with fewer GPUs);
#   3. the benchmark, quick:   .venv/bin/python bench/run.py --device cuda --quick --json $OUT_DIR/gpu.json
#
#   bench/gpu_check.sh                    # writes bench/gpu.json
#   OUT_DIR=/tmp/out bench/gpu_check.sh   # writes /tmp/out/gpu.json
#
# Each step runs under `timeout 280`; the whole script stays within 5 minutes (a later step gets
# at most what the earlier ones left of a 290 s budget).  Exit status 0 when every step passed, else 1.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT_DIR:-bench}"
PY=.venv/bin/python
BUDGET=290    # seconds for all the steps, kill grace included: under 5 minutes in all
GRACE=5       # after the timeout's TERM, KILL this much later
start=$SECONDS
failed=0
mkdir -p "$OUT_DIR"

# run LABEL COMMAND...: runs COMMAND under timeout (280 s, or less if the budget is nearly spent)
run() {
    local label=$1 left limit rc
    shift
    left=$(( BUDGET - (SECONDS - start) - GRACE ))
    limit=$(( left < 280 ? left : 280 ))
    if (( limit < 10 )); then
        echo "== $label: SKIPPED, only ${left} s of the budget left"
        return 124
    fi
    echo "== $label (timeout ${limit} s): $*"
    timeout -k "$GRACE" "$limit" "$@"
    rc=$?
    if (( rc == 124 || rc == 137 )); then
        echo "== $label: TIMED OUT after ${limit} s"
    fi
    return $rc
}

echo "== machine: $(uname -srm); $(nproc) cores"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    || echo "note: nvidia-smi did not answer"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"

run "cuda tests" "$PY" -m pytest -q -m cuda --ignore tests/test_distributed.py
rc=$?
case $rc in
    0) echo "== cuda tests: passed" ;;
    5) echo "== cuda tests: none selected (pytest exit status 5), counted as success" ;;
    *) echo "== cuda tests: FAILED (exit status $rc)"; failed=1 ;;
esac

gpus=$("$PY" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
if (( gpus >= 2 )); then
    run "2-GPU data parallel" "$PY" -m pytest -q -m cuda tests/test_distributed.py
    rc=$?
    if (( rc == 0 )); then echo "== 2-GPU data parallel: passed"; else echo "== 2-GPU data parallel: FAILED (exit status $rc)"; failed=1; fi
else
    echo "== 2-GPU data parallel: SKIPPED, this machine has $gpus GPU(s)"
fi

run "benchmark" "$PY" bench/run.py --device cuda --quick --json "$OUT_DIR/gpu.json"
rc=$?
if (( rc == 0 )); then
    echo "== benchmark: done, figures in $OUT_DIR/gpu.json"
else
    echo "== benchmark: FAILED (exit status $rc)"
    failed=1
fi

echo "== gpu check: $( (( failed )) && echo FAILED || echo passed ) in $(( SECONDS - start )) s"
exit $failed
