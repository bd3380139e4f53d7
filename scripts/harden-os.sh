#!/usr/bin/env bash
# harden-os.sh: hardens the host a boxbot runs on (docs/hardening.md). Installed as /usr/lib/boxbot/harden-os.sh.
#
#   firewall  nftables table "inet boxbot": inbound dropped except loopback, replies, ICMP, DHCP, SSH
#             (rate-limited per source) and, only if [webhook] allow_public_bind = true, the webhook port
#   ssh       /etc/ssh/sshd_config.d/01-boxbot.conf: keys only, no root login; refused unless a user who
#             can log in has an authorized key (so you cannot lock yourself out)
#   upgrades  unattended security upgrades (unattended-upgrades, /etc/apt/apt.conf.d/20auto-upgrades)
#   services  Bluetooth and mDNS (avahi) stopped, disabled and masked
#
# Idempotent: a second run changes nothing. Every change is recorded in /var/lib/boxbot-harden/state and
# --revert undoes exactly those. Files it writes start with "# written by boxbot harden-os.sh"; it never
# deletes a file without that line.
set -euo pipefail

MARK="# written by boxbot harden-os.sh"
ROOT="${HARDEN_ROOT:-}"
STATE_DIR="$ROOT/var/lib/boxbot-harden"
STATE="$STATE_DIR/state"
CONFIG="$ROOT/etc/boxbot/boxbot.toml"
NFT_FILE="$ROOT/etc/boxbot/nftables-boxbot.nft"
NFT_CONF="$ROOT/etc/nftables.conf"
SSH_DROPIN="$ROOT/etc/ssh/sshd_config.d/01-boxbot.conf"
UPGRADES="$ROOT/etc/apt/apt.conf.d/20auto-upgrades"
SERVICES="bluetooth.service avahi-daemon.socket avahi-daemon.service"
ALL_STEPS="firewall ssh upgrades services"

dry_run=0
revert=0
steps="$ALL_STEPS"
changes=0

usage() {
    cat <<'EOF'
Usage: harden-os.sh [--dry-run] [--revert] [--only STEP[,STEP]] [--skip STEP[,STEP]]

Hardens the host of a boxbot (docs/hardening.md). Steps, in order:
  firewall  nftables: drop inbound except loopback, replies, ICMP, DHCP, SSH (rate-limited per source)
            and the webhook port only when /etc/boxbot/boxbot.toml has [webhook] allow_public_bind = true
  ssh       sshd: public keys only, no root login (refused unless some user who can log in has an
            authorized key); validated with sshd -t, then sshd is reloaded
  upgrades  unattended security upgrades
  services  Bluetooth and mDNS (avahi-daemon) stopped, disabled and masked

  --dry-run  print what would change (files with their content, commands) and change nothing
  --revert   undo what earlier runs did (recorded in /var/lib/boxbot-harden/state)
  --only     run only these steps;  --skip  leave these out
Runs as root (--dry-run may run as anyone). Exit 0 when every step succeeded or had nothing to do.
EOF
}

