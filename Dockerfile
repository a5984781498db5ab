# syntax=docker/dockerfile:1
# fairspec server image: TypeScript built in one stage, only production node_modules, dist/ and
# the model pack in the runtime stage, running as the image's non-root `node` user.
#
#   docker build -t fairspec:local .          (needs models/default: the pack from
#                                              models/training/pipeline.py --pack models/default)
#   docker run --rm -p 127.0.0.1:8000:8000 fairspec:local

# ---- build: all dependencies, compile, then drop devDependencies ----------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# .npmrc keeps onnxruntime-node-install=skip: onnxruntime-node's postinstall would otherwise
# download CUDA binaries from outside the npm registry; its CPU binaries ship in the package.
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
COPY bin ./bin
COPY app.ts server.ts ./
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
# onnxruntime-node ships binaries for every OS and CPU (~300 MB) and loads
# bin/napi-v*/<platform>/<arch>/ only: keep this image's.
RUN arch="$(node -p process.arch)" \
 && for napi in node_modules/onnxruntime-node/bin/napi-v*; do \
      find "$napi" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + ; \
      find "$napi/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + ; \
    done \
 && test -f node_modules/onnxruntime-node/bin/napi-v*/linux/"$arch"/onnxruntime_binding.node

# ---- runtime ----------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    FAIRSPEC_PACK=/app/models/default
WORKDIR /app
# Owned by root and read-only to the server: it writes nothing to disk.
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY models/default ./models/default
USER node
EXPOSE 8000
# Liveness through /healthz with node itself: slim images have no curl or wget.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM itself; server.ts drains on it.
CMD ["node", "--no-memory-reducer", "dist/server.js"]
