#!/usr/bin/env bash
# check-systemd-units.sh — lint the units in systemd/ without a running systemd (REFERENCE.md 3.4).
#
# 1. `systemd-analyze verify` on the REAL unit files, unchanged. verify insists that every Exec*=
#    binary exists; /usr/local/bin/gpt2d is not installed on a build machine, so the units are checked
#    inside a throw-away root (--root=): the units are copied verbatim to <root>/etc/systemd/system,
#    the distribution's units to <root>/usr/lib/systemd/system (for sysinit.target & co), and a
#    stand-in executable is placed at every absolute Exec*= path the units name. verify exits 0 on
#    warnings (unknown keys, Type=notify-reload on systemd < 253), so ANY output counts as failure.
# 2. `systemd-sysusers --root=<root>` on gpt2d.sysusers (it must parse and create the group).
# 3. `systemd-analyze security --offline=true --threshold=20` on gpt2d.service: exposure ≤ 2.0.
#
# Exits 0 when everything passes, 1 on a failed check, 2 when systemd-analyze is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
units_dir=${GPT2D_UNITS_DIR:-systemd}   # override to check other copies (the tests do)
units=(gpt2d.socket gpt2d-http.socket gpt2d.service)
max_exposure=20   # tenths: 20 = 2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "check-systemd-units: systemd-analyze not found (Debian: apt-get install systemd)" >&2
    exit 2
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/gpt2d-units.XXXXXX")
trap 'rm -rf "$root"' EXIT
fail=0

# --- a minimal root --------------------------------------------------------------------------------
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib64"
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"   # usr-merged, like Debian 12
for dir in /usr/lib/systemd/system /lib/systemd/system; do
    if [ -d "$dir" ]; then cp -a "$dir" "$root/usr/lib/systemd/"; break; fi
done
for unit in "${units[@]}"; do
    cp "$units_dir/$unit" "$root/etc/systemd/system/$unit"
done
# Stand-ins for the executables the units run (first word of each Exec*= line, minus prefixes @-:+!|).
while read -r exe; do
    case "$exe" in /*) ;; *) continue ;; esac
    if [ ! -e "$root$exe" ]; then
        mkdir -p "$root$(dirname "$exe")"
        printf '#!/bin/sh\nexit 0\n' > "$root$exe"
        chmod 0755 "$root$exe"
    fi
done < <(sed -n -E 's/^[[:space:]]*Exec[A-Za-z]*=[@:+!|-]*([^[:space:]]+).*/\1/p' "${units[@]/#/$units_dir/}" | sort -u)

# --- 1. verify ---------------------------------------------------------------------------------------
echo "==> systemd-analyze verify ${units[*]}"
verify_out=$(systemd-analyze verify --root="$root" --man=no "${units[@]}" 2>&1) && verify_rc=0 || verify_rc=$?
if [ "$verify_rc" -ne 0 ] || [ -n "$verify_out" ]; then
    echo "FAIL: systemd-analyze verify (exit $verify_rc):" >&2
    printf '%s\n' "$verify_out" >&2
    fail=1
else
    echo "ok: no output"
fi

# --- 2. sysusers -------------------------------------------------------------------------------------
if [ -f "$units_dir/gpt2d.sysusers" ] && command -v systemd-sysusers >/dev/null 2>&1; then
    echo "==> systemd-sysusers gpt2d.sysusers"
    mkdir -p "$root/usr/lib/sysusers.d"
    cp "$units_dir/gpt2d.sysusers" "$root/usr/lib/sysusers.d/gpt2d.conf"
    # A bare file name is looked up in the sysusers.d dirs inside --root; it writes only $root/etc/{group,gshadow}.
    sysusers_out=$(systemd-sysusers --root="$root" gpt2d.conf 2>&1) && sysusers_rc=0 || sysusers_rc=$?
    sysusers_out=$(printf '%s\n' "$sysusers_out" | grep -v '^Creating group ' || true)
    if [ "$sysusers_rc" -ne 0 ] || [ -n "$sysusers_out" ] || ! grep -q '^gpt2d:' "$root/etc/group"; then
        echo "FAIL: systemd-sysusers (exit $sysusers_rc):" >&2
        printf '%s\n' "$sysusers_out" >&2
        fail=1
    else
        echo "ok: $(grep '^gpt2d:' "$root/etc/group")"
    fi
fi

# --- 3. security -------------------------------------------------------------------------------------
echo "==> systemd-analyze security --offline=true --threshold=$max_exposure gpt2d.service"
security_out=$(systemd-analyze security --offline=true --threshold="$max_exposure" --no-pager \
    "$units_dir/gpt2d.service" 2>&1) && security_rc=0 || security_rc=$?
score_line=$(printf '%s\n' "$security_out" | grep 'Overall exposure level' || true)
score=$(printf '%s\n' "$score_line" | sed -n -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/p')
if [ -z "$score" ]; then
    echo "FAIL: no exposure score in systemd-analyze security output:" >&2
    printf '%s\n' "$security_out" >&2
    fail=1
elif [ "$security_rc" -ne 0 ] || ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s * 10 <= m) }'; then
    echo "FAIL: exposure $score > $((max_exposure / 10)).$((max_exposure % 10)) (exit $security_rc)" >&2
    printf '%s\n' "$security_out" | grep -E '^✗' >&2 || true
    fail=1
else
    echo "ok: exposure $score (${score_line##*: })"
fi

if [ "$fail" -ne 0 ]; then
    echo "check-systemd-units: FAILED" >&2
    exit 1
fi
echo "check-systemd-units: all checks passed"
