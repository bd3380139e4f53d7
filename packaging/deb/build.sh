#!/usr/bin/env bash
# Builds out/deb/boxbot_<version>_<arch>.deb with dpkg-deb from the published executables ($BIN, default
# out/bin; `make deb` publishes first, and with RID=linux-arm64 for a Pi passes out/bin-linux-arm64), then
# runs lintian on it. The architecture is read from the executables themselves, so an arm64 publish gives an
# arm64 package.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN="${BIN:-out/bin}"
OUT="${OUT:-out/deb}"
for exe in boxbot boxbot-agent boxbot-sandbox boxbot-webhook boxbot-perception boxbot-plugin-host; do
    [ -x "$BIN/$exe" ] || { echo "deb: $BIN/$exe is missing: run make publish first" >&2; exit 1; }
done
for tool in dpkg-deb lintian help2man; do
    command -v "$tool" >/dev/null || { echo "deb: $tool is missing (make deb installs it: scripts/install-prereqs.sh --deb)" >&2; exit 1; }
done

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
# e_machine of the ELF header (offset 18): 0x3e x86_64, 0xb7 aarch64.
case "$(od -An -tx2 -j18 -N2 "$BIN/boxbot" | tr -d ' ')" in
    003e) arch=amd64 ;;
    00b7) arch=arm64 ;;
    *) echo "deb: $BIN/boxbot is neither x86_64 nor aarch64" >&2; exit 1 ;;
esac

# The man page comes from running `boxbot --help`. An arm64 package built on another machine runs it under
# qemu-user with the cross C library (qemu-user-static, libc6-arm64-cross: install-prereqs.sh --deb with
# RID=linux-arm64), so the page is the real one rather than the shell's complaint about an ELF file.
cli="$BIN/boxbot"
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    [ "$arch" = arm64 ] && command -v qemu-aarch64-static >/dev/null || {
        echo "deb: $BIN/boxbot is $arch and cannot run here for the man page (qemu-aarch64-static is missing)" >&2
        exit 1
    }
    wrap="$(mktemp -d)"
    trap 'rm -rf "$wrap"' EXIT
    printf '#!/bin/sh\nexec qemu-aarch64-static -L /usr/aarch64-linux-gnu %q "$@"\n' "$(realpath "$BIN/boxbot")" >"$wrap/boxbot"
    chmod 0755 "$wrap/boxbot"
    cli="$wrap/boxbot"
fi
"$cli" --version >/dev/null || { echo "deb: $BIN/boxbot --version failed" >&2; exit 1; }

stage="$OUT/stage-$arch"
rm -rf "$stage"
umask 022
install -d "$stage/DEBIAN" "$stage/usr/lib/boxbot" "$stage/usr/bin" "$stage/lib/systemd/system" \
    "$stage/usr/lib/tmpfiles.d" "$stage/usr/share/doc/boxbot" "$stage/usr/share/boxbot" "$stage/usr/share/man/man1" \
    "$stage/usr/share/lintian/overrides"

# Executables and what they load from their own folder (SQLite, built-in skills, the sandbox's Python runtime).
for exe in boxbot boxbot-agent boxbot-sandbox boxbot-webhook boxbot-perception boxbot-plugin-host; do
    install -m 0755 "$BIN/$exe" "$stage/usr/lib/boxbot/$exe"
done
install -m 0644 "$BIN/libe_sqlite3.so" "$stage/usr/lib/boxbot/libe_sqlite3.so"
# NuGet's SQLite library comes with its symbols; the package ships it stripped (aarch64-linux-gnu-strip for arm64
# on another machine).
strip_tool="strip"
if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    strip_tool=aarch64-linux-gnu-strip
fi
"$strip_tool" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/lib/boxbot/libe_sqlite3.so"
cp -r "$BIN/skills" "$BIN/sandbox-runtime" "$stage/usr/lib/boxbot/"
find "$stage/usr/lib/boxbot/skills" "$stage/usr/lib/boxbot/sandbox-runtime" -name __pycache__ -prune -exec rm -rf {} +
find "$stage/usr/lib/boxbot/skills" "$stage/usr/lib/boxbot/sandbox-runtime" -type d -exec chmod 0755 {} +
find "$stage/usr/lib/boxbot/skills" "$stage/usr/lib/boxbot/sandbox-runtime" -type f -exec chmod 0644 {} +
install -m 0755 scripts/harden-os.sh "$stage/usr/lib/boxbot/harden-os.sh"
ln -s ../lib/boxbot/boxbot "$stage/usr/bin/boxbot"

# Units, the socket folder, the example config.
install -m 0644 systemd/*.service systemd/*.socket systemd/*.path "$stage/lib/systemd/system/"
install -m 0644 systemd/boxbot-tmpfiles.conf "$stage/usr/lib/tmpfiles.d/boxbot.conf"
install -m 0644 packaging/boxbot.example.toml "$stage/usr/share/boxbot/boxbot.example.toml"

# Documentation: the README, docs/, the man page (from the CLI's own --help), copyright, changelog.
install -m 0644 README.md docs/*.md "$stage/usr/share/doc/boxbot/"
install -m 0644 packaging/deb/copyright "$stage/usr/share/doc/boxbot/copyright"
{
    echo "boxbot ($version) unstable; urgency=medium"
    echo
    echo "  * Release $version; see /usr/share/doc/boxbot/README.md."
    echo
    echo " -- boxbot maintainers <maintainers@boxbot.invalid>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$stage/usr/share/doc/boxbot/changelog.gz"
help2man --no-info --no-discard-stderr --section 1 --name "administer a boxbot assistant box" \
    --version-string "$version" "$cli" | gzip -9n >"$stage/usr/share/man/man1/boxbot.1.gz"
install -m 0644 packaging/deb/lintian-overrides "$stage/usr/share/lintian/overrides/boxbot"

# Maintainer scripts and control.
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: boxbot
Version: $version
Architecture: $arch
Maintainer: boxbot maintainers <maintainers@boxbot.invalid>
Installed-Size: $size
Depends: adduser, passwd, systemd, libc6 (>= 2.36), libssl3, python3 (>= 3.11), python3-venv, python3-pip, ca-certificates, nats-server
Recommends: libportaudio2, nftables
Section: misc
Priority: optional
Homepage: https://github.com/boxbot/boxbot
Description: security-first AI assistant appliance
 boxbot is an assistant box for a Raspberry Pi 5: it talks to its household over
 WhatsApp, voice, a touchscreen and buttons; an LLM agent answers, remembers and
 writes small Python scripts that run in a kernel-enforced sandbox.
 .
 This package holds the five daemons (each a hardened systemd unit under its own
 user), the household mesh broker's units (Debian's nats-server), the boxbot
 command, the sandbox's Python runtime, and scripts to harden the host.
CONTROL
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

deb="$OUT/boxbot_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "deb: $deb"
if [ "${LINTIAN:-1}" = 1 ]; then
    # lintian warns about running as root (CI does); that line is noise, everything else is shown.
    if ! report="$(lintian --fail-on error,warning "$deb" 2>&1)"; then
        grep -v '^running with root privileges' <<<"$report" >&2
        echo "deb: lintian found errors or warnings (justified ones go in packaging/deb/lintian-overrides)" >&2
        exit 1
    fi
    grep -v '^running with root privileges' <<<"$report" || true
    echo "deb: lintian clean at error and warning level (overrides: packaging/deb/lintian-overrides)"
fi
