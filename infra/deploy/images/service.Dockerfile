# The chat service image without a Bento store (CI builds this one; `bentoml containerize` on
# infra/deploy/bentofile.yaml gives the equivalent). Build from the repository root:
#   docker build -f infra/deploy/images/service.Dockerfile -t naviyam/chat:$(git rev-parse --short HEAD) .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# torch first and pinned: a bare "torch" pulls a multi-GB CUDA build (see Makefile)
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY infra/ infra/
COPY models/ models/
COPY serving/ serving/
COPY feature_repo/ feature_repo/
COPY alembic.ini ./
RUN pip install --no-cache-dir --no-deps -e . && useradd --uid 10001 --create-home naviyam \
    && mkdir -p /var/lib/naviyam && chown naviyam /var/lib/naviyam
USER 10001
ENV BENTOML_DO_NOT_TRACK=true \
    NAVIYAM_DATA_DIR=/var/lib/naviyam \
    NAVIYAM_LOG_JSON=true \
    NAVIYAM_SERVING_WORKERS=1 \
    NAVIYAM_PG_EMBEDDED_FALLBACK=false \
    NAVIYAM_REDIS_EMBEDDED_FALLBACK=false
EXPOSE 3000
# the event spool lives under NAVIYAM_DATA_DIR/spool: mount a persistent volume there
ENTRYPOINT ["python", "-m", "bentoml", "serve", "serving.service:Naviyam", "--host", "0.0.0.0", "--port", "3000"]
