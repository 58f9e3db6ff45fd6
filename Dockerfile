# syntax=docker/dockerfile:1
# Houston: multi-stage build, small runtime on Node 24 (the active LTS), non-root, health-checked.
# The service runs as the JavaScript `npm run build` emits (dist/: less memory and a faster
# start than compiling TypeScript at run time); the `houston` CLI runs the sources through
# tsx. test/ops/container.test.ts lints this file and runs its CMD and HEALTHCHECK from the
# repository exactly as written.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY reports ./reports
COPY migrations ./migrations
RUN npm run build

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="Houston" \
      org.opencontainers.image.description="DataOps mission control in Slack" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production \
    PORT=3000 \
    HOUSTON_DATA_DIR=/data
WORKDIR /app
# Owned by root and read-only for the node user: the process can write only to /data.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY commands ./commands
COPY reports ./reports
COPY migrations ./migrations
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# SIGTERM drains (readiness 503, in-flight deliveries finish) and exits within 10 s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations run at start, under an advisory lock, so several replicas can start together.
CMD ["node", "dist/src/main.js"]
