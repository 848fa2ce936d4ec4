# orderlint CDS Hooks service. Build: docker build -t orderlint .
# Run:   docker run -p 8080:8080 -e ORDERLINT_TRUSTED_ISSUERS='{"https://ehr.example.org": "/keys/ehr-jwks.json"}' \
#          -e ORDERLINT_PUBLIC_BASE_URL=https://cds.example.org -v /path/keys:/keys:ro orderlint
# Bound to 0.0.0.0 the service refuses to start without JWT authentication configured (see README).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY linter ./linter
COPY profiles ./profiles
COPY knowledge/sources ./knowledge/sources
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 orderlint
COPY --from=build /install /usr/local
ENV ORDERLINT_DATABASE_URL=sqlite:////home/orderlint/orderlint.db \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER orderlint
WORKDIR /home/orderlint
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["orderlint", "serve", "--host", "0.0.0.0", "--port", "8080"]
