#!/usr/bin/env bash
# Native AOT publish of the six executables into out/bin (or $OUT), for this machine's RID or $RID:
# another RID goes to out/bin-$RID, so RID=linux-arm64 on an x86_64 machine (a cross build, set up in
# cmd/Directory.Build.props) leaves the host's out/bin alone. Fails on any warning:
# TreatWarningsAsErrors already turns trim/AOT analyzer warnings into errors, and this also
# fails on any warning the native compiler or linker prints.
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
    x86_64) default_rid=linux-x64 ;;
    aarch64 | arm64) default_rid=linux-arm64 ;;
    *) default_rid="linux-$(uname -m)" ;;
esac
RID="${RID:-$default_rid}"
if [ "$RID" = "$default_rid" ]; then
    OUT="${OUT:-out/bin}"
else
    OUT="${OUT:-out/bin-$RID}"
fi
log="out/publish-$RID.log"
mkdir -p "$OUT" out

# Nothing to do when the sources are exactly those of the last publish into $OUT (the commit, plus any
# uncommitted change): `make install-test` after `make test` (CI) then does not publish twice.
stamp=""
if git rev-parse --git-dir >/dev/null 2>&1; then
    stamp="$( (echo "$RID"; git rev-parse HEAD; git status --porcelain --untracked-files=all -- cmd lib Directory.Build.props Directory.Packages.props global.json; git diff HEAD -- cmd lib Directory.Build.props Directory.Packages.props global.json) | sha256sum | cut -d' ' -f1)"
    if [ -f "$OUT/.publish-stamp" ] && [ "$(cat "$OUT/.publish-stamp")" = "$stamp" ]; then
        echo "publish: $OUT is up to date with the sources (remove $OUT/.publish-stamp to force a publish)"
        exit 0
    fi
fi
rm -f "$OUT/.publish-stamp"
: >"$log"

for exe in boxbot boxbot-agent boxbot-sandbox boxbot-webhook boxbot-perception boxbot-plugin-host; do
    echo "publish: $exe ($RID, Native AOT)"
    if ! dotnet publish "cmd/$exe/$exe.csproj" -c Release -r "$RID" -o "$OUT" -nologo -clp:NoSummary >>"$log" 2>&1; then
        grep -E ': (error|warning) ' "$log" | sort -u >&2 || tail -n 40 "$log" >&2
        echo "publish: $exe failed (full log: $log)" >&2
        exit 1
    fi
done

if grep -qiE '(: warning |warning (IL|NETSDK|CS)[0-9]+)' "$log"; then
    grep -iE '(: warning |warning (IL|NETSDK|CS)[0-9]+)' "$log" | sort -u >&2
    echo "publish: warnings are not allowed (full log: $log)" >&2
    exit 1
fi
# Symbols files are not part of the product.
rm -f "$OUT"/*.dbg
# The sandbox's Python runtime (the bb SDK and its bootstrap), bound read-only into every job.
rm -rf "$OUT/sandbox-runtime"
mkdir -p "$OUT/sandbox-runtime"
cp -r lib/BoxBot.Sandbox/python/. "$OUT/sandbox-runtime/"
find "$OUT/sandbox-runtime" -name __pycache__ -prune -exec rm -rf {} +
chmod -R u=rwX,go=rX "$OUT/sandbox-runtime"
# The agent's built-in skills (each a folder with SKILL.md), read next to its executable.
rm -rf "$OUT/skills"
mkdir -p "$OUT/skills"
cp -r lib/BoxBot.Agent/skills/. "$OUT/skills/"
chmod -R u=rwX,go=rX "$OUT/skills"
[ -z "$stamp" ] || echo "$stamp" >"$OUT/.publish-stamp"
echo "publish: six executables and the sandbox runtime in $OUT, zero warnings"
