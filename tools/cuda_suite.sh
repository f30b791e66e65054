#!/usr/bin/env bash
# The CUDA parts of the suite, for a machine with a GPU (CI has none, so there they skip):
#   tools/cuda_suite.sh [OUTDIR]        (default reports/cuda)
# 1. tests/test_cuda.py (every SGD implementation, the mutants and the autograd models on cuda);
# 2. `torchlean-bridge check --device cpu --device cuda --mutants`: the verdict table recorded in
#    the README, with report.{json,md,html} under OUTDIR/check.
# Exit status: non-zero when either step fails. Works without installing the project
# (it runs the CLI from this checkout), so a bare GPU machine with torch, pydantic and jinja2 will do.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-reports/cuda}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 - <<'PY' | tee "$out/env.txt"
import datetime, platform, torch
print(f"date {datetime.date.today()}; torch {torch.__version__} (CUDA {torch.version.cuda}); "
      f"Python {platform.python_version()}")
print("device", torch.cuda.get_device_name() if torch.cuda.is_available() else "NONE: no CUDA device")
PY
python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py 2>&1 | tee "$out/pytest-cuda.log"
tests_rc=${PIPESTATUS[0]}
python3 -c 'import sys; from bridge.cli import main; sys.exit(main())' \
    check --device cpu --device cuda --mutants --report "$out/check" 2>&1 | tee "$out/check.log"
check_rc=${PIPESTATUS[0]}
echo "tests exit $tests_rc; check exit $check_rc" | tee -a "$out/env.txt"
[ "$tests_rc" = 0 ] && [ "$check_rc" = 0 ]
