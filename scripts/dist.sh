#!/usr/bin/env bash
# Build a kubefix release archive, its checksum and the krew manifest.
#
#   scripts/dist.sh [--target TRIPLE] [--binary PATH] [--out DIR]
#                   [--base-url URL] [--homepage URL]
#
#   --target    Rust target triple to build for (default: the host's). Completions and the
#               man page come from running a kubefix: the target's binary when it runs
#               here, else a host build.
#   --binary    Package this already-built kubefix instead of building one (CI, tests); it
#               must be built for --target.
#   --out       Output directory (default: dist).
#   --base-url  Where the archives will be downloadable, for the krew manifest's uri
#               (default: file:// URLs of the output directory).
#   --homepage  The manifest's homepage (default: Cargo.toml's homepage or repository; the
#               line is left out when there is none).
#
# Writes into DIR:
#   kubefix-VERSION-TARGET.tar.gz          kubefix-VERSION-TARGET/ with the binary, README.md,
#                                          CHANGELOG.md, LICENSE-MIT, LICENSE-APACHE,
#                                          SECURITY.md, complete/ (bash, zsh, fish, powershell,
#                                          elvish) and doc/kubefix.1
#   kubefix-VERSION-TARGET.tar.gz.sha256   in `sha256sum` format (check with sha256sum -c)
#   fix-kubeconfig.yaml                    packaging/krew/fix-kubeconfig.yaml.in filled in, one
#                                          platform per archive of this version in DIR (run
#                                          once per target into the same DIR)
#
# The archive is reproducible for the same binary: entries sorted by name, owner and group
# 0, one mtime for all (SOURCE_DATE_EPOCH, else the date of the HEAD commit), gzip without
# name or time. The same SOURCE_DATE_EPOCH goes to the build, so `--version` shows that date.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    printf 'dist.sh: %s\n' "$*" >&2
    exit 2
}

target=
binary=
out=dist
base_url=
homepage=
while [ $# -gt 0 ]; do
    case $1 in
        --target | --binary | --out | --base-url | --homepage)
            [ $# -ge 2 ] || die "$1 needs a value"
            case $1 in
                --target) target=$2 ;;
                --binary) binary=$2 ;;
                --out) out=$2 ;;
                --base-url) base_url=${2%/} ;;
                --homepage) homepage=$2 ;;
            esac
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

# The [package] table's value of KEY in Cargo.toml (a plain "string" value), or nothing.
package_field() {
    awk -v key="$1" '
        /^\[/ { in_package = ($0 == "[package]") }
        in_package && $1 == key && $2 == "=" {
            sub(/^[^=]*= *"/, ""); sub(/".*$/, ""); print; exit
        }' Cargo.toml
}

version=$(package_field version)
[ -n "$version" ] || die "no version in Cargo.toml"
host=$(rustc -vV | sed -n 's/^host: //p')
target=${target:-$host}
[ -n "$homepage" ] || homepage=$(package_field homepage)
[ -n "$homepage" ] || homepage=$(package_field repository)

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) \
        || die "no git history here: set SOURCE_DATE_EPOCH (seconds since 1970) for the archive's dates"
fi
export SOURCE_DATE_EPOCH

# krew's "os arch" of a target triple; fails for a target krew or kubefix does not run on.
krew_platform() {
    local os arch
    case $1 in
        x86_64-*) arch=amd64 ;;
        aarch64-*) arch=arm64 ;;
        armv7-* | arm-*) arch=arm ;;
        i686-* | i586-*) arch=386 ;;
        *) return 1 ;;
    esac
    case $1 in
        *-linux-*) os=linux ;;
        *-apple-darwin) os=darwin ;;
        *) return 1 ;;
    esac
    echo "$os $arch"
}
krew_platform "$target" >/dev/null \
    || die "unsupported target $target (kubefix releases are for Linux and macOS on x86_64, aarch64, arm and i686)"

if [ -z "$binary" ]; then
    if [ "$target" = "$host" ]; then
        cargo build --release --locked --bin kubefix
        binary=target/release/kubefix
    else
        cargo build --release --locked --bin kubefix --target "$target"
        binary=target/$target/release/kubefix
    fi
fi
[ -x "$binary" ] || die "$binary: not an executable"

# A kubefix that runs here, to write the completions and the man page.
generator=$binary
if ! "$generator" --version >/dev/null 2>&1; then
    cargo build --release --locked --bin kubefix
    generator=target/release/kubefix
fi

name=kubefix-$version-$target
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/complete" "$root/doc"

install -m 0755 "$binary" "$root/kubefix"
for doc in README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE SECURITY.md; do
    install -m 0644 "$doc" "$root/$doc"
done
# Run as `kubefix` whatever the binary's file name: kubefix names itself after argv[0]
# (`kubectl-fix` writes kubectl-fix completions and a `kubectl fix` man page).
generate() {
    (exec -a kubefix "$generator" "$@")
}
for pair in bash:kubefix.bash zsh:_kubefix fish:kubefix.fish powershell:_kubefix.ps1 \
    elvish:kubefix.elv; do
    generate completions "${pair%%:*}" >"$root/complete/${pair#*:}"
done
generate man >"$root/doc/kubefix.1"
chmod 0644 "$root"/complete/* "$root/doc/kubefix.1"
chmod 0755 "$root" "$root/complete" "$root/doc"

archive=$name.tar.gz
tar --create --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
    --owner=0 --group=0 --numeric-owner --directory="$stage" "$name" \
    | gzip -n >"$out/$archive.tmp"
mv "$out/$archive.tmp" "$out/$archive"
(cd "$out" && sha256sum "$archive" >"$archive.sha256")

# The krew manifest: one platform per archive of this version in the output directory; for
# two archives of one os/arch (gnu and musl) the first by name.
platforms=$stage/platforms
: >"$platforms"
seen=
for sum in "$out"/kubefix-"$version"-*.tar.gz.sha256; do
    file=$(basename "${sum%.sha256}")
    dir=${file%.tar.gz}
    read -r p_os p_arch < <(krew_platform "${dir#kubefix-"$version"-}") || continue
    case " $seen " in *" $p_os/$p_arch "*) continue ;; esac
    seen="$seen $p_os/$p_arch"
    cat >>"$platforms" <<PLATFORM
  - selector:
      matchLabels:
        os: $p_os
        arch: $p_arch
    uri: ${base_url:-file://$out}/$file
    sha256: $(cut -d' ' -f1 "$sum")
    bin: kubefix
    files:
    - from: $dir/kubefix
      to: .
    - from: $dir/LICENSE-*
      to: .
PLATFORM
done
manifest=$out/fix-kubeconfig.yaml
{
    if [ -n "$homepage" ]; then
        sed -e "s|@VERSION@|$version|g" -e "s|@HOMEPAGE@|$homepage|g" \
            packaging/krew/fix-kubeconfig.yaml.in
    else
        sed -e "s|@VERSION@|$version|g" -e '/@HOMEPAGE@/d' packaging/krew/fix-kubeconfig.yaml.in
    fi
} | sed -e '/^#/d' -e "/^@PLATFORMS@\$/{r $platforms" -e 'd}' >"$manifest.tmp"
mv "$manifest.tmp" "$manifest"

printf '%s\n' "$out/$archive" "$out/$archive.sha256" "$manifest"
