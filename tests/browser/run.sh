#!/usr/bin/env bash
# GraphiQL in a real, offline browser: installs Debian's Chromium (and a CJK font for the
# screenshot) when missing, installs playwright-core, and runs graphiql.mjs against a server
# already running on loopback.
#
#   tests/browser/run.sh http://127.0.0.1:18181 [screenshot.png]
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -lt 1 ]; then
  echo "usage: $0 SERVER_URL [screenshot.png]   (e.g. http://127.0.0.1:18181)" >&2
  exit 2
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The demo data is Chinese; without a CJK font the screenshot shows boxes (the check reads text).
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error >/dev/null
node graphiql.mjs "$@"
