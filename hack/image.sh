#!/usr/bin/env bash
# Builds a container image from a context staged with exactly the files it copies, with
# whichever engine the machine has (podman, then buildah, then docker when its daemon
# answers; IMAGE_ENGINE overrides), and writes it as an OCI archive. Podman and buildah
# are installed from Debian when no engine is present.
#
#   hack/image.sh --file Dockerfile --context bin/image-context \
#     --copy bin/manager:manager --copy /etc/ssl/certs/ca-certificates.crt \
#     --tag ghcr.io/cohort-dev/cohort-operator:v0.1.0 --build-arg VERSION=v0.1.0 \
#     --archive bin/cohort-operator-v0.1.0.oci.tar
#
# Every staged file gets the timestamp SOURCE_DATE_EPOCH (the commit's time by default)
# and the image is built with --timestamp of the same epoch and no build history, so two
# builds of one commit by one engine give the same image ID and manifest digest. The
# archive holds the first --tag. The last line printed is
# "image <tag> id=<image id> digest=<manifest digest> size=<size> archive=<path> (<bytes>)".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
file="" context="" archive=""
tags=() args=() copies=()
while (($#)); do
  case "$1" in
    --file) file=$2 ;;
    --context) context=$2 ;;
    --archive) archive=$2 ;;
    --tag) tags+=("$2") ;;
    --build-arg) args+=(--build-arg "$2") ;;
    --copy) copies+=("$2") ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
if [[ -z "$file" || -z "$context" || -z "$archive" || ${#tags[@]} == 0 || ${#copies[@]} == 0 ]]; then
  echo "usage: $0 --file F --context DIR --archive TAR --tag T... --copy SRC[:NAME]... [--build-arg K=V]..." >&2
  exit 2
fi
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}

# The context holds only the copied files, each with a fixed mode and timestamp.
rm -rf "$context"
mkdir -p "$context"
for c in "${copies[@]}"; do
  src=${c%%:*}
  name=$(basename "$src")
  [[ "$c" == *:* ]] && name=${c#*:}
  if [[ ! -f "$src" ]]; then
    echo "$src is missing (run make build first)" >&2
    exit 1
  fi
  cp "$src" "$context/$name"
  if [[ -x "$src" ]]; then chmod 0755 "$context/$name"; else chmod 0644 "$context/$name"; fi
  touch -d "@$epoch" "$context/$name"
done
touch -d "@$epoch" "$context"

engine=${IMAGE_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v podman > /dev/null; then engine=podman
  elif command -v buildah > /dev/null; then engine=buildah
  elif command -v docker > /dev/null && docker info > /dev/null 2>&1; then engine=docker
  else
    "$root/hack/ensure-packages.sh" podman=podman buildah=buildah runc=runc
    engine=podman
  fi
fi

if [[ "$engine" == podman ]]; then
  # Debian's podman brings crun, which this machine's cgroup layout refuses.
  "$root/hack/ensure-packages.sh" runc=runc
fi

tag_args=()
for t in "${tags[@]}"; do tag_args+=(--tag "$t"); done
mkdir -p "$(dirname "$archive")"
rm -f "$archive"
# The image the first tag named before this build: removed below once untagged, so
# rebuilds do not pile up unnamed images.
previous=$("$engine" image inspect --format '{{.Id}}' "${tags[0]}" 2> /dev/null || true)
case "$engine" in
  podman)
    # crun refuses this machine's hybrid cgroup layout and raising rlimits is not
    # permitted here: runc and explicit limits (nothing runs during this build anyway).
    podman --runtime runc build --quiet --file "$file" "${tag_args[@]}" "${args[@]}" \
      --timestamp "$epoch" --omit-history --identity-label=false --layers=false \
      --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$context" > /dev/null
    podman save --quiet --format oci-archive --output "$archive" "${tags[0]}"
    id=$(podman image inspect --format '{{.Id}}' "${tags[0]}")
    size=$(podman image inspect --format '{{.Size}}' "${tags[0]}")
    ;;
  buildah)
    buildah bud --quiet --file "$file" "${tag_args[@]}" "${args[@]}" \
      --timestamp "$epoch" --omit-history --identity-label=false --layers=false "$context" > /dev/null
    buildah push --quiet "${tags[0]}" "oci-archive:$archive:${tags[0]}"
    id=$(buildah inspect --type image --format '{{.FromImageID}}' "${tags[0]}")
    size=$(buildah images --noheading --format '{{.Size}}' "${tags[0]}" | head -n 1 | tr -d ' ')
    ;;
  docker)
    # BuildKit reads SOURCE_DATE_EPOCH for the image's timestamps.
    docker build --quiet --file "$file" "${tag_args[@]}" "${args[@]}" \
      --build-arg SOURCE_DATE_EPOCH="$epoch" "$context" > /dev/null
    docker save --output "$archive" "${tags[0]}"
    id=$(docker image inspect --format '{{.Id}}' "${tags[0]}")
    size=$(docker image inspect --format '{{.Size}}' "${tags[0]}")
    ;;
  *) echo "unknown IMAGE_ENGINE $engine (podman, buildah or docker)" >&2; exit 2 ;;
esac
if [[ -n "$previous" && "${previous#sha256:}" != "${id#sha256:}" ]]; then
  "$engine" rmi "$previous" > /dev/null 2>&1 || true
fi
digest=$(tar -xOf "$archive" index.json | sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' | head -n 1)
echo "image ${tags[0]} id=sha256:${id#sha256:} digest=${digest:-unknown} size=$size archive=$archive ($(stat -c %s "$archive") bytes)"
