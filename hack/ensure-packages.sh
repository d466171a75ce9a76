#!/usr/bin/env bash
# Installs Debian packages only when a command they provide is missing.
# Usage: hack/ensure-packages.sh COMMAND=PACKAGE...
# Each argument names a command (a name on PATH or an absolute path) and the Debian
# package that provides it; the missing ones are installed together with
# apt-get install --no-install-recommends. Nothing is done when every command is present.
set -euo pipefail

missing=()
for pair in "$@"; do
  cmd=${pair%%=*}
  pkg=${pair#*=}
  if [[ "$cmd" == /* ]]; then
    [[ -e "$cmd" ]] && continue
  elif command -v "$cmd" > /dev/null 2>&1; then
    continue
  fi
  missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "missing Debian packages: ${missing[*]}; install them as root" >&2
  exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
