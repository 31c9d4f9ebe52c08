# One image for every service of the stack (api, web, trainer); docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY apps/api/package.json apps/api/
COPY apps/trainer/package.json apps/trainer/
COPY apps/web/package.json apps/web/
COPY prisma prisma
COPY prisma.config.ts ./
COPY scripts/bin scripts/bin
RUN npm ci --no-audit --no-fund

COPY . .
RUN npx prisma generate && npx next build apps/web

ENV DATA_DIR=/data
VOLUME ["/data"]
