# Sekoia.io module image: the platform runs `<image> <docker_parameters>`, so the command name
# is appended to the entrypoint below and reaches dist/main.js as its first argument.

# Build stage: full dependencies, compile TypeScript to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# Runtime stage: production dependencies and compiled code only.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY schemas ./schemas
COPY manifest.json logo.svg CHANGELOG.md ./
RUN useradd --system --user-group --no-create-home --shell /usr/sbin/nologin sekoiaio-runtime
USER sekoiaio-runtime
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/main.js"]
