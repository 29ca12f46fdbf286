#!/usr/bin/env bash
# fetch-kernel.sh - fetch ONE Debian kernel package with apt and unpack it.
#
#   fetch-kernel.sh        prints the unpack dir (has boot/vmlinuz-* and lib/modules/*)
#
# The package is the single Depends: of linux-image-cloud-amd64 (override the
# metapackage with KERNEL_META, or pin the package with KERNEL_PKG).  Only that
# one .deb is downloaded (`apt-get download linux-image-6.1.0-*` would be a
# pattern matching ~30 packages) and it is unpacked with dpkg -x, not installed.
# Cache: $DROVER_LAB_CACHE (default ~/.cache/drover-lab)/{debs,kernel/PKG}.
source "$(dirname "$0")/lib.sh"
need_pkgs apt dpkg

meta="${KERNEL_META:-linux-image-cloud-amd64}"
pkg="${KERNEL_PKG:-}"
resolve_pkg() { apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}'; }
if [ -z "$pkg" ]; then
  pkg="$(resolve_pkg)"
  if [ -z "$pkg" ]; then
    apt-get update -qq >&2
    pkg="$(resolve_pkg)"
  fi
fi
[ -n "$pkg" ] || die "cannot resolve a kernel package from $meta"
[[ "$pkg" =~ ^[a-z0-9.+-]+$ ]] || die "odd package name '$pkg'"

debs="$DROVER_LAB_CACHE/debs"
dest="$DROVER_LAB_CACHE/kernel/$pkg"
mkdir -p "$debs"
if [ ! -f "$dest/.unpacked" ]; then
  deb="$(ls "$debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)"
  if [ -z "$deb" ]; then
    log "apt-get download $pkg"
    # APT::Sandbox::User=root: the _apt user cannot write into root's home.
    (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
    deb="$(ls "$debs/${pkg}_"*.deb | head -n1)"
  fi
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  dpkg -x "$deb" "$dest.tmp"
  rm -rf "$dest"; mv "$dest.tmp" "$dest"
  touch "$dest/.unpacked"
  log "unpacked $(basename "$deb") -> $dest"
fi
ls "$dest"/boot/vmlinuz-* >/dev/null 2>&1 || die "no vmlinuz in $dest"
echo "$dest"
