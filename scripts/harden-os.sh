#!/usr/bin/env bash
# Hardens the host boxbot runs on (Raspberry Pi OS / Debian bookworm), idempotently; each step can be
# undone with --revert. docs/hardening.md explains every step, what it writes and how to undo it.
#   firewall  nftables table "inet boxbot": inbound drop except SSH (rate-limited), ICMP essentials,
#             DHCP replies, and the webhook port only when [webhook] allow_public_bind = true
#   ssh       sshd drop-in: key-only, no root login; refused unless a non-root user has a key
#   upgrades  unattended-upgrades on (Debian's default origins: stable point releases and security)
#   services  bluetooth and avahi (mDNS) stopped, disabled and masked
# Installed as /usr/lib/boxbot/harden-os.sh; `boxbot doctor` points at it.
set -euo pipefail

readonly MARK="# written by boxbot harden-os.sh"
readonly ALL_STEPS="firewall ssh upgrades services"
readonly STATE_DIR=/var/lib/boxbot-harden
readonly STATE="$STATE_DIR/state"
readonly NFT_DIR=/etc/nftables.d
readonly NFT_FILE="$NFT_DIR/boxbot.nft"
readonly NFT_CONF=/etc/nftables.conf
readonly NFT_INCLUDE="include \"$NFT_FILE\" $MARK"
readonly SSHD_DIR=/etc/ssh/sshd_config.d
readonly SSHD_DROPIN="$SSHD_DIR/50-boxbot.conf"
readonly APT_PERIODIC=/etc/apt/apt.conf.d/20auto-upgrades
# Used only when a 20auto-upgrades that is not ours turns automatic upgrades off: sorts after it, so it wins.
readonly APT_OVERRIDE=/etc/apt/apt.conf.d/52boxbot-auto-upgrades
readonly BOXBOT_TOML=${BOXBOT_TOML:-/etc/boxbot/boxbot.toml}
# hciuart.service is Raspberry Pi OS's: it attaches the Pi's UART Bluetooth controller.
readonly SERVICE_UNITS="bluetooth.service hciuart.service avahi-daemon.socket avahi-daemon.service"

dry_run=0
revert=0
only=""
skip=""
changes=0
failed=0

usage() {
    cat <<'EOF'
Usage: harden-os.sh [--dry-run] [--revert] [--only STEP[,STEP]] [--skip STEP[,STEP]]

Hardens this host for boxbot. Steps, in order:
  firewall  nftables table "inet boxbot" (inbound: drop all but established traffic, loopback,
            ICMP/ICMPv6 essentials, DHCP replies, SSH rate-limited per source, and the webhook
            port only when /etc/boxbot/boxbot.toml has [webhook] allow_public_bind = true);
            included from /etc/nftables.conf, nftables.service enabled, loaded at once
  ssh       /etc/ssh/sshd_config.d/50-boxbot.conf: no passwords, no root login. Refused unless a
            non-root user with a login shell has a usable key in ~/.ssh/authorized_keys
  upgrades  unattended-upgrades installed and turned on (20auto-upgrades)
  services  bluetooth, hciuart, avahi-daemon (mDNS) stopped, disabled and masked

Options:
  --dry-run      print every file it would write and every command it would run; change nothing
                 (works without root, but then cannot read everything it would check)
  --revert       undo what earlier runs did (only files carrying its header, only units it masked)
  --only STEPS   run only these steps (comma-separated)
  --skip STEPS   run all steps but these
  -h, --help     this text

Running it twice changes nothing the second time. Details: docs/hardening.md.
State of what it did: /var/lib/boxbot-harden/state.
EOF
}