die() {
    echo "harden-os: $*" >&2
    exit 1
}
say() { echo "$1: $2"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --revert) revert=1 ;;
        --only)
            [ $# -ge 2 ] || die "--only needs a list of steps ($ALL_STEPS)"
            steps="${2//,/ }"
            shift
            ;;
        --skip)
            [ $# -ge 2 ] || die "--skip needs a list of steps ($ALL_STEPS)"
            for s in ${2//,/ }; do steps="$(tr ' ' '\n' <<<"$steps" | grep -vx "$s" | tr '\n' ' ')"; done
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
for s in $steps; do
    grep -qw -- "$s" <<<"$ALL_STEPS" || die "unknown step '$s' (steps: $ALL_STEPS)"
done
if [ "$dry_run" = 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "must run as root (sudo $0); --dry-run shows what it would do"
fi

selected() { grep -qw -- "$1" <<<"$steps"; }

# Whether systemd runs this system (not in a chroot or an image build): only then start, stop or reload.
live_systemd() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

run() {
    # run STEP COMMAND...: a command that changes the live system.
    local step="$1"
    shift
    if [ "$dry_run" = 1 ]; then
        say "$step" "would run: $*"
    elif [ -n "$ROOT" ]; then
        say "$step" "skipped on HARDEN_ROOT: $*"
    else
        "$@"
    fi
}

record() {
    # record LINE: remember a change so --revert can undo it.
    [ "$dry_run" = 1 ] && return 0
    mkdir -p "$STATE_DIR"
    chmod 0700 "$STATE_DIR"
    grep -qxF -- "$1" "$STATE" 2>/dev/null || echo "$1" >>"$STATE"
}

write_file() {
    # write_file STEP PATH MODE CONTENT: writes (atomically) only when the content differs. Returns 0 when it
    # changed (or would change) the file, 1 when it was already so.
    local step="$1" path="$2" mode="$3" content="$4"
    if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
        return 1
    fi
    if [ "$dry_run" = 1 ]; then
        say "$step" "would write $path (mode $mode):"
        if [ -f "$path" ]; then
            diff -u "$path" - <<<"$content" | sed 's/^/    /' || true
        else
            printf '%s\n' "$content" | sed 's/^/    /'
        fi
        changes=$((changes + 1))
        return 0
    fi
    if [ -f "$path" ] && ! grep -qxF "$MARK" "$path"; then
        # Someone else's file: keep a copy for --revert.
        mkdir -p "$STATE_DIR"
        cp -p "$path" "$STATE_DIR/$(basename "$path").orig"
        record "restore $path"
    fi
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" >"$path.harden-new"
    chmod "$mode" "$path.harden-new"
    mv "$path.harden-new" "$path"
    record "wrote $path"
    say "$step" "wrote $path"
    changes=$((changes + 1))
    return 0
}

toml_webhook() {
    # toml_webhook KEY: the value of KEY in the [webhook] section of the config (comments and spacing allowed).
    [ -f "$CONFIG" ] || return 0
    awk -v key="$1" '
        /^[[:space:]]*\[/ { section = $0; gsub(/[[:space:]]|\[|\]/, "", section); next }
        section == "webhook" {
            line = $0; sub(/#.*/, "", line)
            if (match(line, "^[[:space:]]*" key "[[:space:]]*=")) {
                value = substr(line, RLENGTH + 1); gsub(/[[:space:]"]/, "", value); print value; exit
            }
        }' "$CONFIG"
}

ssh_port() {
    local port=""
    if command -v sshd >/dev/null 2>&1 && [ -z "$ROOT" ]; then
        port="$(sshd -T 2>/dev/null | awk '$1 == "port" { print $2; exit }')"
    fi
    echo "${port:-22}"
}

step_firewall() {
    local ssh webhook="" public port
    ssh="$(ssh_port)"
    public="$(toml_webhook allow_public_bind)"
    port="$(toml_webhook port)"
    if [ "$public" = "true" ]; then
        webhook="        tcp dport ${port:-8443} accept comment \"boxbot webhook ([webhook] allow_public_bind = true)\""
    fi
    local rules
    rules="$MARK
# nftables rules of a boxbot (docs/hardening.md). Loaded at boot from /etc/nftables.conf; revert with
# harden-os.sh --revert --only firewall. Only this table is touched; other tables (Docker, ...) stay.
table inet boxbot
delete table inet boxbot
table inet boxbot {
    set ssh4 { type ipv4_addr; flags dynamic, timeout; timeout 10m; size 65536; }
    set ssh6 { type ipv6_addr; flags dynamic, timeout; timeout 10m; size 65536; }

    chain input {
        type filter hook input priority filter - 10; policy drop;
        ct state established,related accept
        ct state invalid drop
        iifname \"lo\" accept
        # ICMP: errors, echo; ICMPv6 also neighbour discovery and router advertisements (IPv6 needs them).
        icmp type { destination-unreachable, time-exceeded, parameter-problem, echo-request } limit rate 20/second accept
        icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept
        # DHCP replies to this host's client.
        udp sport 67 udp dport 68 accept
        ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
        # SSH: at most 10 new connections a minute per source address (burst 5), then dropped.
        tcp dport $ssh ct state new update @ssh4 { ip saddr limit rate over 10/minute burst 5 packets } drop
        tcp dport $ssh ct state new update @ssh6 { ip6 saddr limit rate over 10/minute burst 5 packets } drop
        tcp dport $ssh accept
${webhook:+$webhook
}    }
}"
    if ! command -v nft >/dev/null 2>&1; then
        if [ "$dry_run" = 1 ]; then
            say firewall "would install the Debian package nftables"
        else
            run firewall env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null
            command -v nft >/dev/null 2>&1 || die "nftables is not installed and could not be (apt-get install nftables)"
            record "installed nftables"
        fi
    fi
    # Checked before anything is written: a table that does not load never reaches the boot configuration.
    if [ "$dry_run" = 0 ] && [ -z "$ROOT" ]; then
        local check
        check="$(mktemp)"
        printf '%s\n' "$rules" >"$check"
        if ! nft -c -f "$check"; then
            rm -f "$check"
            die "firewall: the generated rules do not load (nft -c above); nothing was changed"
        fi
        rm -f "$check"
    fi
    local changed=0
    write_file firewall "$NFT_FILE" 0600 "$rules" && changed=1
    # Debian loads /etc/nftables.conf at boot (nftables.service); include our table from it.
    local include="include \"/etc/boxbot/nftables-boxbot.nft\" $MARK"
    if ! grep -qxF "$include" "$NFT_CONF" 2>/dev/null; then
        if [ "$dry_run" = 1 ]; then
            say firewall "would add to $NFT_CONF: $include"
        else
            [ -f "$NFT_CONF" ] || printf '#!/usr/sbin/nft -f\n' >"$NFT_CONF"
            echo "$include" >>"$NFT_CONF"
            record "included $NFT_CONF"
            say firewall "added the include to $NFT_CONF"
        fi
        changes=$((changes + 1))
        changed=1
    fi
    if [ "$dry_run" = 1 ] || [ -n "$ROOT" ]; then
        [ "$dry_run" = 1 ] && [ "$changed" = 1 ] && say firewall "would load: nft -f $NFT_FILE; systemctl enable nftables.service"
        return 0
    fi
    if [ "$changed" = 1 ] || ! nft list table inet boxbot >/dev/null 2>&1; then
        nft -f "$NFT_FILE"
        say firewall "loaded table inet boxbot (SSH port $ssh$([ -n "$webhook" ] && echo ", webhook port ${port:-8443}"))"
        [ "$changed" = 1 ] || changes=$((changes + 1))
    fi
    if command -v systemctl >/dev/null 2>&1 && ! systemctl is-enabled --quiet nftables.service 2>/dev/null; then
        systemctl enable --quiet nftables.service 2>/dev/null && record "enabled nftables.service" && changes=$((changes + 1))
    fi
}

authorized_users() {
    # Users other than root with a login shell and at least one key in ~/.ssh/authorized_keys(2).
    getent passwd | while IFS=: read -r name _ uid _ _ home shell; do
        [ "$uid" = 0 ] && continue
        case "$shell" in */nologin | */false | "") continue ;; esac
        for f in "$ROOT$home/.ssh/authorized_keys" "$ROOT$home/.ssh/authorized_keys2"; do
            if [ -f "$f" ] && grep -qE '^[^#]*(ssh-(ed25519|rsa|dss)|ecdsa-sha2-|sk-(ssh|ecdsa))' "$f"; then
                echo "$name"
                break
            fi
        done
    done
}

step_ssh() {
    if ! command -v sshd >/dev/null 2>&1 && [ ! -x "$ROOT/usr/sbin/sshd" ]; then
        say ssh "openssh-server is not installed: nothing to do"
        return 0
    fi
    if ! grep -qE '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' "$ROOT/etc/ssh/sshd_config" 2>/dev/null; then
        die "ssh: /etc/ssh/sshd_config does not include /etc/ssh/sshd_config.d/*.conf; add 'Include /etc/ssh/sshd_config.d/*.conf' at its top, then run this again"
    fi
    local content="$MARK
# boxbot: SSH with keys only, never as root (docs/hardening.md). Revert: harden-os.sh --revert --only ssh
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes"
    if [ -f "$SSH_DROPIN" ] && [ "$(cat "$SSH_DROPIN")" = "$content" ]; then
        return 0
    fi
    local users
    users="$(authorized_users | tr '\n' ' ')"
    if [ -z "$users" ]; then
        echo "ssh: refused: no user who can log in has a key in ~/.ssh/authorized_keys, so turning passwords off would lock" >&2
        echo "ssh: everyone out. From your computer: ssh-copy-id YOU@this-box (then check: ssh YOU@this-box), and run this again." >&2
        exit 1
    fi
    say ssh "keys found for: $users"
    write_file ssh "$SSH_DROPIN" 0644 "$content" || return 0
    if [ "$dry_run" = 1 ] || [ -n "$ROOT" ]; then
        return 0
    fi
    if ! sshd -t; then
        rm -f "$SSH_DROPIN"
        die "ssh: sshd -t refused the configuration; $SSH_DROPIN removed again"
    fi
    if live_systemd && systemctl is-active --quiet ssh.service; then
        systemctl reload ssh.service
        say ssh "sshd reloaded (open sessions stay)"
    fi
}

step_upgrades() {
    if ! dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null | grep -q "install ok installed"; then
        if [ "$dry_run" = 1 ]; then
            say upgrades "would install the Debian package unattended-upgrades"
            changes=$((changes + 1))
        elif [ -n "$ROOT" ]; then
            say upgrades "skipped on HARDEN_ROOT: apt-get install unattended-upgrades"
        else
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unattended-upgrades >/dev/null \
                || die "upgrades: apt-get install unattended-upgrades failed (is a Debian mirror reachable?)"
            record "installed unattended-upgrades"
            say upgrades "installed unattended-upgrades"
            changes=$((changes + 1))
        fi
    fi
    # Debian's 50unattended-upgrades installs from the security origin only; Raspberry Pi OS adds its own.
    write_file upgrades "$UPGRADES" 0644 "$MARK
// boxbot: fetch package lists and install security upgrades every day (docs/hardening.md).
APT::Periodic::Update-Package-Lists \"1\";
APT::Periodic::Unattended-Upgrade \"1\";" || true
}

step_services() {
    command -v systemctl >/dev/null 2>&1 || { say services "no systemctl: nothing to do"; return 0; }
    local unit state
    for unit in $SERVICES; do
        state="$(systemctl ${ROOT:+--root="$ROOT"} is-enabled "$unit" 2>/dev/null || true)"
        case "$state" in
            "" | not-found) continue ;;
            masked) continue ;;
        esac
        if [ "$dry_run" = 1 ]; then
            say services "would stop, disable and mask $unit (now $state)"
            changes=$((changes + 1))
            continue
        fi
        if live_systemd; then
            systemctl disable --now --quiet "$unit" 2>/dev/null || true
        fi
        if ! systemctl ${ROOT:+--root="$ROOT"} mask --quiet "$unit"; then
            # A unit file of the admin's own in /etc/systemd/system cannot be masked; it stays disabled.
            record "disabled $unit $state"
            say services "stopped and disabled $unit (not masked: see the message above)"
            changes=$((changes + 1))
            continue
        fi
        record "masked $unit $state"
        say services "stopped, disabled and masked $unit"
        changes=$((changes + 1))
    done
}

revert_all() {
    [ -f "$STATE" ] || { echo "harden-os: nothing to revert ($STATE does not exist)"; return 0; }
    local line kind arg rest kept=""
    # Newest first.
    while IFS= read -r line; do
        kind="${line%% *}"
        arg="${line#* }"
        rest=""
        case "$kind" in masked | disabled) rest="${arg#* }"; arg="${arg%% *}" ;; esac
        local step=""
        case "$kind:$arg" in
            wrote:"$NFT_FILE" | included:* | enabled:nftables.service | installed:nftables) step=firewall ;;
            wrote:"$SSH_DROPIN" | restore:"$SSH_DROPIN") step=ssh ;;
            wrote:"$UPGRADES" | restore:"$UPGRADES" | installed:unattended-upgrades) step=upgrades ;;
            masked:* | disabled:*) step=services ;;
        esac
        if [ -z "$step" ] || ! selected "$step"; then
            kept="$line"$'\n'"$kept"
            continue
        fi
        if [ "$dry_run" = 1 ]; then
            say "$step" "would undo: $line"
            changes=$((changes + 1))
            kept="$line"$'\n'"$kept"
            continue
        fi
        case "$kind" in
            wrote)
                if grep -qxF "$MARK" "$arg" 2>/dev/null; then rm -f "$arg"; fi
                if [ "$arg" = "$NFT_FILE" ] && [ -z "$ROOT" ] && command -v nft >/dev/null 2>&1; then
                    nft delete table inet boxbot 2>/dev/null || true
                fi
                if [ "$arg" = "$SSH_DROPIN" ] && live_systemd && systemctl is-active --quiet ssh.service; then
                    systemctl reload ssh.service || true
                fi
                ;;
            restore) cp -p "$STATE_DIR/$(basename "$arg").orig" "$arg" && rm -f "$STATE_DIR/$(basename "$arg").orig" ;;
            included) sed -i "\\|$MARK|d" "$arg" ;;
            enabled) systemctl disable --quiet "$arg" 2>/dev/null || true ;;
            installed) ;; # packages stay installed; remove them with apt-get if you want to
            masked | disabled)
                [ "$kind" = masked ] && { systemctl ${ROOT:+--root="$ROOT"} unmask --quiet "$arg" || true; }
                if [ "$rest" = enabled ]; then
                    systemctl ${ROOT:+--root="$ROOT"} enable --quiet "$arg" 2>/dev/null || true
                    if live_systemd; then systemctl start "$arg" 2>/dev/null || true; fi
                fi
                ;;
        esac
        say "$step" "undone: $line"
        changes=$((changes + 1))
    done < <(tac "$STATE")
    if [ "$dry_run" = 0 ]; then
        if [ -n "$(tr -d '\n' <<<"$kept")" ]; then
            # kept was built newest-first by prepending, so it is in the file's order again.
            printf '%s' "$kept" >"$STATE"
        else
            rm -f "$STATE"
        fi
    fi
}

if [ "$revert" = 1 ]; then
    revert_all
else
    for s in $ALL_STEPS; do
        selected "$s" && "step_$s"
    done
fi

if [ "$changes" = 0 ]; then
    echo "harden-os: nothing to change"
elif [ "$dry_run" = 1 ]; then
    echo "harden-os: dry run: $changes change(s) would be made, none was"
else
    echo "harden-os: $changes change(s) made"
fi
