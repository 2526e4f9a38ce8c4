#!/usr/bin/env bash
# Runs before `npm test`: the metrics test scrapes the worker with a real Prometheus server
# (Debian's `prometheus` package), which npm cannot install. Installs it with apt-get when
# missing (as root, as on CI); otherwise says how. Only the binary is used: the test starts
# its own server (temporary config and storage, a free port), never the system service.
set -euo pipefail
[ -x /usr/bin/prometheus ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's prometheus for the metrics test (apt-get install prometheus)..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  exit 0
fi
echo "the metrics test needs Debian's prometheus at /usr/bin/prometheus: run 'sudo apt-get install prometheus' once" >&2
exit 1
