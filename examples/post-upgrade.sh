#!/bin/sh
# kubefix post-upgrade hook: repair local kubeconfigs after a K3s (or any cluster) upgrade.
#
# Usage:  post-upgrade.sh [KUBECONFIG ...]
#
# Without arguments it repairs every local user's ~/.kube/config (each home under /home, plus
# /root; with KUBEFIX_HOME_ROOT set, each home under it and not /root). kubefix keeps each file's owner and mode,
# writes a 0600 backup beside it, and never prints secrets, so the log is safe to keep.
#
# It runs as root over files their owners control, so it trusts none of them: a config that
# is a symlink (or sits in a symlinked ~/.kube) is skipped, and so is one not owned by the
# owner of its home directory. kubefix itself refreshes node credentials only for an entry
# that proves it already holds one; flags that would weaken that (--force-identity) or put
# secrets into the log (--show-secrets) are dropped from KUBEFIX_ARGS.
#
# Environment:
#   KUBEFIX          kubefix binary (default: kubefix on PATH)
#   KUBEFIX_ARGS     extra arguments, e.g. "--k3s-config /etc/rancher/k3s/k3s.yaml"
#   KUBEFIX_HOME_ROOT  where home directories live (default /home); when set, /root is
#                    left out too, so the hook can be tried on a scratch directory
#   KUBEFIX_STRICT   1: exit 1 when kubefix fails on any file. Default: log and exit 0,
#                    so kubefix's own errors never fail the upgrade.
#
# Log lines go to stderr, prefixed "kubefix-post-upgrade:".

set -u

KUBEFIX=${KUBEFIX:-kubefix}
KUBEFIX_ARGS=${KUBEFIX_ARGS:-}
# root's home is a local user's too, unless the homes were moved elsewhere.
root_home=/root
[ -n "${KUBEFIX_HOME_ROOT:-}" ] && root_home=
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

# KUBEFIX_ARGS without the flags that weaken kubefix's guards (a word list, on purpose).
args=
skip_value=0
# shellcheck disable=SC2086 # KUBEFIX_ARGS is a list of words on purpose
for word in $KUBEFIX_ARGS; do
    if [ "$skip_value" = 1 ]; then
        skip_value=0
        continue
    fi
    case $word in
        --force-identity)
            log "ignoring --force-identity in KUBEFIX_ARGS: only a file's owner may swap identities"
            skip_value=1
            continue
            ;;
        --force-identity=*)
            log "ignoring --force-identity in KUBEFIX_ARGS: only a file's owner may swap identities"
            continue
            ;;
        --show-secrets)
            log "ignoring --show-secrets in KUBEFIX_ARGS: secrets stay out of the log"
            continue
            ;;
    esac
    args="$args $word"
done

# Owner (uid) of a file, not following a symlink.
uid_of() {
    stat -c %u -- "$1" 2>/dev/null
}

if [ "$#" -eq 0 ]; then
    for home in "$KUBEFIX_HOME_ROOT"/* ${root_home:+"$root_home"}; do
        config=$home/.kube/config
        if [ -L "$home" ] || [ -L "$home/.kube" ] || [ -L "$config" ]; then
            log "skipping $config: a symlink (it could point at any file)"
            continue
        fi
        [ -f "$config" ] || continue
        if [ "$(uid_of "$config")" != "$(uid_of "$home")" ]; then
            log "skipping $config: not owned by the owner of $home"
            continue
        fi
        set -- "$@" "$config"
    done
fi
if [ "$#" -eq 0 ]; then
    log "no kubeconfig found; nothing to do"
    exit 0
fi

failed=0
for config in "$@"; do
    if [ -L "$config" ]; then
        log "skipping $config: a symlink (it could point at any file)"
        continue
    fi
    # shellcheck disable=SC2086 # the arguments are a list of words on purpose
    output=$("$KUBEFIX" --apply --color never --kubeconfig "$config" $args 2>&1)
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
