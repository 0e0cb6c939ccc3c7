#!/bin/sh
# kubefix post-upgrade hook: repair local kubeconfigs after a K3s (or any cluster) upgrade.
#
# Usage:  post-upgrade.sh [KUBECONFIG ...]
#
# Without arguments it repairs every local user's ~/.kube/config (each home under
# $KUBEFIX_HOME_ROOT, default /home, plus /root). kubefix keeps each file's owner and mode,
# writes a 0600 backup beside it, and never prints secrets, so the log is safe to keep.
#
# Environment:
#   KUBEFIX          kubefix binary (default: kubefix on PATH)
#   KUBEFIX_ARGS     extra arguments, e.g. "--k3s-config /etc/rancher/k3s/k3s.yaml"
#   KUBEFIX_HOME_ROOT  where home directories live (default /home)
#   KUBEFIX_STRICT   1: exit 1 when kubefix fails on any file. Default: log and exit 0,
#                    so kubefix's own errors never fail the upgrade.
#
# Log lines go to stderr, prefixed "kubefix-post-upgrade:".

set -u

KUBEFIX=${KUBEFIX:-kubefix}
KUBEFIX_ARGS=${KUBEFIX_ARGS:-}
KUBEFIX_HOME_ROOT=${KUBEFIX_HOME_ROOT:-/home}
KUBEFIX_STRICT=${KUBEFIX_STRICT:-0}

log() {
    printf 'kubefix-post-upgrade: %s\n' "$*" >&2
}

if ! command -v "$KUBEFIX" >/dev/null 2>&1; then
    log "kubefix not found (KUBEFIX=$KUBEFIX); nothing done"
    [ "$KUBEFIX_STRICT" = 1 ] && exit 1
    exit 0
fi

if [ "$#" -eq 0 ]; then
    for home in "$KUBEFIX_HOME_ROOT"/* /root; do
        if [ -f "$home/.kube/config" ]; then
            set -- "$@" "$home/.kube/config"
        fi
    done
fi
if [ "$#" -eq 0 ]; then
    log "no kubeconfig found; nothing to do"
    exit 0
fi

failed=0
for config in "$@"; do
    # shellcheck disable=SC2086 # KUBEFIX_ARGS is a list of words on purpose
    output=$("$KUBEFIX" --apply --color never --kubeconfig "$config" $KUBEFIX_ARGS 2>&1)
    status=$?
    printf '%s\n' "$output" | while IFS= read -r line; do
        [ -n "$line" ] && log "$line"
    done
    if [ "$status" -ne 0 ]; then
        log "kubefix failed on $config (exit $status); the file was left as it was"
        failed=1
    fi
done

if [ "$failed" = 1 ] && [ "$KUBEFIX_STRICT" = 1 ]; then
    exit 1
fi
exit 0
