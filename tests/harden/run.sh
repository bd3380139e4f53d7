#!/usr/bin/env bash
# Tests scripts/harden-os.sh on a real Debian bookworm system: first in a chroot (files only), then
# booted with systemd-nspawn on a private network, with a second network namespace as the "outside"
# (a veth pair, TEST-NET addresses 192.0.2.0/24 and 2001:db8::/64) that tries SSH, passwords, root, the
# webhook port and too many connections. Prints "ok - NAME" / "not ok - NAME" per check and a closing
# "N passed, N failed" line; exits non-zero when a check fails. Needs root. Leaves nothing behind.
#
#   HARDEN_TEST_ROOT=/path   a debootstrapped bookworm root (minbase, systemd, systemd-sysv, dbus) to copy;
#                            it is never modified. Without it a fresh one is debootstrapped (about a minute).
#   HARDEN_TEST_MIRROR=URL   Debian mirror for debootstrap; default: the first one in this machine's apt sources.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
script="$repo/scripts/harden-os.sh"
installed=/usr/lib/boxbot/harden-os.sh
passed=0
failed=0
work=""
nspawn_pid=""
client_pid=""

ok() {
    echo "ok - $1"
    passed=$((passed + 1))
}
not_ok() {
    echo "not ok - $1"
    failed=$((failed + 1))
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/#   /' | tail -n 40; fi
}
# check NAME COMMAND...: ok when the command succeeds.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

cleanup() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null
    stop_container
    if [ -n "$work" ] && [ -d "$work" ]; then
        rm -rf --one-file-system "$work"
    fi
    rmdir "/run/systemd/nspawn/propagate/$machine" 2>/dev/null || true
    return 0
}

