# syntax=docker/dockerfile:1
#
# Cairn server image. Build: `docker build -t cairn .`; run a three-member cluster:
# `docker compose up` (see docker-compose.yml).
#
# Stage 1 compiles the TypeScript with the full toolchain; stage 2 is a slim runtime holding only
# the compiled code and the production dependencies, run as the image's non-root `node` user.

FROM node:20-bookworm AS build
WORKDIR /src

# Dependencies first, so a source change does not reinstall them.
# --ignore-scripts: the root package's "prepare" script runs tsc and the sources are not here yet.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# lmdb and msgpackr-extract load prebuilt binaries from their optional packages; their install
# step only compiles from source where no prebuild exists (python3, make and g++ are in this image).
RUN npm rebuild lmdb msgpackr-extract

COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p . && test -f dist/src/bin/cairn.js

# Drop devDependencies (typescript, tsx, test tools) before copying node_modules out.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund


FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /opt/cairn

# package.json is read at run time for the version (dist/src/api/version.js looks two folders up).
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src

# Data lives in /var/lib/cairn, owned by `node` (uid 1000), so a fresh named volume mounted there
# starts with the right owner. Members use a subdirectory (--data-dir=/var/lib/cairn/data): a
# filesystem root may hold lost+found, and the data dir should hold only Cairn's files.
RUN mkdir -p /var/lib/cairn && chown node:node /var/lib/cairn
VOLUME ["/var/lib/cairn"]
# The lowest-precedence way to set it (ETCD_ < CAIRN_ < flag), so any of the three overrides it.
ENV ETCD_DATA_DIR=/var/lib/cairn/data

USER node
EXPOSE 2379 2380

# /health answers 200 {"health":"true"} when the member can serve a linearizable read, 503
# otherwise. HEALTHCHECK_URL (deliberately not CAIRN_*: cairn refuses unknown CAIRN_ variables)
# points it elsewhere when the client port is not 2379.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:2379/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Flags go after the image name (or in compose's `command:`); ETCD_*/CAIRN_* variables work too.
# node runs as PID 1 and handles SIGTERM itself (bin/cairn.ts closes the store cleanly).
ENTRYPOINT ["node", "/opt/cairn/dist/src/bin/cairn.js"]
CMD ["--listen-client-urls=http://0.0.0.0:2379", "--advertise-client-urls=http://localhost:2379", "--listen-peer-urls=http://0.0.0.0:2380"]
