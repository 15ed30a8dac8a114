# Limen gateway image: build stage compiles TypeScript and native modules; the runtime stage
# carries only what runs, as a non-root user, with the data dir as a volume.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
COPY scripts scripts
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY anonymizer anonymizer
COPY config config
COPY storage storage
COPY pipeline pipeline
COPY gateway gateway
COPY models models
COPY ohif-extension ohif-extension
# The pinned, checksum-verified OHIF viewer (npm pack), then the build, then only runtime modules.
RUN npm rebuild better-sqlite3 && node scripts/fetch-ohif.mjs --strict && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    LIMEN_DATA_DIR=/var/lib/limen \
    LIMEN_HTTP_HOST=0.0.0.0
WORKDIR /app
# A fixed UID and GID (10001), so a volume or bind mount can be given to them before the first start.
RUN groupadd --system --gid 10001 limen && useradd --system --uid 10001 --gid limen --home /var/lib/limen limen \
 && mkdir -p /var/lib/limen && chown limen:limen /var/lib/limen
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/models models
COPY --from=build /app/viewer-dist viewer-dist
COPY --from=build /app/package.json package.json
RUN ln -s /app/dist/gateway/cli/main.js /usr/local/bin/limen && chmod +x /app/dist/gateway/cli/main.js
USER limen
VOLUME ["/var/lib/limen"]
# 2762: DICOM over TLS, when dimse.tls is configured.
EXPOSE 8080 11112 2762
# Reads the configuration as `limen start` does (LIMEN_CONFIG, the mounted file, LIMEN_* overrides),
# so it probes /healthz on the configured port, host and scheme.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["limen", "healthcheck"]
CMD ["limen", "start"]
