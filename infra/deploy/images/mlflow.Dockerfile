# MLflow tracking server: PostgreSQL backend store, S3-compatible artifact store, served through
# the server (--serve-artifacts), so clients need no bucket credentials. The MLflow pin of the lock.
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir mlflow==3.17.2 psycopg2-binary==2.9.13 boto3
EXPOSE 5000
# backend and artifact locations come from the environment (MLFLOW_BACKEND_STORE_URI,
# MLFLOW_ARTIFACTS_DESTINATION): see infra/deploy/k8s/base/mlflow/
ENTRYPOINT ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--serve-artifacts"]