say() { echo "harden-os: $*"; }
warn() { echo "harden-os: warning: $*" >&2; }
die() {
    echo "harden-os: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# The environment: are we on the live system, in a chroot, with or without systemd?

in_chroot() {
    local root init
    root=$(stat -Lc %d:%i / 2>/dev/null) || return 0
    if init=$(stat -Lc %d:%i /proc/1/root/. 2>/dev/null); then
        [ "$root" != "$init" ]
        return
    fi
    # /proc/1/root is root's to read; without it ask systemd, and without that assume a chroot.
    if command -v systemd-detect-virt >/dev/null 2>&1 && [ -d /proc/1 ]; then
        systemd-detect-virt --chroot -q 2>/dev/null
        return
    fi
    return 0
}

chrooted=0
systemd_up=0
init_environment() {
    if in_chroot; then
        chrooted=1
    elif [ -d /run/systemd/system ]; then
        systemd_up=1
    fi
}

# ---------------------------------------------------------------------------------------------
# Changing things: every change goes through these, so --dry-run shows it and changes nothing.

# Runs a command that changes the system (or, in a dry run, prints it).
act() {
    changes=$((changes + 1))
    if ((dry_run)); then
        echo "  would run: $*"
        return 0
    fi
    echo "  running: $*"
    local rc=0
    "$@" || rc=$?
    if ((rc)); then
        echo "harden-os: failed (exit status $rc): $*" >&2
    fi
    return "$rc"
}

# (No "grep -q" after a pipe in this script: it can exit early, and with pipefail the writer's SIGPIPE fails the test.)
is_ours() { [ -f "$1" ] && head -n 5 "$1" | grep -xF "$MARK" >/dev/null; }

# write_file PATH MODE CONTENT: writes atomically when the content differs. Returns 1 when nothing changed.
write_file() {
    local path=$1 mode=$2 content=$3 tmp
    if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ] && [ "$(stat -c %a "$path")" = "$mode" ]; then
        return 1
    fi
    changes=$((changes + 1))
    if ((dry_run)); then
        if [ -f "$path" ]; then
            echo "  would change $path (mode $mode):"
            diff -u --label "$path" --label "$path (new)" "$path" <(printf '%s\n' "$content") | sed 's/^/    /' || true
        else
            echo "  would write $path (mode $mode):"
            printf '%s\n' "$content" | sed 's/^/    | /'
        fi
        return 0
    fi
    echo "  writing $path"
    mkdir -p "$(dirname "$path")"
    tmp=$(mktemp "$(dirname "$path")/.boxbot-harden.XXXXXX")
    printf '%s\n' "$content" >"$tmp"
    chmod "$mode" "$tmp"
    if [ -f "$path" ]; then
        chown --reference="$path" "$tmp"
    fi
    sync -d "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$path"
}

# Removes a file only when it carries our header; a file without it is left alone and said so.
remove_ours() {
    local path=$1
    [ -e "$path" ] || return 1
    if ! is_ours "$path"; then
        warn "$path was not written by harden-os.sh (no \"$MARK\" header): left alone"
        return 1
    fi
    act rm -f "$path"
}

# ---------------------------------------------------------------------------------------------
# State: one line per thing done ("KEY VALUE..."), so --revert undoes only what we did.

state_has() { [ -f "$STATE" ] && grep -q "^$1\( \|\$\)" "$STATE"; }
state_get() { [ -f "$STATE" ] && grep "^$1\( \|\$\)" "$STATE" | head -n 1 | cut -d' ' -f2-; }
state_add() {
    ((dry_run)) && return 0
    state_has "$1" && return 0
    mkdir -p "$STATE_DIR"
    chmod 0755 "$STATE_DIR"
    echo "$*" >>"$STATE"
}
state_del() {
    ((dry_run)) && return 0
    [ -f "$STATE" ] || return 0
    local rest
    rest=$(grep -v "^$1\( \|\$\)" "$STATE" || true)
    if [ -z "$rest" ]; then
        rm -f "$STATE"
        rmdir "$STATE_DIR" 2>/dev/null || true
    else
        printf '%s\n' "$rest" >"$STATE.tmp" && mv -f "$STATE.tmp" "$STATE"
    fi
}

# ---------------------------------------------------------------------------------------------
# Packages and units

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

ensure_package() {
    local package=$1
    installed "$package" && return 0
    say "$package is not installed: installing it (apt-get)"
    # A failed install leaves nothing half done that we would have to revert: say so and stop.
    act env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    act env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" ||
        die "could not install $package (apt-get install failed): install it and run this again"
    state_add "installed-$package"
}

unit_exists() {
    local dir
    for dir in /etc/systemd/system /run/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
        if [ -e "$dir/$1" ] || [ -L "$dir/$1" ]; then
            return 0
        fi
    done
    return 1
}

