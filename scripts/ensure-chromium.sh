#!/usr/bin/env bash
# Runs before `npm test`: the browser tests drive Debian's chromium, which npm cannot install.
# Installs it with apt-get when missing (as root, as on CI); otherwise says how.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests (apt-get install chromium)..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "the browser tests need Debian's chromium at /usr/bin/chromium: run 'sudo apt-get install chromium' once" >&2
exit 1
