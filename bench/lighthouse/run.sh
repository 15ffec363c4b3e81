#!/usr/bin/env bash
# Lighthouse (mobile emulation, Lighthouse's default simulated throttling) on the login page,
# the supplier's synthèse (/) and the capture form, against the demo server on 127.0.0.1.
#
#   bash bench/lighthouse/run.sh            # from the repository root, after `make setup`
#
# Starts `facteur serve` on a fresh SQLite data folder with the demo data, logs in as the demo
# supplier with curl, and hands the session cookie to Lighthouse (--extra-headers). Prints one
# line per page (median of RUNS=3 runs, performance of each run in brackets) and keeps the
# JSON reports in $OUT (default: a temporary folder).
# Needs Chromium (CHROME_PATH, default /usr/bin/chromium) and `npm ci` in frontend/ (lighthouse
# is a pinned devDependency). No network beyond 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
PORT="${PORT:-8765}"
RUNS="${RUNS:-3}"
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d /tmp/facteur-lighthouse-XXXXXX)"
OUT="${OUT:-$DATA/reports}"
mkdir -p "$OUT"
LIGHTHOUSE="$ROOT/frontend/node_modules/.bin/lighthouse"
# lighthouse is a devDependency: install it (pinned by package-lock.json) when setup left it out.
[ -x "$LIGHTHOUSE" ] || (cd frontend && npm ci --include=dev --no-audit --no-fund --loglevel=error)

export FACTEUR_DATA_DIR="$DATA" FACTEUR_BASE_URL="$BASE"
unset FACTEUR_DATABASE_URL FACTEUR_REDIS_URL
.venv/bin/facteur migrate > "$DATA/migrate.log" 2>&1
DEMO="$(.venv/bin/facteur demo --json 2>/dev/null)"
EMAIL="$(printf '%s' "$DEMO" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["supplier"]["email"])')"
PASSWORD="$(printf '%s' "$DEMO" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["supplier"]["password"])')"

.venv/bin/facteur serve --host 127.0.0.1 --port "$PORT" > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -fsS "$BASE/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$BASE/healthz" > /dev/null

# Log in like a browser: the CSRF cookie and token from the form, then the session cookie.
JAR="$DATA/cookies.txt"
token() { grep -o 'name="_csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="\([^"]*\)"/\1/'; }
CSRF="$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/login" | token)"
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf_token=$CSRF" --data-urlencode "email=$EMAIL" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" "$BASE/login"
CSRF="$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/capture" | token)"
DRAFT="$(curl -fsS -o /dev/null -w '%{redirect_url}' -c "$JAR" -b "$JAR" --data-urlencode "_csrf_token=$CSRF" "$BASE/capture/drafts")"
COOKIE="$(sed 's/^#HttpOnly_//' "$JAR" | awk '!/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }')"
case "$COOKIE" in *facteur_session=*) ;; *) echo "login failed" >&2; cat "$JAR" >&2; exit 1 ;; esac

run() {  # name url [extra lighthouse args]: RUNS runs, the median of each score (as Lighthouse advises)
  local name="$1" url="$2"; shift 2
  for i in $(seq 1 "$RUNS"); do
    "$LIGHTHOUSE" "$url" --quiet --form-factor=mobile --screenEmulation.mobile \
      --only-categories=performance,accessibility,best-practices \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage" \
      --output=json --output-path="$OUT/$name-$i.json" "$@"
  done
  node -e '
    const [name, ...files] = process.argv.slice(1); const reports = files.map(f => require(f));
    const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const cat = k => median(reports.map(r => Math.round(r.categories[k].score * 100)));
    const num = k => median(reports.map(r => r.audits[k].numericValue));
    const all = k => reports.map(r => Math.round(r.categories[k].score * 100)).join("/");
    const shown = new URL(reports[0].finalDisplayedUrl).pathname;
    console.log(`| ${name} (${shown}) | ${cat("performance")} (${all("performance")}) | ${cat("accessibility")} | ${cat("best-practices")} | ` +
      `${Math.round(num("first-contentful-paint"))} ms | ${Math.round(num("largest-contentful-paint"))} ms | ${Math.round(num("total-blocking-time"))} ms | ` +
      `${num("cumulative-layout-shift").toFixed(3)} | ${Math.round(median(reports.map(r => r.environment.benchmarkIndex)))} |`);
  ' "$name" $(for i in $(seq 1 "$RUNS"); do echo "$OUT/$name-$i.json"; done)
}

echo "| page | performance (each run) | accessibility | best practices | FCP | LCP | TBT | CLS | benchmarkIndex |"
echo "|---|---|---|---|---|---|---|---|---|"
run login "$BASE/login"
run synthese "$BASE/" --extra-headers="{\"Cookie\": \"$COOKIE\"}"
run capture "$DRAFT" --extra-headers="{\"Cookie\": \"$COOKIE\"}"
echo "reports: $OUT" >&2
