# syntax=docker/dockerfile:1
#
# One image for every caseflow process. The command picks the process:
#   caseflow api        the HTTP API (the default)
#   caseflow worker     a Temporal worker (scale these out)
#   caseflow projector  the projection updater
#   caseflow migrate    apply the event store's migrations, then exit
# Configuration is read from the environment (caseflow/settings.py); see docs/deployment.md.
#
# Build:  docker build -t caseflow .

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# build: install the locked dependencies and caseflow itself into a virtual environment
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/caseflow
ENV PATH=/opt/caseflow/bin:$PATH

WORKDIR /src

# Dependencies first, in their own layer: they change far less often than our code.
# requirements.lock is `uv pip compile --generate-hashes` output: every package is pinned and
# checked against its hash; anything unpinned or mismatched fails the build.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then caseflow itself, without resolving anything again (its dependencies are all locked above).
COPY pyproject.toml README.md ./
COPY caseflow ./caseflow
COPY domain ./domain
COPY store ./store
COPY activities ./activities
COPY workflows ./workflows
COPY integrations ./integrations
COPY api ./api
COPY workers ./workers
RUN pip install --no-deps . \
    && caseflow --help > /dev/null

# ---------------------------------------------------------------------------------------------
# runtime: the virtual environment only, run as an unprivileged user
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="caseflow" \
      org.opencontainers.image.description="Event-sourced child-welfare case engine on Temporal and PostgreSQL" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 caseflow \
    && useradd --system --uid 10001 --gid caseflow --create-home --home-dir /home/caseflow \
       --shell /usr/sbin/nologin caseflow

COPY --from=build /opt/caseflow /opt/caseflow

ENV PATH=/opt/caseflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CASEFLOW_API_HOST=0.0.0.0

WORKDIR /home/caseflow
USER 10001:10001

EXPOSE 8000

CMD ["caseflow", "api"]
