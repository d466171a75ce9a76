#!/usr/bin/env bash
# Installs, only when missing, the independent tools the tests check the operator's output
# with: Chromium (the portal, driven by chromedp), Python's icalendar and the npm packages
# ical.js and axe-core pinned in test/js. Debian packages need root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
/usr/bin/python3 -c 'import icalendar' 2>/dev/null || need+=(python3-icalendar)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v promtool >/dev/null || need+=(prometheus)
if ((${#need[@]})); then
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	echo "installing ${need[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# node_modules/.installed-from is the lock file it was installed from.
if ! cmp -s test/js/package-lock.json test/js/node_modules/.installed-from 2>/dev/null; then
	(cd test/js && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-from)
fi
