#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian machine (idempotent), then the npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# runtime: runc (default OCI runtime), conmon (one monitor per container), socat (carries stdin to
# conmon's SOCK_SEQPACKET attach socket), tini (tini-static for --init), attr (setfattr for overlay
# whiteouts and xattrs), busybox-static (the project's test images), systemd (socket activation tools),
# docker.io (a reference dockerd for the tests and benchmarks that compare against it), zstd (zstd
# layers), docker-registry and skopeo (a real registry and an independent client for the registry tests),
# openssl (the tests' CA and token-signing keys), netavark + aardvark-dns + iptables + iproute2 (networks),
# curl and docker-compose (v1: the networks tests drive compose as users do), podman (the client the
# libpod tests drive, and their oracle service) with catatonit (its --init), chromium and firefox-esr (the console's
# browser tests), cockpit-ws + cockpit-bridge + cockpit-podman (the GUI Debian ships for Podman, tested
# against berth), uidmap + slirp4netns + fuse-overlayfs (rootless: newuidmap/newgidmap map the user's
# subordinate ids, slirp4netns connects rootless networks, fuse-overlayfs where the kernel refuses
# overlayfs in a user namespace) and acl (the rootless tests give their user the tun device).
PACKAGES=(uidmap slirp4netns fuse-overlayfs acl runc crun conmon podman catatonit socat tini attr procps busybox-static systemd python3 docker.io zstd docker-registry skopeo openssl netavark aardvark-dns iptables iproute2 curl docker-compose python3-docker chromium firefox-esr cockpit-ws cockpit-bridge cockpit-podman)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "berth: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian docker.io package may start its own dockerd; berth's tests run a private one when needed.
# docker-registry's package starts a registry on :5000 where systemd runs; the tests start their own.
if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
# cockpit-ws's package listens on :9090 where systemd runs; the tests start their own cockpit-ws.
if [[ " ${missing[*]} " == *" cockpit-ws "* ]] && command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  systemctl disable --now cockpit.socket >/dev/null 2>&1 || true
fi
# `npm ci` installs exactly the committed lock (complete for every platform), so the tree stays clean.
# It is skipped when node_modules was installed from this very lock by this Node (a stamp holds both):
# npm ci starts by deleting node_modules, which would make every start and test run slow.
# A symlinked node_modules is another checkout's install (worktrees share one): never reinstall it.
stamp=node_modules/.berth-installed
want="$(sha256sum package-lock.json | cut -d' ' -f1) node $(node -v)"
if [ -L node_modules ]; then
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] || echo "berth: node_modules is a symlink to another checkout; not reinstalling it" >&2
elif [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-fund --no-audit
  echo "$want" >"$stamp"
fi
npm run -s build
