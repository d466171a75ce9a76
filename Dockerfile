# The operator's image: the static manager binary, the CA bundle and nothing else. The
# same image runs the manager (/manager) and, with "portal" as its first argument, every
# cohort's portal.
#
# It is built from bin/image-context, which `make image` (hack/image.sh) stages with
# exactly the two files copied here, so no engine pulls anything and a build of one
# commit gives one digest:
#
#   make build && make image
#   # or by hand, with any engine, from the staged context:
#   podman build -f Dockerfile bin/image-context
FROM scratch

ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=https://github.com/cohort-dev/cohort-operator
ARG LICENSES=NOASSERTION

LABEL org.opencontainers.image.title="cohort-operator" \
      org.opencontainers.image.description="A Kubernetes operator for learning cohorts, and its per-cohort portals" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="${LICENSES}"

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY manager /manager

# The distroless "nonroot" user: numeric, so that runAsNonRoot is verifiable without
# an /etc/passwd.
USER 65532:65532
ENTRYPOINT ["/manager"]
