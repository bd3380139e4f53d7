#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make prereqs`, only when missing (idempotent):
#   wrk    the HTTP load generator the webhook benchmark drives (LuaJIT scripts)
#   nginx  the baseline the webhook is measured against; the benchmark runs its own instance
#          (own config, loopback, temp prefix), never the packaged service
# Installing nginx may start Debian's nginx service on port 80 (where services start on
# install); if this script installed it and that service is running, it is stopped again.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need=()
for package in wrk nginx; do
    installed "$package" || need+=("$package")
done
if ((${#need[@]} == 0)); then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "bench-prereqs: installing Debian packages: ${need[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [[ " ${need[*]} " == *" nginx "* ]] && [ -s /run/nginx.pid ] && $sudo kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    echo "bench-prereqs: stopping the nginx service the package started (the benchmark runs its own)"
    $sudo service nginx stop >/dev/null 2>&1 || $sudo kill "$(cat /run/nginx.pid)"
fi
echo "bench-prereqs: done"
