FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY schemas schemas
COPY detectors detectors
COPY streams streams
COPY grafana grafana
RUN pip install --no-cache-dir uv==0.13.9 && uv pip install --system --no-cache ".[embed]"
ENV HF_HUB_OFFLINE=1 SEISMO_DATA_DIR=/var/lib/seismo
CMD ["seismo", "worker"]
