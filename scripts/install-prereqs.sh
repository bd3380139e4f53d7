#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing boxbot need, and only the
# missing ones (apt-get update runs once, only when something is missing). Idempotent.
#   nats-server  the mesh broker the tests start (and `make run` uses if you configure a mesh)
#   python3      the interpreter sandbox jobs run in (Debian's, not a user-installed one)
#   python3-pip, python3-venv   the agent installs approved packages with Debian's pip into a venv
#   zlib1g-dev   Native AOT links against libz
#   clang        the Native AOT linker driver (gcc works too and is used when present)
#   util-linux, passwd   setpriv, unshare and useradd: the sandbox runner and the root tests
#   linux-libc-dev       kernel headers the seccomp tests check the syscall tables against
#   ca-certificates      TLS roots: network = internet jobs get /etc/ssl (a test checks they arrive)
#   --deb           also what `make deb` needs: lintian, help2man, binutils (strip)
#   --install-test  also what `make install-test` needs: debootstrap, systemd-container (systemd-nspawn)
#   systemd         systemd-analyze, which the unit tests run (offline; systemd need not be running)
#   RID=linux-arm64 on another machine (make publish/deb for a Pi on x86_64): the cross toolchain that
#                   cmd/Directory.Build.props links and strips with: gcc-aarch64-linux-gnu, its binutils
#                   (also aarch64-linux-gnu-strip for the .deb) and libc6-dev-arm64-cross (the arm64 C runtime);
#                   with --deb also qemu-user-static, which runs the arm64 `boxbot --help` for the man page
set -euo pipefail

extra=()
cross_deb=()
for arg in "$@"; do
    case "$arg" in
        --deb) extra+=(lintian help2man binutils); cross_deb=(qemu-user-static) ;;
        --install-test) extra+=(debootstrap systemd-container) ;;
        *) echo "install-prereqs: unknown option $arg (--deb, --install-test)" >&2; exit 2 ;;
    esac
done

if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-prereqs: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
    exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

case "${RID:-}:$(uname -m)" in
    linux-arm64:aarch64 | linux-arm64:arm64 | :*) ;;
    linux-arm64:*) extra+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross "${cross_deb[@]}") ;;
esac

need=()
for package in nats-server python3 python3-pip python3-venv zlib1g-dev util-linux passwd linux-libc-dev ca-certificates systemd "${extra[@]}"; do
    installed "$package" || need+=("$package")
done
if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    need+=(clang)
fi

if ((${#need[@]} == 0)); then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-prereqs: installing Debian packages: ${need[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-prereqs: done"
