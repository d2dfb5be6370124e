#!/usr/bin/env bash
# Smoke test of the README's start command: start the broker on its embedded default, fetch the
# metadata and JWKS, stop it by the PID of the process group this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

data=$(mktemp -d)
log="$data/serve.log"
port=${SMOKE_PORT:-7420}
export MANDATE_DATA="$data/.mandate" MANDATE_PORT="$port"

setsid npm start >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/.well-known/oauth-authorization-server" >"$data/meta.json" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "smoke: broker exited early"; exit 1; }
  sleep 0.2
done

node -e '
const meta = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const want = `http://localhost:${process.argv[2]}`;
if (meta.issuer !== want) throw new Error(`issuer ${meta.issuer} != ${want}`);
if (meta.jwks_uri !== `${want}/jwks`) throw new Error(`jwks_uri ${meta.jwks_uri}`);
' "$data/meta.json" "$port"
curl -fsS "http://127.0.0.1:$port/jwks" | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const { keys } = JSON.parse(s);
  if (!keys.length || keys.some((k) => "d" in k)) throw new Error("jwks must hold public keys only");
});'
[ "$(stat -c %a "$MANDATE_DATA/admin-token")" = 600 ] || { echo "smoke: admin-token is not 0600"; exit 1; }
echo "smoke: metadata issuer and jwks ok on port $port (pid $pid)"
