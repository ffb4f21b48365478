# The Dagster code location as its own image: a gRPC server over orchestration.definitions. The
# webserver and daemon run Dagster's own images (Helm chart); runs launched by the K8sRunLauncher
# use this image too. Build from the repository root:
#   docker build -f infra/deploy/images/dagster-code.Dockerfile -t naviyam/dagster-code:$(git rev-parse --short HEAD) .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 git && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/dagster/app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements.lock pyproject.toml ./
# the cluster pieces of Dagster, at the version of the dagster pin in the lock
RUN pip install --no-cache-dir -r requirements.lock dagster-postgres==0.29.27 dagster-k8s==0.29.27
COPY infra/ infra/
COPY models/ models/
COPY serving/ serving/
COPY feature_repo/ feature_repo/
COPY orchestration/ orchestration/
COPY dbt_project/ dbt_project/
COPY alembic.ini ./
RUN pip install --no-cache-dir --no-deps -e .
ENV NAVIYAM_DATA_DIR=/var/lib/naviyam \
    NAVIYAM_LOG_JSON=true \
    NAVIYAM_PG_EMBEDDED_FALLBACK=false \
    NAVIYAM_REDIS_EMBEDDED_FALLBACK=false \
    DAGSTER_HOME=/opt/dagster/dagster_home
EXPOSE 3030
ENTRYPOINT ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "3030", "-m", "orchestration.definitions"]