unit_enabled_state() { systemctl is-enabled "$1" 2>/dev/null || true; }
unit_active() { ((systemd_up)) && systemctl -q is-active "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Facts about sshd and the boxbot configuration

has_sshd() { [ -x /usr/sbin/sshd ]; }

# sshd -t/-T stop when its privilege separation directory is missing; ssh.service creates it
# (RuntimeDirectory=sshd), so in a chroot or before sshd ever ran, we do.
sshd_prepare() {
    if [ ! -d /run/sshd ] && ((!dry_run)) && [ "$(id -u)" -eq 0 ]; then
        mkdir -p /run/sshd && chmod 0755 /run/sshd
    fi
}

# The effective sshd configuration (sshd -T), or nothing when sshd cannot tell us (no root, no keys).
sshd_effective() {
    has_sshd || return 0
    sshd_prepare
    /usr/sbin/sshd -T 2>/dev/null || true
}

# First value of a keyword in sshd_config and its drop-ins, as sshd reads them (first one wins).
sshd_config_first() {
    local files=() f
    for f in "$SSHD_DIR"/*.conf; do [ -r "$f" ] && files+=("$f"); done
    [ -r /etc/ssh/sshd_config ] && files+=(/etc/ssh/sshd_config)
    ((${#files[@]})) || return 0
    awk -v key="$1" 'tolower($1) == key { $1 = ""; sub(/^ +/, ""); print; exit }' "${files[@]}"
}

ssh_ports() {
    local effective ports
    effective=$(sshd_effective)
    if [ -n "$effective" ]; then
        ports=$(printf '%s\n' "$effective" | awk '
            $1 == "port" { print $2 }
            $1 == "listenaddress" { n = split($2, a, ":"); print a[n] }' | sort -un | tr '\n' ' ')
    else
        ports=$(sshd_config_first port)
    fi
    ports=$(echo "$ports" | tr -s ' ' | sed 's/^ //; s/ $//')
    echo "${ports:-22}"
}

# Sets webhook_open to the webhook port to open, or "". Reads [webhook] allow_public_bind and port with awk:
# comments, blank lines, spacing, quoted keys and dotted "webhook.port" keys are tolerated.
webhook_open=""
webhook_port() {
    local parsed apb port
    webhook_open=""
    if [ ! -e "$BOXBOT_TOML" ]; then
        echo "  webhook: $BOXBOT_TOML does not exist: its port stays closed"
        return 0
    fi
    if [ ! -r "$BOXBOT_TOML" ]; then
        echo "  webhook: cannot read $BOXBOT_TOML (not root?): its port stays closed"
        return 0
    fi
    parsed=$(awk '
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
        /^[ \t]*(#|$)/ { next }
        /^[ \t]*\[/ { s = $0; sub(/#.*/, "", s); gsub(/[ \t\r"]/, "", s); section = s; next }
        {
            line = $0; sub(/#.*/, "", line)
            eq = index(line, "="); if (!eq) next
            key = substr(line, 1, eq - 1); gsub(/[ \t"]/, "", key)
            value = trim(substr(line, eq + 1))
            s = section
            if (s == "" && key ~ /^webhook\./) { s = "[webhook]"; key = substr(key, 9) }
            if (s != "[webhook]") next
            if (key == "allow_public_bind") apb = value
            if (key == "port") port = value
        }
        END { print (apb == "" ? "false" : apb) " " (port == "" ? "8443" : port) }' "$BOXBOT_TOML")
    apb=${parsed%% *}
    port=${parsed#* }
    port=${port//_/}
    if [ "$apb" != "true" ]; then
        echo "  webhook: [webhook] allow_public_bind is not true in $BOXBOT_TOML: its port stays closed (it listens on loopback)"
        return 0
    fi
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        warn "[webhook] port = $port in $BOXBOT_TOML is not a port this script can open (1..65535): it stays closed"
        return 0
    fi
    echo "  webhook: [webhook] allow_public_bind = true in $BOXBOT_TOML: port $port is open"
    webhook_open=$port
}

# ---------------------------------------------------------------------------------------------
# Step: firewall

nft_rules() {
    local ssh=$1 webhook=$2 body hash
    local ssh_set="{ ${ssh// /, } }"
    body=$(
        cat <<EOF
	# Per-source budget of new SSH connections: 10 a minute after a burst of 5, then dropped.
	set ssh_rate4 { type ipv4_addr; flags dynamic, timeout; timeout 1m; size 65536; }
	set ssh_rate6 { type ipv6_addr; flags dynamic, timeout; timeout 1m; size 65536; }

	chain input {
		type filter hook input priority filter; policy drop;

		iif "lo" accept
		# IPv6 neighbour discovery, router adverts and multicast listener queries: part of no
		# connection, and without them IPv6 stops working (tests/harden checks a login over IPv6).
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept
		icmpv6 type { mld-listener-query, mld2-listener-report } ip6 saddr fe80::/10 accept
		ct state invalid drop
		ct state { established, related } accept
		# Loopback addresses arrive only on lo (the webhook listens on 127.0.0.1).
		ip daddr 127.0.0.0/8 drop
		ip6 daddr ::1 drop

		icmp type { destination-unreachable, time-exceeded, parameter-problem } accept
		icmp type echo-request limit rate 10/second accept
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
		icmpv6 type echo-request limit rate 10/second accept
		# Replies to this box's DHCP client: broadcast offers are not conntracked.
		udp sport 67 udp dport 68 accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept

		tcp dport $ssh_set ct state new update @ssh_rate4 { ip saddr limit rate over 10/minute burst 5 packets } drop
		tcp dport $ssh_set ct state new update @ssh_rate6 { ip6 saddr limit rate over 10/minute burst 5 packets } drop
		tcp dport $ssh_set accept comment "ssh"
EOF
        if [ -n "$webhook" ]; then
            printf '\t\t# [webhook] allow_public_bind = true in %s\n' "$BOXBOT_TOML"
            printf '\t\ttcp dport %s accept comment "boxbot webhook"\n' "$webhook"
        fi
        printf '\t}\n\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}'
    )
    hash=$(printf '%s\n' "$body" | sha256sum | cut -c1-16)
    cat <<EOF
$MARK
# The boxbot host firewall (docs/hardening.md). /etc/nftables.conf includes this file, so
# nftables.service loads it at boot. Undo: /usr/lib/boxbot/harden-os.sh --revert --only firewall
# Run harden-os.sh again after changing sshd's Port or [webhook] in $BOXBOT_TOML.
# Only the table inet boxbot is touched (other tables, such as Docker's, are left as they are).

# Declare, delete, define: replaces the whole table in one transaction, however often it is loaded.
table inet boxbot
delete table inet boxbot

table inet boxbot {
	comment "boxbot harden-os.sh rules $hash"

$body
}
EOF
}

nft_loaded_hash() {
    nft list table inet boxbot 2>/dev/null | sed -n 's/.*comment "boxbot harden-os.sh rules \([0-9a-f]*\)".*/\1/p' | head -n 1
}

firewall_apply() {
    local ports rules want_hash conf
    ensure_package nftables
    ports=$(ssh_ports)
    if has_sshd; then
        echo "  SSH: port(s) $ports (sshd's configuration), new connections rate-limited per source"
    else
        echo "  SSH: openssh-server is not installed; port $ports stays open for it anyway"
    fi
    webhook_port
    rules=$(nft_rules "$ports" "$webhook_open")

    if [ ! -d "$NFT_DIR" ]; then
        act mkdir -p -m 0755 "$NFT_DIR"
    fi
    if ((!dry_run)) && ((!chrooted)) && command -v nft >/dev/null 2>&1; then
        # Check the rules before installing them: a file that does not load must never reach boot.
        nft -c -f <(printf '%s\n' "$rules") || die "the generated rules do not load (nft -c): nothing changed"
    fi
    if write_file "$NFT_FILE" 644 "$rules"; then
        state_add firewall-file
    fi

    if ((dry_run)) && ! installed nftables; then
        changes=$((changes + 2))
        echo "  would append to $NFT_CONF (which the package installs): $NFT_INCLUDE"
        echo "  would run: systemctl enable -q nftables.service"
    elif [ ! -e "$NFT_CONF" ]; then
        conf=$(printf '#!/usr/sbin/nft -f\n%s\n# Created because %s did not exist; harden-os.sh --revert removes it.\n\nflush ruleset\n\n%s' \
            "$MARK" "$NFT_CONF" "$NFT_INCLUDE")
        write_file "$NFT_CONF" 755 "$conf"
        state_add firewall-conf-created
    elif ! grep -qxF "$NFT_INCLUDE" "$NFT_CONF"; then
        write_file "$NFT_CONF" "$(stat -c %a "$NFT_CONF")" "$(cat "$NFT_CONF")
$NFT_INCLUDE"
        state_add firewall-include
    fi

    if ((dry_run)) && ! installed nftables; then
        :
    elif command -v systemctl >/dev/null 2>&1 && unit_exists nftables.service; then
        if [ "$(unit_enabled_state nftables.service)" != "enabled" ]; then
            act systemctl enable -q nftables.service
            state_add firewall-enabled-nftables-service
        fi
    elif ((!dry_run)); then
        warn "nftables.service not found: the rules are not loaded at boot unless you load $NFT_CONF yourself"
    fi

    want_hash=$(printf '%s\n' "$rules" | sed -n 's/.*comment "boxbot harden-os.sh rules \([0-9a-f]*\)".*/\1/p')
    if ((chrooted)); then
        echo "  in a chroot: the rules were not loaded into the kernel; nftables.service loads them at boot"
    elif [ "$(nft_loaded_hash)" != "$want_hash" ]; then
        act nft -f "$NFT_FILE"
    fi
}

firewall_revert() {
    local rest mode
    if ((!chrooted)) && command -v nft >/dev/null 2>&1 && nft list table inet boxbot >/dev/null 2>&1; then
        act nft delete table inet boxbot
    fi
    if is_ours "$NFT_CONF"; then
        remove_ours "$NFT_CONF" || true
    elif [ -f "$NFT_CONF" ] && grep -qxF "$NFT_INCLUDE" "$NFT_CONF"; then
        mode=$(stat -c %a "$NFT_CONF")
        rest=$(grep -vxF "$NFT_INCLUDE" "$NFT_CONF" || true)
        write_file "$NFT_CONF" "$mode" "$rest" || true
    fi
    state_del firewall-conf-created
    state_del firewall-include
    remove_ours "$NFT_FILE" || true
    state_del firewall-file
    if [ -d "$NFT_DIR" ] && [ -z "$(ls -A "$NFT_DIR")" ] && ! [ -e "$NFT_FILE" ]; then
        act rmdir "$NFT_DIR"
    fi
    if state_has firewall-enabled-nftables-service; then
        act systemctl disable -q nftables.service
        state_del firewall-enabled-nftables-service
    fi
}

# ---------------------------------------------------------------------------------------------
# Step: ssh

# True when sshd's main configuration reads the drop-in folder.
sshd_reads_dropins() {
    grep -qiE "^[[:space:]]*Include[[:space:]]+(\"?/etc/ssh/)?sshd_config\.d/\*(\.conf)?\"?[[:space:]]*$" /etc/ssh/sshd_config
}

readonly KEY_LINE='(^|[[:space:]])(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh[.]com)[[:space:]]+AAAA'

# sshd's StrictModes: the key file and every folder from it up to the home folder must belong to the
# user or root and be writable by nobody else, or sshd ignores the keys. Prints why not, if not.
strict_modes_problem() {
    local user=$1 uid=$2 home=$3 path=$4 owner mode
    while :; do
        owner=$(stat -Lc %u "$path") mode=$(stat -Lc %a "$path")
        if [ "$owner" != 0 ] && [ "$owner" != "$uid" ]; then
            echo "$path belongs to uid $owner, not $user or root"
            return
        fi
        if (((8#$mode & 8#022) != 0)); then
            echo "$path is writable by group or others (mode $mode)"
            return
        fi
        [ "$path" = "$home" ] || [ "$path" = / ] && return
        path=$(dirname "$path")
    done
}

# Sets key_users to the non-root users with a login shell and a key sshd would accept.
key_users=()
ssh_key_users() {
    local effective patterns strict name uid home shell pattern file problem
    key_users=()
    effective=$(sshd_effective)
    patterns=$(printf '%s\n' "$effective" | awk '$1 == "authorizedkeysfile" { $1 = ""; print }')
    [ -n "$patterns" ] || patterns=$(sshd_config_first authorizedkeysfile)
    [ -n "$patterns" ] || patterns=".ssh/authorized_keys .ssh/authorized_keys2"
    strict=$(printf '%s\n' "$effective" | awk '$1 == "strictmodes" { print $2 }')
    [ -n "$strict" ] || strict=$(sshd_config_first strictmodes)
    while IFS=: read -r name _ uid _ _ home shell; do
        [ "$uid" = 0 ] && continue
        login_shell "$shell" || continue
        for pattern in $patterns; do
            [ "$pattern" = none ] && continue
            file=${pattern//%%/$'\x01'}
            file=${file//%h/$home}
            file=${file//%u/$name}
            file=${file//%U/$uid}
            file=${file//$'\x01'/%}
            [[ "$file" == /* ]] || file="$home/$file"
            [ -r "$file" ] || continue
            awk -v re="$KEY_LINE" '!/^[[:space:]]*#/ && $0 ~ re { found = 1 } END { exit !found }' "$file" || continue
            if [ "${strict,,}" != no ] && problem=$(strict_modes_problem "$name" "$uid" "$home" "$file") && [ -n "$problem" ]; then
                echo "  $name has a key in $file, but sshd ignores it: $problem"
                continue
            fi
            echo "  $name has a key in $file"
            key_users+=("$name")
            break
        done
    done < <(getent passwd)
}

login_shell() {
    local shell=$1
    [ -n "$shell" ] && [ -x "$shell" ] || return 1
    case "$shell" in */nologin | */false | */sync) return 1 ;; esac
    [ -r /etc/shells ] || return 0
    grep -qxF "$shell" /etc/shells
}

ssh_reload() {
    local why=$1
    if ((chrooted)); then
        echo "  in a chroot: sshd was not reloaded; it reads the new configuration when it starts"
    elif ((!systemd_up)); then
        echo "  systemd is not running: could not reload sshd; restart sshd for $why to take effect"
    elif unit_active ssh.service; then
        act systemctl reload ssh.service
    elif unit_active ssh.socket; then
        echo "  sshd runs per connection (ssh.socket): new connections read the new configuration"
    else
        echo "  sshd is not running: it reads the new configuration when it starts"
    fi
}

ssh_apply() {
    local content effective want got problem=0 keyword
    if ! has_sshd; then
        echo "  openssh-server is not installed: skipped"
        return 0
    fi
    if ! sshd_reads_dropins; then
        echo "  REFUSED: /etc/ssh/sshd_config has no \"Include /etc/ssh/sshd_config.d/*.conf\" line, so a drop-in" >&2
        echo "  in $SSHD_DIR would change nothing. Add that line at the top of /etc/ssh/sshd_config" >&2
        echo "  (Debian's default has it) and run this again." >&2
        failed=1
        return 0
    fi
    # Once our drop-in is in force, passwords are already off: the lockout check was made then.
    if ! is_ours "$SSHD_DROPIN"; then
        ssh_key_users
        if ((${#key_users[@]} == 0)) && ((dry_run)) && [ "$(id -u)" -ne 0 ]; then
            echo "  (not root: this dry run cannot read other users' keys; a real run refuses unless one has a key)"
        elif ((${#key_users[@]} == 0)); then
            ssh_refusal
            failed=1
            return 0
        else
            echo "  users who can still log in with a key: ${key_users[*]}"
        fi
    fi
    content="$MARK
# Key-only SSH without root login (docs/hardening.md). Undo: /usr/lib/boxbot/harden-os.sh --revert --only ssh
# sshd uses the first value it reads for each keyword, and sshd_config includes this folder at its top.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes"
    if ! write_file "$SSHD_DROPIN" 644 "$content"; then
        return 0
    fi
    state_add ssh-dropin
    if ((dry_run)); then
        echo "  would run: sshd -t (check the configuration), then reload sshd"
        return 0
    fi
    sshd_prepare
    if ! /usr/sbin/sshd -t; then
        rm -f "$SSHD_DROPIN"
        state_del ssh-dropin
        die "sshd -t rejects the configuration with $SSHD_DROPIN: removed it again, sshd left as it was"
    fi
    effective=$(sshd_effective)
    for want in "passwordauthentication no" "kbdinteractiveauthentication no" "permitrootlogin no"; do
        keyword=${want%% *}
        got=$(printf '%s\n' "$effective" | awk -v k="$keyword" '$1 == k { print }')
        if [ -n "$effective" ] && [ "$got" != "$want" ]; then
            warn "sshd still says \"$got\": an earlier file sets $keyword first ($(grep -liE "^[[:space:]]*${keyword}[[:space:]]" /etc/ssh/sshd_config "$SSHD_DIR"/*.conf 2>/dev/null | grep -vxF "$SSHD_DROPIN" | tr '\n' ' '))"
            problem=1
        fi
    done
    ssh_reload "key-only logins"
    if ((problem)); then
        failed=1
    fi
}

ssh_refusal() {
    local candidates
    candidates=$(getent passwd | while IFS=: read -r name _ uid _ _ _ shell; do
        [ "$uid" != 0 ] && login_shell "$shell" && printf '%s ' "$name"
    done || true)
    {
        echo "  REFUSED to turn off password logins: no user but root has an SSH key that sshd would accept,"
        echo "  so nobody could log in afterwards (root logins are turned off too)."
        if [ -n "$candidates" ]; then
            echo "  Users with a login shell: $candidates"
        else
            echo "  No user but root has a login shell: create one first (adduser NAME)."
        fi
        echo "  Add a key from your own computer with:  ssh-copy-id NAME@THIS-BOX"
        echo "  (or put the public key line into ~NAME/.ssh/authorized_keys, mode 600, owned by NAME),"
        echo "  check that 'ssh NAME@THIS-BOX' works without a password, then run this again."
    } >&2
}

ssh_revert() {
    if remove_ours "$SSHD_DROPIN"; then
        state_del ssh-dropin
        if ((!dry_run)) && ! /usr/sbin/sshd -t; then
            warn "sshd -t fails after removing $SSHD_DROPIN: check /etc/ssh/sshd_config"
        fi
        ssh_reload "password logins"
    fi
    state_del ssh-dropin
}

# ---------------------------------------------------------------------------------------------
# Step: upgrades

apt_value() { apt-config dump 2>/dev/null | awk -v k="$1" '$1 == k { gsub(/[";]/, "", $2); print $2 }' | tail -n 1; }
auto_upgrades_on() { [ "$(apt_value APT::Periodic::Update-Package-Lists)" = 1 ] && [ "$(apt_value APT::Periodic::Unattended-Upgrade)" = 1 ]; }

upgrades_apply() {
    local content target timer origins
    ensure_package unattended-upgrades
    content="$MARK
// Daily package lists and unattended upgrades (docs/hardening.md). Which origins get upgraded is set in
// 50unattended-upgrades (Debian's default: Debian stable and Debian-Security).
// Undo: /usr/lib/boxbot/harden-os.sh --revert --only upgrades
APT::Periodic::Update-Package-Lists \"1\";
APT::Periodic::Unattended-Upgrade \"1\";"
    if ((dry_run)) && ! installed unattended-upgrades; then
        echo "  (installed without questions, the package writes $APT_PERIODIC with both values at 1 itself;"
        echo "  a real run checks that afterwards and writes its own file only if they are not)"
    elif auto_upgrades_on && ! is_ours "$APT_OVERRIDE"; then
        echo "  automatic upgrades are on (APT::Periodic::Update-Package-Lists and Unattended-Upgrade are 1)"
    else
        target=$APT_PERIODIC
        if [ -e "$APT_PERIODIC" ] && ! is_ours "$APT_PERIODIC"; then
            # dpkg-reconfigure unattended-upgrades owns that file; override it with a later one instead.
            echo "  $APT_PERIODIC (not ours) turns automatic upgrades off: overriding it with $APT_OVERRIDE"
            target=$APT_OVERRIDE
        fi
        if write_file "$target" 644 "$content"; then
            state_add "upgrades-file $target"
        fi
        if ((!dry_run)) && ! auto_upgrades_on; then
            warn "automatic upgrades are still off: another file in /etc/apt/apt.conf.d sets APT::Periodic::Unattended-Upgrade"
            failed=1
        fi
    fi
    # apt's timers run unattended-upgrade; they are enabled by default, but check.
    if command -v systemctl >/dev/null 2>&1; then
        for timer in apt-daily.timer apt-daily-upgrade.timer; do
            unit_exists "$timer" || continue
            case "$(unit_enabled_state "$timer")" in
            enabled | static) ;;
            masked) warn "$timer is masked: unattended upgrades will not run until you unmask it" ;;
            *)
                act systemctl enable -q "$timer"
                state_add "upgrades-enabled $timer"
                ;;
            esac
        done
    fi
    if origins=$(apt-config dump 2>/dev/null | awk '$1 == "Unattended-Upgrade::Origins-Pattern::" { $1 = ""; print }') && [ -n "$origins" ]; then
        echo "  origins upgraded automatically (50unattended-upgrades):"
        printf '%s\n' "$origins" | sed 's/^ */    /'
    fi
    if grep -rqs "archive.raspberrypi" /etc/apt/sources.list /etc/apt/sources.list.d/ &&
        ! grep -qi "raspberry" <<<"$origins"; then
        echo "  note: packages from archive.raspberrypi.com (kernel, firmware) are not among them: see docs/hardening.md"
    fi
}

upgrades_revert() {
    local file timer
    for file in "$APT_PERIODIC" "$APT_OVERRIDE"; do
        if is_ours "$file"; then
            remove_ours "$file" || true
        fi
    done
    state_del upgrades-file
    if [ -f "$STATE" ]; then
        while read -r timer; do
            act systemctl disable -q "$timer"
        done < <(awk '$1 == "upgrades-enabled" { print $2 }' "$STATE")
    fi
    state_del upgrades-enabled
    if state_has installed-unattended-upgrades; then
        echo "  unattended-upgrades stays installed (apt-get purge unattended-upgrades removes it)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Step: services

services_apply() {
    local unit enabled active before=$changes
    command -v systemctl >/dev/null 2>&1 || {
        echo "  systemctl not found: nothing to do"
        return 0
    }
    for unit in $SERVICE_UNITS; do
        unit_exists "$unit" || continue
        enabled=$(unit_enabled_state "$unit")
        if [ "$enabled" = masked ]; then
            continue
        fi
        active=inactive
        unit_active "$unit" && active=active
        echo "  $unit: $enabled, $active -> stopped, disabled, masked"
        # Recorded first, so --revert restores the unit even if a command below fails.
        state_add "masked $unit $enabled $active"
        if [ "$active" = active ]; then
            act systemctl stop "$unit" || failed=1
        fi
        case "$enabled" in
        enabled | enabled-runtime | indirect) act systemctl disable -q "$unit" || failed=1 ;;
        esac
        # mask links /etc/systemd/system/UNIT to /dev/null: it fails when a unit file of that name is there.
        act systemctl mask -q "$unit" || failed=1
        if [ "$unit" = avahi-daemon.service ]; then
            echo "  note: without mDNS, $(hostname 2>/dev/null || echo this-box).local no longer resolves: connect by address"
            echo "  (hostname -I shows them) or give the box a name in your router's DNS"
        fi
    done
    if ((chrooted || !systemd_up)) && ((changes > before)); then
        echo "  systemd is not running here: units were disabled and masked, not stopped"
    fi
}

services_revert() {
    local line unit enabled active
    [ -f "$STATE" ] || return 0
    while read -r line; do
        read -r _ unit enabled active <<<"$line"
        if [ "$(unit_enabled_state "$unit")" = masked ]; then
            act systemctl unmask -q "$unit"
            case "$enabled" in
            enabled | enabled-runtime | indirect) act systemctl enable -q "$unit" ;;
            esac
            if [ "$active" = active ] && ((systemd_up)); then
                act systemctl start "$unit"
            fi
        fi
        state_del "masked $unit"
    done < <(grep '^masked ' "$STATE" || true)
}

# ---------------------------------------------------------------------------------------------

step_selected() {
    local step=$1
    if [ -n "$only" ] && [[ ",$only," != *",$step,"* ]]; then return 1; fi
    if [ -n "$skip" ] && [[ ",$skip," == *",$step,"* ]]; then return 1; fi
    return 0
}

check_steps() {
    local list=$1 step
    for step in ${list//,/ }; do
        [[ " $ALL_STEPS " == *" $step "* ]] || {
            echo "harden-os: unknown step \"$step\" (steps: ${ALL_STEPS// /, })" >&2
            exit 2
        }
    done
}

main() {
    local step before failed_before lock
    while (($#)); do
        case "$1" in
        --dry-run) dry_run=1 ;;
        --revert) revert=1 ;;
        --only)
            [ $# -ge 2 ] || die "--only needs a step list"
            only=$2
            shift
            ;;
        --only=*) only=${1#--only=} ;;
        --skip)
            [ $# -ge 2 ] || die "--skip needs a step list"
            skip=$2
            shift
            ;;
        --skip=*) skip=${1#--skip=} ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "harden-os: unknown argument \"$1\" (see --help)" >&2
            exit 2
            ;;
        esac
        shift
    done
    check_steps "$only"
    check_steps "$skip"
    if [ "$(id -u)" -ne 0 ] && ((!dry_run)); then
        die "must run as root (try: sudo $0${*:+ $*}); --dry-run works without root"
    fi
    init_environment
    if ((!dry_run)); then
        lock=/run/lock/boxbot-harden.lock
        [ -d /run/lock ] || lock=/run/boxbot-harden.lock
        exec 9>"$lock"
        flock -n 9 || die "another harden-os.sh is running"
    fi
    ((dry_run)) && say "dry run: nothing is changed"
    ((chrooted)) && say "in a chroot: files are written, services are not started, reloaded or stopped, rules not loaded"
    ((!chrooted && !systemd_up)) && say "systemd is not running: files are written, services are not started, reloaded or stopped"

    for step in $ALL_STEPS; do
        step_selected "$step" || continue
        before=$changes
        failed_before=$failed
        if ((revert)); then
            say "$step: reverting"
            "${step}_revert"
        else
            say "$step"
            "${step}_apply"
        fi
        if ((changes == before && failed == failed_before)); then
            echo "  nothing to change"
        fi
    done

    if ((dry_run)); then
        say "dry run: $changes change(s) would be made; nothing was changed"
    elif ((changes == 0 && !failed)); then
        say "nothing to change"
    elif ((changes == 0)); then
        say "nothing changed"
    else
        say "done: $changes change(s)"
    fi
    if ((failed)); then
        say "some steps were refused or incomplete (see above)"
        exit 1
    fi
}

main "$@"
