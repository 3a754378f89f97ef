#!/usr/bin/env bash
# Run ftbench on the lent GPU machine (no network) from the packs prepare.sh made: call it from
# the repository root there, with the packs named in `carry`. README.md beside this file.
#
#   remote.sh setup                  install the carried wheels, unpack the carried data
#   remote.sh perf-h WORKERS STOP    perf case h at WORKERS workers, time-boxed to STOP
#   remote.sh dry-run NAME           `ftbench run NAME --dry-run`, its estimate kept in $OUT
#   remote.sh suite NAME STOP [ARGS] `ftbench run NAME` time-boxed to STOP, resumed from a
#                                    carried .gpu/state/NAME.tar.xz if there is one; its
#                                    folder comes back packed in $OUT
#
# Wheels go to /tmp/site and data to /tmp/ftdata: a folder in the checkout is gone at the next
# call, while /tmp stays as long as the machine is warm (30 s after a call).
set -uo pipefail
KIT=.gpu
SITE=/tmp/site
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1 FTBENCH_CACHE=/tmp/ftcache
export FTBENCH_DATA=/tmp/ftdata
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"

fail() { echo "remote: $*" >&2; exit 2; }

setup() {  # every carried pack: wheels installed, data unpacked (subset to /tmp/ftdata_h)
  local wheels=() pack
  shopt -s nullglob
  wheels=("$KIT"/*/*.whl)
  if [ ${#wheels[@]} -gt 0 ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$SITE" "${wheels[@]}" || fail "pip could not install the carried wheels"
  fi
  for pack in "$KIT"/*/*.tgz; do
    local into=$FTBENCH_DATA
    [[ $pack == "$KIT/cifar5_2000/"* ]] && into=/tmp/ftdata_h
    mkdir -p "$into" && tar -xzf "$pack" -C "$into" || fail "could not unpack $pack"
  done
  echo "remote: wheels in $SITE: $(ls "$SITE" 2>/dev/null | wc -l) entries;" \
    "data: $(ls /tmp/ftdata /tmp/ftdata_h 2>/dev/null | tr '\n' ' ')"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
  fi
}

perf_h() {  # WORKERS STOP: case h's 8-cell suite on the 2,000-per-class pool
  [ -d /tmp/ftdata_h/cifar10_5class ] || fail "the cifar5_2000 pack must be set up first"
  FTBENCH_DATA=/tmp/ftdata_h timeout 590 python3 -m benchmarks.perf.main --only h \
    --gpu-workers "$1" --gpu-stop-after "$2" --out "$OUT/h" 2>&1 | tee "$OUT/h.log" | grep "^|"
}

dry_run() {  # NAME: the suite's grid and time estimate measured on this machine
  python3 -c "import optuna, mlflow" 2>/dev/null || fail "run 'remote.sh setup' with the wheels first"
  python3 -m benchmarks.cli run "$1" --dry-run 2>&1 | tee "$OUT/$1.dry-run.txt"
}

suite() {  # NAME STOP [ARGS]: a time-boxed slice of a suite, its folder packed into $OUT
  local name=$1 stop=$2 state="$KIT/state/$1.tar.xz" rc
  shift 2
  python3 -c "import optuna, mlflow" 2>/dev/null || fail "run 'remote.sh setup' with the wheels first"
  rm -rf /tmp/results && mkdir -p /tmp/results
  if [ -f "$state" ]; then
    python3 -m benchmarks.cli unpack "$state" --results-dir /tmp/results || exit 2
  fi
  timeout 590 python3 -m benchmarks.cli run "$name" --results-dir /tmp/results \
    --stop-after "$stop" --no-progress "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  tail -n 40 "$OUT/$name.log"
  echo "remote: ftbench run exited $rc (3: stopped by --stop-after, to resume)"
  [ -d "/tmp/results/$name" ] && python3 -m benchmarks.cli pack "/tmp/results/$name" \
    --out "$OUT/$name.tar.xz"
  return $rc
}

case ${1:-} in
  setup) setup ;;
  perf-h) [ $# -eq 3 ] || fail "usage: remote.sh perf-h WORKERS STOP"; perf_h "$2" "$3" ;;
  dry-run) [ $# -eq 2 ] || fail "usage: remote.sh dry-run NAME"; dry_run "$2" ;;
  suite) [ $# -ge 3 ] || fail "usage: remote.sh suite NAME STOP [ftbench run args]"
         shift; suite "$@" ;;
  *) fail "the first argument must be setup, perf-h, dry-run or suite, but got '${1:-}'" ;;
esac
