# Multi-stage build for every process of the product; docker-compose.yml picks a target per service.
#   deps       the workspace's dependencies, from the manifests and the lockfile only: a source edit
#              keeps this layer (the slow one) and rebuilds from `build` on
#   build      compiles every package to dist/, then `pnpm deploy --prod` writes one production tree
#              per process to /out/<process> (its own dist/ and only the dependencies it imports),
#              stripped by tooling/docker/prune-deploy.sh
#   api | sync-worker | provisioner | uploader | watcher | c1-standin | eks-sim | cli   one target per process:
#              its tree in /app, owned by root and read-only to the process, run as node (uid 1000)
# Every target runs `node dist/...` from /app, as deploy/kubernetes/ does.
FROM node:24.22.3-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true TURBO_TELEMETRY_DISABLED=1
RUN npm install -g pnpm@12.4.2
WORKDIR /src

FROM base AS deps
# Native addons compile from source when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
# Every workspace manifest (test/deploy/docker.test.ts checks this list against the workspace).
COPY apps/api/package.json apps/api/
COPY apps/cli/package.json apps/cli/
COPY apps/provisioner/package.json apps/provisioner/
COPY apps/sync-worker/package.json apps/sync-worker/
COPY apps/uploader/package.json apps/uploader/
COPY apps/watcher/package.json apps/watcher/
COPY packages/c1/package.json packages/c1/
COPY packages/cli-kit/package.json packages/cli-kit/
COPY packages/db/package.json packages/db/
COPY packages/eks-core/package.json packages/eks-core/
COPY packages/eks-sim/package.json packages/eks-sim/
COPY packages/model/package.json packages/model/
COPY packages/queue/package.json packages/queue/
COPY packages/runtime/package.json packages/runtime/
COPY packages/worker-kit/package.json packages/worker-kit/
COPY test/package.json test/
COPY tooling/eslint/package.json tooling/eslint/
COPY tooling/typescript/package.json tooling/typescript/
COPY tooling/vitest/package.json tooling/vitest/
RUN pnpm install --frozen-lockfile

FROM deps AS build
COPY . .
RUN pnpm exec turbo run build --filter='./apps/*' --filter=@eks-access/eks-sim --filter=@eks-access/c1
RUN for p in api sync-worker provisioner uploader watcher cli eks-sim c1; do \
      pnpm --filter "@eks-access/$p" deploy --prod "/out/$p" >/dev/null && tooling/docker/prune-deploy.sh "/out/$p" || exit 1; \
    done

FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
USER node

# The workers cap V8's young generation at 16 MiB per semi-space (Node 20's size): Node 22+ sizes it
# from the machine's memory, which put an idle sync worker at 312 MiB RSS instead of 223 MiB, for
# no measurable speed (README, bench:sync and bench:fleet).
FROM runtime AS api
COPY --from=build /out/api /app
EXPOSE 8080
CMD ["node", "dist/main.js"]

FROM runtime AS sync-worker
COPY --from=build /out/sync-worker /app
ENV HEALTH_PORT=9464
EXPOSE 9464
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]

FROM runtime AS provisioner
COPY --from=build /out/provisioner /app
ENV HEALTH_PORT=9465
EXPOSE 9465
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]

FROM runtime AS watcher
COPY --from=build /out/watcher /app
ENV HEALTH_PORT=9467
EXPOSE 9467
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]

FROM runtime AS uploader
COPY --from=build /out/uploader /app
# c1z files are written here before upload (an emptyDir on Kubernetes).
USER root
RUN mkdir -p /var/lib/eks-access/uploads && chown -R node:node /var/lib/eks-access
USER node
ENV HEALTH_PORT=9466 WORK_DIR=/var/lib/eks-access/uploads
EXPOSE 9466
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]

# A local stand-in for ConductorOne (token endpoint, BatonService, admin API), for docker compose.
FROM runtime AS c1-standin
COPY --from=build /out/c1 /app
EXPOSE 50051 8089
CMD ["node", "dist/standin/main.js", "--host", "0.0.0.0", "--port", "50051", "--token-port", "8089"]

FROM runtime AS eks-sim
COPY --from=build /out/eks-sim /app
EXPOSE 4510
CMD ["node", "dist/cli/main.js", "serve", "--world", "demo", "--port", "4510", "--bind", "0.0.0.0"]

# The one-shot CLI writes where it is run (sync.c1z, ./demo-c1z/): /work, owned by node; mount a
# directory there to keep the files.
FROM runtime AS cli
COPY --from=build /out/cli /app
USER root
RUN mkdir -p /work && chown node:node /work
USER node
WORKDIR /work
ENTRYPOINT ["node", "/app/dist/main.js"]
