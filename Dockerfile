# One image for every part of the product; docker-compose.yml picks the command per service.
# Stage 1 installs the whole workspace from the lockfile; stage 2 keeps only what runs.
FROM node:20-bookworm-slim AS deps
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY tooling ./tooling
COPY packages ./packages
COPY apps ./apps
COPY test/package.json ./test/package.json
RUN pnpm install --frozen-lockfile

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=deps /app /app
USER node
# The simulator's CLI; other services override the command.
ENTRYPOINT ["node", "--conditions=source", "--import", "tsx"]
CMD ["packages/eks-sim/src/cli/main.ts", "serve", "--world", "demo", "--port", "4510", "--host", "eks-sim", "--bind", "0.0.0.0"]