stop_container() {
    [ -n "$nspawn_pid" ] || return 0
    # One SIGTERM asks systemd in the container to power off; a second one ends it at once.
    kill "$nspawn_pid" 2>/dev/null
    for _ in $(seq 1 40); do
        kill -0 "$nspawn_pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -9 "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
    nspawn_pid=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/harden/run.sh: needs root (systemd-nspawn, nsenter)" >&2
    exit 1
fi

# Host tools: systemd-nspawn, debootstrap, ip, ssh (the client on the "outside"), nsenter/unshare/setpriv.
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v ip >/dev/null || need+=(iproute2)
command -v ssh >/dev/null || need+=(openssh-client)
command -v nsenter >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
        echo "tests/harden/run.sh: could not install ${need[*]}" >&2
        exit 1
    fi
fi

debian_mirror() {
    if [ -n "${HARDEN_TEST_MIRROR:-}" ]; then
        echo "$HARDEN_TEST_MIRROR"
        return
    fi
    {
        awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -E '/debian/?$' | head -n 1
}

work=$(mktemp -d /tmp/harden-test.XXXXXX)
chmod 0755 "$work"
root="$work/root"
machine=root
packages=openssh-server,nftables,unattended-upgrades
if [ -n "${HARDEN_TEST_ROOT:-}" ]; then
    cp -a "$HARDEN_TEST_ROOT" "$root" || exit 1
    if ! systemd-nspawn -q -D "$root" --register=no --keep-unit sh -c \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages//,/ }" \
        >"$work/install.log" 2>&1; then
        cat "$work/install.log" >&2
        echo "tests/harden/run.sh: could not install $packages into the copy of $HARDEN_TEST_ROOT" >&2
        exit 1
    fi
else
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || {
        echo "tests/harden/run.sh: no Debian mirror in this machine's apt sources; set HARDEN_TEST_MIRROR" >&2
        exit 1
    }
    if ! debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,$packages" bookworm "$root" "$mirror" \
        >"$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log" >&2
        echo "tests/harden/run.sh: debootstrap failed" >&2
        exit 1
    fi
fi
install -D -m 0755 "$script" "$root$installed"

# Stand-ins for bluez's and avahi's units (the real packages need hardware or pull in much): enabled
# services that run, at the paths packages install units to.
for unit in bluetooth.service avahi-daemon.service; do
    printf '[Unit]\nDescription=stand-in for %s\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' \
        "$unit" >"$root/lib/systemd/system/$unit"
    ln -sf "/lib/systemd/system/$unit" "$root/etc/systemd/system/multi-user.target.wants/$unit"
done
ssh-keygen -q -t ed25519 -N "" -C harden-test -f "$work/key"
sum_nftables_conf=$(sha256sum <"$root/etc/nftables.conf")

# ---- 1. In a chroot (no systemd, no /proc; its own network namespace, in case it tried to load rules)
out=$(unshare --mount --net --fork chroot "$root" "$installed" --skip ssh 2>&1)
status=$?
check "chroot: exits 0" test "$status" = 0
check "chroot: says it did not load the rules" grep -q "not loaded into the kernel" <<<"$out"
check "chroot: rules file written with the header" grep -qx "# written by boxbot harden-os.sh" "$root/etc/nftables.d/boxbot.nft"
check "chroot: nftables.conf includes it" grep -q '^include "/etc/nftables.d/boxbot.nft"' "$root/etc/nftables.conf"
check "chroot: nftables.service enabled for boot" test -L "$root/etc/systemd/system/sysinit.target.wants/nftables.service"
check "chroot: bluetooth.service masked" test "$(readlink "$root/etc/systemd/system/bluetooth.service")" = /dev/null

# ---- 2. Booted
boot() {
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -D "$root" --boot --register=no --keep-unit --console=pipe -q \
        --private-network --system-call-filter=bpf --capability=CAP_NET_ADMIN,CAP_BPF,CAP_SYS_RESOURCE \
        </dev/null >>"$work/boot.log" 2>&1 &
    nspawn_pid=$!
    local _ state
    init=""
    for _ in $(seq 1 60); do
        init=$(pgrep -P "$nspawn_pid" | head -n 1)
        if [ -n "$init" ]; then
            state=$(nsenter -t "$init" -a systemctl is-system-running 2>/dev/null)
            case "$state" in running | degraded) return 0 ;; esac
        fi
        sleep 0.5
    done
    return 1
}
in_box() { nsenter -t "$init" -a "$@"; }
box_net() { nsenter -t "$init" -n "$@"; } # the container's network with this machine's tools (ip)
outside() { nsenter -t "$client_pid" -n "$@"; }
harden() { in_box "$installed" "$@" 2>&1; }
ssh_to() { # ssh_to ADDRESS USER [options...]
    local address=$1 user=$2
    shift 2
    outside ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=4 -o BatchMode=yes \
        -o LogLevel=ERROR -i "$work/key" "$@" "$user@$address" true
}
tcp_open() { outside timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
# "dropped" times out; "refused" (RST) means the firewall let it through to a closed port.
tcp_dropped() {
    local rc=0
    outside timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null || rc=$?
    [ "$rc" = 124 ]
}
tcp_passes() {
    local rc=0 out
    out=$(outside timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1) || rc=$?
    [ "$rc" = 0 ] || grep -q "refused" <<<"$out"
}
# The authentication methods sshd offers pi, as the client's "Permission denied (...)" lists them.
auth_methods() {
    outside ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=4 -o BatchMode=yes \
        -o PubkeyAuthentication=no pi@192.0.2.1 true 2>&1 | tee -a "$work/auth.log" | sed -n 's/.*Permission denied (\(.*\)).*/\1/p'
}
offers_password() {
    local methods
    methods=$(auth_methods)
    echo "sshd offers: $methods"
    [[ "$methods" == *password* ]]
}
not() { ! "$@"; }
unit_is() { [ "$(in_box systemctl is-enabled "$1" 2>/dev/null)" = "$2" ]; }
unit_running() { in_box systemctl -q is-active "$1"; }
masked_and_stopped() { unit_is "$1" masked && ! unit_running "$1"; }
enabled_and_running() { unit_is "$1" enabled && unit_running "$1"; }
# Output is captured first: "grep -q" on a pipe may exit early and fail the writer (pipefail).
sshd_says() {
    local effective
    effective=$(in_box sshd -T) && grep -qx "$1" <<<"$effective"
}
apt_says() {
    local dump
    dump=$(in_box apt-config dump) && grep -qxF "$1" <<<"$dump"
}
# Checksums of everything the script may touch, and the loaded rules (without the dynamic sets' elements).
fingerprint() {
    # shellcheck disable=SC2016 # expanded by the shell in the container
    in_box sh -c 'find /etc /var/lib/boxbot-harden -xdev \( -type f -o -type l \) 2>/dev/null | sort |
        while read -r f; do printf "%s %s\n" "$f" "$(readlink "$f" || sha256sum < "$f")"; done
        nft list chain inet boxbot input 2>/dev/null; nft list table inet boxbot 2>/dev/null | grep comment
        systemctl is-active bluetooth.service avahi-daemon.service ssh.service' | sha256sum
}

if ! boot; then
    not_ok "container boots" "$(tail -n 20 "$work/boot.log")"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "container boots"
check "boot: nftables.service loaded table inet boxbot (written in the chroot)" in_box nft list table inet boxbot
check "boot: bluetooth.service stays masked and stopped" masked_and_stopped bluetooth.service
# Undo the chroot's services step (units were not running then, so they are enabled, not started), then
# start them: from here on they are running services, as on a box with bluez and avahi.
harden --revert --only services >/dev/null
check "revert of the chroot's services step: bluetooth.service enabled again" unit_is bluetooth.service enabled
in_box systemctl start bluetooth.service avahi-daemon.service

# The outside: a network namespace of ours, joined to the container by a veth pair (again after a reboot).
connect_outside() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null
    # Its own descriptors: a background process holding a pipe of ours would keep a $(...) waiting.
    unshare --net sleep 600 </dev/null >/dev/null 2>&1 &
    client_pid=$!
    sleep 0.3
    box_net ip link add vbox type veth peer name vout netns "$client_pid"
    box_net sh -c 'ip addr add 192.0.2.1/24 dev vbox && ip -6 addr add 2001:db8::1/64 dev vbox nodad && ip link set vbox up'
    outside sh -c 'ip link set lo up && ip addr add 192.0.2.2/24 dev vout && ip addr add 192.0.2.3/24 dev vout &&
        ip -6 addr add 2001:db8::2/64 dev vout nodad && ip link set vout up'
    # Wait until sshd answers (with a source address the rate-limit checks below do not use).
    for _ in $(seq 1 20); do
        outside timeout 1 bash -c 'exec 3<>/dev/tcp/2001:db8::1/22' 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}
# Not through check: its $(...) is a subshell, and client_pid must be set here.
if connect_outside >"$work/net.log" 2>&1; then ok "the outside reaches the container's sshd"; else not_ok "the outside reaches the container's sshd" "$(cat "$work/net.log")"; fi

# ---- SSH lockout protection
out=$(harden --only ssh)
status=$?
check "ssh: refused while no user has a key (exit 1)" test "$status" = 1
check "ssh: the refusal says why and how (ssh-copy-id)" grep -q "ssh-copy-id" <<<"$out"
check "ssh: no drop-in written when refused" in_box test ! -e /etc/ssh/sshd_config.d/50-boxbot.conf
in_box useradd -m -s /bin/bash pi
in_box install -d -o pi -g pi -m 0700 /home/pi/.ssh
in_box sh -c 'cat > /home/pi/.ssh/authorized_keys && chown pi:pi /home/pi/.ssh/authorized_keys && chmod 0664 /home/pi/.ssh/authorized_keys' <"$work/key.pub"
in_box sh -c 'install -d -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys' <"$work/key.pub"
out=$(harden --only ssh)
status=$?
check "ssh: a key file sshd would ignore (group-writable) does not count" test "$status" = 1
check "ssh: ... and the output says so" grep -q "writable by group or others" <<<"$out"
in_box chmod 0600 /home/pi/.ssh/authorized_keys
check "ssh: before hardening, passwords are offered" offers_password

# ---- --dry-run changes nothing (as root and as nobody)
before=$(fingerprint)
out=$(harden --dry-run)
status=$?
check "dry-run: exits 0" test "$status" = 0
check "dry-run: shows the files it would write" grep -q "would write /etc/ssh/sshd_config.d/50-boxbot.conf" <<<"$out"
check "dry-run: shows commands it would run" grep -q "would run: systemctl mask -q avahi-daemon.service" <<<"$out"
check "dry-run: changed nothing" test "$before" = "$(fingerprint)"
out=$(in_box setpriv --reuid=65534 --regid=65534 --clear-groups "$installed" --dry-run 2>&1)
check "dry-run: works as a non-root user" test $? = 0
check "dry-run as non-root: changed nothing" test "$before" = "$(fingerprint)"
out=$(in_box setpriv --reuid=65534 --regid=65534 --clear-groups "$installed" 2>&1)
check "a real run as non-root is refused (exit 1)" test $? = 1
check "... saying it must run as root" grep -q "must run as root" <<<"$out"

# ---- Apply everything
out=$(harden)
status=$?
if [ "$status" = 0 ]; then ok "apply: exits 0"; else not_ok "apply: exits 0" "$out"; fi
check "ssh: sshd -T says passwordauthentication no" sshd_says "passwordauthentication no"
check "ssh: sshd -T says kbdinteractiveauthentication no" sshd_says "kbdinteractiveauthentication no"
check "ssh: sshd -T says permitrootlogin no" sshd_says "permitrootlogin no"
check "ssh: the key logs in over IPv4 through the firewall" ssh_to 192.0.2.1 pi
check "ssh: the key logs in over IPv6 (neighbour discovery passes)" ssh_to 2001:db8::1 pi
check "ssh: only public keys are offered now" test "$(auth_methods)" = publickey
check "ssh: root cannot log in, even with a key" not ssh_to 192.0.2.1 root
check "services: bluetooth.service masked and stopped" masked_and_stopped bluetooth.service
check "services: avahi-daemon.service masked and stopped" masked_and_stopped avahi-daemon.service
check "upgrades: APT::Periodic::Unattended-Upgrade is 1" apt_says 'APT::Periodic::Unattended-Upgrade "1";'
check "firewall: input policy drop" grep -q "policy drop" <<<"$(in_box nft list chain inet boxbot input)"
check "firewall: the webhook port 8443 is dropped (not configured)" tcp_dropped 192.0.2.1 8443
check "firewall: another closed port (80) is dropped" tcp_dropped 192.0.2.1 80

# ---- Idempotent
before=$(fingerprint)
out=$(harden)
status=$?
check "second run: exits 0" test "$status" = 0
check "second run: says nothing to change" grep -qx "harden-os: nothing to change" <<<"$out"
check "second run: changed nothing" test "$before" = "$(fingerprint)"

# ---- The webhook port follows [webhook] allow_public_bind in boxbot.toml
in_box sh -c 'mkdir -p /etc/boxbot && cat > /etc/boxbot/boxbot.toml' <<'EOF'
[agent]
port = 1   # not the webhook's
[ webhook ]
  # the webhook
  listen_address = "0.0.0.0"
  port=9443    # moved
  allow_public_bind   =   true   # behind a firewall
[whatsapp]
allow_public_bind = false
EOF
harden --only firewall >/dev/null
check "webhook: allow_public_bind = true opens [webhook] port 9443" tcp_passes 192.0.2.1 9443
check "webhook: 8443 stays dropped" tcp_dropped 192.0.2.1 8443
in_box sed -i 's/allow_public_bind   =   true/allow_public_bind = false/' /etc/boxbot/boxbot.toml
harden --only firewall >/dev/null
check "webhook: allow_public_bind = false closes it again" tcp_dropped 192.0.2.1 9443

# ---- SSH rate limit: a burst from one source is cut off, another source still gets in
# shellcheck disable=SC2016 # expanded by the outside's shell
results=$(outside bash -c 'for i in $(seq 1 12); do if timeout 1 bash -c "exec 3<>/dev/tcp/192.0.2.1/22" 2>/dev/null; then echo pass; else echo drop; fi; done')
check "firewall: 12 quick SSH connections from one source: some are dropped" grep -q drop <<<"$results"
check "firewall: ... and the first ones got through" test "$(head -n 3 <<<"$results" | grep -c pass)" = 3
check "firewall: another source address still logs in" ssh_to 192.0.2.1 pi -b 192.0.2.3

# ---- Upgrades: our file only when needed; a foreign file that says 0 is overridden, never edited
in_box mv /etc/apt/apt.conf.d/20auto-upgrades /root/20auto-upgrades.package
harden --only upgrades >/dev/null
check "upgrades: without 20auto-upgrades, ours is written" in_box grep -qx "# written by boxbot harden-os.sh" /etc/apt/apt.conf.d/20auto-upgrades
harden --revert --only upgrades >/dev/null
check "upgrades: revert removes our 20auto-upgrades" in_box test ! -e /etc/apt/apt.conf.d/20auto-upgrades
in_box sh -c 'printf "APT::Periodic::Update-Package-Lists \"0\";\nAPT::Periodic::Unattended-Upgrade \"0\";\n" > /etc/apt/apt.conf.d/20auto-upgrades'
foreign=$(in_box sha256sum /etc/apt/apt.conf.d/20auto-upgrades)
harden --only upgrades >/dev/null
check "upgrades: a foreign 20auto-upgrades saying 0 is overridden" apt_says 'APT::Periodic::Unattended-Upgrade "1";'
check "upgrades: ... by 52boxbot-auto-upgrades, the foreign file untouched" test "$(in_box sha256sum /etc/apt/apt.conf.d/20auto-upgrades)" = "$foreign"
harden --revert --only upgrades >/dev/null
check "upgrades: revert removes the override" test ! -e "$root/etc/apt/apt.conf.d/52boxbot-auto-upgrades"
check "upgrades: ... and leaves the foreign file as it was" test "$(in_box sha256sum /etc/apt/apt.conf.d/20auto-upgrades)" = "$foreign"
in_box mv /root/20auto-upgrades.package /etc/apt/apt.conf.d/20auto-upgrades
harden --only upgrades >/dev/null

# ---- Survives a reboot
stop_container
if boot; then
    ok "reboot: container boots again"
    if connect_outside >"$work/net.log" 2>&1; then ok "reboot: the outside reaches sshd again"; else not_ok "reboot: the outside reaches sshd again" "$(cat "$work/net.log")"; fi
    check "reboot: table inet boxbot loaded at boot" in_box nft list table inet boxbot
    check "reboot: sshd still key-only" sshd_says "passwordauthentication no"
    check "reboot: avahi-daemon.service still masked" test "$(in_box systemctl is-enabled avahi-daemon.service)" = masked
    out=$(harden)
    check "reboot: a run after boot has nothing to change" grep -qx "harden-os: nothing to change" <<<"$out"
else
    not_ok "reboot: container boots again" "$(tail -n 20 "$work/boot.log")"
fi

# ---- Revert
if [ -n "$init" ]; then
    out=$(harden --revert)
    check "revert: exits 0" test $? = 0
    check "revert: table inet boxbot gone" not in_box nft list table inet boxbot
    check "revert: nftables.conf as it was" test "$(sha256sum <"$root/etc/nftables.conf")" = "$sum_nftables_conf"
    check "revert: /etc/nftables.d gone" test ! -e "$root/etc/nftables.d"
    check "revert: the state file gone" test ! -e "$root/var/lib/boxbot-harden"
    check "revert: nftables.service disabled again" test "$(in_box systemctl is-enabled nftables.service)" = disabled
    check "revert: sshd offers passwords again" offers_password
    check "revert: bluetooth.service enabled and running again" enabled_and_running bluetooth.service
    check "revert: avahi-daemon.service enabled and running again" enabled_and_running avahi-daemon.service
    check "revert: the package's 20auto-upgrades (not ours) is kept" in_box test -e /etc/apt/apt.conf.d/20auto-upgrades
    out=$(harden --revert)
    check "revert twice: nothing to change" grep -qx "harden-os: nothing to change" <<<"$out"
fi
out=$(harden --only nonsense)
check "an unknown step is a usage error (exit 2)" test $? = 2

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
