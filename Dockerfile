# syntax=docker/dockerfile:1
#
# One image for otp-relay's processes (docker-compose.yml wires them up):
#   API (default command)  node apps/api/dist/main.js
#   delivery worker        node apps/worker/dist/main.js
# and one command, `otp-relay`, for the operator tools (`otp-relay --help` lists them), e.g.
#   docker compose exec api otp-relay lookup ann@example.com
#   otp-relay migrate                database migrations (reads DATABASE_URL, DATABASE_SCHEMA)
#   otp-relay check                  the providers' credentials and channels (--send-to to send one)
#   otp-relay lookup <email|phone>   a shopper's recent flows and deliveries, masked
#   otp-relay dlq-replay             send dead deliveries again
#   otp-relay jwt-keygen             a new token signing key and the rotated JWT_SIGNING_KEYS
#   otp-relay messages-render --out /tmp/messages   every message, for review
# Each runs the built entry point apps/cli/src/otp-relay-commands.ts names (`node <that file>`
# works too).
#
# Debian (glibc), not Alpine: @node-rs/argon2 ships prebuilt glibc binaries (linux-x64-gnu,
# linux-arm64-gnu), and pnpm installs the one matching the platform the image is built for.

# Node 24 LTS (Node 20's support ended in April 2026); the code also runs on Node 20.19+.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# The pnpm that CI uses (.ci/run). Installed with npm: corepack is unreliable here.
ARG PNPM_VERSION=12.21.0
RUN npm install -g pnpm@${PNPM_VERSION} && pnpm --version

ENV pnpm_config_store_dir=/pnpm/store

WORKDIR /src

# Manifests first, so the dependency layer is rebuilt only when one of them changes.
# A new workspace package needs its package.json added here (and below, if it ships).
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# Fixes applied to dependencies at install (pnpm patchedDependencies; why in each file).
COPY patches/ patches/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY apps/demo/package.json apps/demo/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/testkit/package.json packages/testkit/
COPY packages/local-services/package.json packages/local-services/
COPY packages/client/package.json packages/client/
RUN --mount=type=cache,id=otp-relay-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile

COPY . .
RUN pnpm build

# Production tree: the built workspace without tests, sources or dev tooling, laid out as in the
# repository (so every entry point above keeps its path, packages/db/dist finds ../migrations
# and apps/worker/dist its message catalogues and email templates in ../templates), with production dependencies only, taken from the store filled above
# (--prefer-offline, not --offline: the cache mount may have been pruned since that layer was built).
# packages/testkit and packages/local-services are left out on purpose: tests and pnpm dev use
# them only; pnpm skips their lockfile entries.
# So is packages/client: the demo page (apps/demo/dist, which the API serves when DEMO_PAGE is on)
# has it bundled in.
RUN set -eu; \
    for dir in apps/api apps/worker apps/cli apps/demo packages/core packages/db; do \
      mkdir -p "/prod/$dir"; \
      cp -R "$dir/package.json" "$dir/dist" "/prod/$dir/"; \
    done; \
    cp -R packages/db/migrations /prod/packages/db/; \
    cp -R apps/worker/templates /prod/apps/worker/; \
    cp -R package.json pnpm-lock.yaml pnpm-workspace.yaml patches /prod/; \
    find /prod/apps /prod/packages -name '*.tsbuildinfo' -delete
WORKDIR /prod
RUN --mount=type=cache,id=otp-relay-pnpm-store,target=/pnpm/store \
    pnpm install --prod --frozen-lockfile --prefer-offline

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# HOST: the API's default (127.0.0.1) is unreachable from outside a container.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app
# Owned by root and read-only to the app user: nothing writes here at run time.
COPY --from=build /prod ./
# The operators' one command, on PATH for every user.
RUN printf '#!/bin/sh\nexec node /app/apps/cli/dist/otp-relay.js "$@"\n' > /usr/local/bin/otp-relay \
    && chmod 755 /usr/local/bin/otp-relay

USER node
# 3000: the shop-facing API. 3001: the operators' listener (ADMIN_PORT: Bull Board, /metrics, /docs),
# on loopback unless ADMIN_HOST says otherwise (docker-compose.yml sets 0.0.0.0 and publishes it on
# the host's loopback only).
EXPOSE 3000 3001

# The health check lives in docker-compose.yml, on the api service only: this image also runs
# the worker and the one-shot migration, which serve no HTTP.
CMD ["node", "apps/api/dist/main.js"]
