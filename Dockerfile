# tandem in a container. From a checkout:
#   docker build -t tandem .
#   docker run -d --name tandem -p 53:53/udp -p 53:53/tcp -p 127.0.0.1:8053:8053 -v tandem:/var/lib/tandem tandem
# Zone files: /var/lib/tandem/zones (the demo zone until you put yours there; the admin API writes them), keys
# and state: /var/lib/tandem/state (API token: state/api-token). `docker kill -s HUP tandem` re-reads the zones.
# test/package/package.test.ts checks this file: what it COPYs, and its CMD run as the non-root user.

# Build stage: the package exactly as `npm pack` makes it (prepack builds dist/).
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE ./
COPY src/ src/
COPY demo/ demo/
# Batched UDP (native/udpio.c, README "UDP in batches"): built by prepack with the C compiler and the image's Node
# headers; the runtime stage has the same base, so the addon loads there. Without it tandem uses Node's dgram.
COPY native/udpio.c native/
COPY scripts/build-native.mjs scripts/
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
RUN npm pack --pack-destination /tmp && mv /tmp/tandem-*.tgz /tmp/tandem.tgz

# Runtime: the packed tarball installed as `npm install -g` would, run by an unprivileged user.
FROM node:20-slim
COPY --from=build /tmp/tandem.tgz /tmp/tandem.tgz
RUN npm install -g --omit=dev --no-audit --no-fund /tmp/tandem.tgz \
 && rm /tmp/tandem.tgz && npm cache clean --force \
 && groupadd --system tandem \
 && useradd --system --gid tandem --home-dir /var/lib/tandem --shell /usr/sbin/nologin tandem \
 && mkdir -p /var/lib/tandem/zones /var/lib/tandem/state \
 && cp /usr/local/lib/node_modules/tandem/demo/zones/* /var/lib/tandem/zones/ \
 && chown -R tandem:tandem /var/lib/tandem && chmod -R go-rwx /var/lib/tandem
USER tandem
VOLUME /var/lib/tandem
EXPOSE 53/udp 53/tcp 8053
# Port 53 as a non-root user needs no capability here: Docker (20.10+) sets net.ipv4.ip_unprivileged_port_start=0
# in the container's network namespace. The admin API listens on every container address so -p can publish it;
# publish it on loopback only (as above).
CMD ["tandem", "serve", "--zones", "/var/lib/tandem/zones", "--state", "/var/lib/tandem/state", "--listen", "0.0.0.0:53", "--api", "0.0.0.0:8053"]
