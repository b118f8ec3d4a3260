# Multi-stage build for every process of the product; docker-compose.yml picks a target per service.
#   build      installs the workspace from the lockfile and compiles every package to dist/
#   runtime    production dependencies only, compiled code, non-root
#   api | sync-worker | provisioner | uploader | c1-standin | eks-sim | cli   one target per process
FROM node:24.22.3-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true TURBO_TELEMETRY_DISABLED=1
RUN npm install -g pnpm@12.4.2
WORKDIR /app

FROM base AS build
# better-sqlite3 and zstd-napi may compile from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pnpm install --frozen-lockfile
RUN pnpm build
# Keep only what runs: production dependencies of every workspace package.
RUN pnpm install --frozen-lockfile --prod

FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=build /app /app
USER node

FROM runtime AS api
EXPOSE 8080
CMD ["node", "apps/api/dist/main.js"]

FROM runtime AS sync-worker
CMD ["node", "apps/sync-worker/dist/main.js"]

FROM runtime AS provisioner
CMD ["node", "apps/provisioner/dist/main.js"]

FROM runtime AS uploader
CMD ["node", "apps/uploader/dist/main.js"]

# A local stand-in for ConductorOne (token endpoint, BatonService, admin API), for docker compose.
FROM runtime AS c1-standin
EXPOSE 50051 8089
CMD ["node", "packages/c1/dist/standin/main.js", "--host", "0.0.0.0", "--port", "50051", "--token-port", "8089"]

FROM runtime AS eks-sim
EXPOSE 4510
CMD ["node", "packages/eks-sim/dist/cli/main.js", "serve", "--world", "demo", "--port", "4510", "--bind", "0.0.0.0"]

FROM runtime AS cli
ENTRYPOINT ["node", "apps/cli/dist/main.js"]
