#!/usr/bin/env bash
# Fetches, verifies and unpacks the pinned native inputs listed in cmake/sources.lock.
#
# Everything comes from Debian's package registry through apt's own client, using a
# private apt configuration kept in the cache folder: the machine's apt sources are
# never edited. The mirror URI is read from the machine's own apt sources, so no host
# name is written anywhere in this repository.
#
# Output: a CMake initial-cache file (given as $1) that sets XNNKLEIDI_<NAME>_DIR for
# every artifact, ready for `cmake -C`.
#
# Environment:
#   XNNKLEIDI_SOURCES_DIR  offline override: a folder holding the lock file's files.
#   XDG_CACHE_HOME         cache root (default ~/.cache); we use $XDG_CACHE_HOME/xnnkleidi.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock_file="$repo_root/cmake/sources.lock"
output_cmake="${1:?usage: fetch-sources.sh OUTPUT.cmake}"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/xnnkleidi"
download_dir="$cache_root/downloads"
unpack_root="$cache_root/src"
apt_root="$cache_root/apt"
mkdir -p "$download_dir" "$unpack_root"

log() { echo "[sources] $*" >&2; }
fail() { echo "[sources] error: $*" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Verifies FILE against EXPECTED; on mismatch, moves the file aside and stops with both sums.
verify_or_fail() {
  local file="$1" expected="$2" actual
  actual="$(sha256_of "$file")"
  if [[ "$actual" != "$expected" ]]; then
    mv -f "$file" "$file.rejected" 2>/dev/null || true
    fail "SHA-256 mismatch for $(basename "$file"): expected $expected, got $actual (moved aside to $file.rejected)"
  fi
}

apt_ready=0
apt_options=()
prepare_private_apt() {
  (( apt_ready )) && return 0
  command -v apt-get >/dev/null || fail "apt-get is not available; set XNNKLEIDI_SOURCES_DIR to a folder holding the files of cmake/sources.lock"
  local mirror=""
  # deb822 sources first (Debian 12 default), then the one-line format.
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    mirror="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list.d/*.sources)"
  fi
  if [[ -z "$mirror" && -f /etc/apt/sources.list ]]; then
    mirror="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [[ -n "$mirror" ]] || fail "could not find a Debian mirror URI in the machine's apt sources"
  mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial" "$apt_root/sources.list.d" "$apt_root/preferences.d"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  {
    for suite in trixie sid; do
      echo "deb [arch=amd64,arm64 signed-by=$keyring] $mirror $suite main"
      echo "deb-src [signed-by=$keyring] $mirror $suite main"
    done
    # bullseye's C library is the sysroot the shipped libraries link against
    # (glibc 2.31), so they load on Debian 11, RHEL 8 and later.
    echo "deb [arch=amd64,arm64 signed-by=$keyring] $mirror bullseye main"
    # bookworm's musl for arm64, the same version as this machine's musl-tools
    # (linux-musl-x64), is the C library linux-musl-arm64 links against.
    echo "deb [arch=amd64,arm64 signed-by=$keyring] $mirror bookworm main"
  } > "$apt_root/sources.list"
  apt_options=(
    -o "Dir::Etc::sourcelist=$apt_root/sources.list"
    -o "Dir::Etc::sourceparts=$apt_root/sources.list.d"
    -o "Dir::Etc::preferencesparts=$apt_root/preferences.d"
    -o "Dir::State::Lists=$apt_root/lists"
    -o "Dir::Cache=$apt_root/cache"
    -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
  )
  log "updating the private apt lists (trixie, sid, bullseye, bookworm)"
  apt-get "${apt_options[@]}" update -qq >"$apt_root/update.log" 2>&1 \
    || fail "private 'apt-get update' failed; see $apt_root/update.log"
  apt_ready=1
}

# Downloads one lock entry into the download folder. apt-get source exits non-zero when
# the .dsc or Debian diff is not served even though the orig tarball arrived, so success
# is judged by the file's presence (and later its checksum), never by the exit code.
download_artifact() {
  local kind="$1" package="$2" version="$3" file="$4"
  prepare_private_apt
  local work; work="$(mktemp -d "$download_dir/.fetch.XXXXXX")"
  if [[ "$kind" == source ]]; then
    (cd "$work" && apt-get "${apt_options[@]}" source --download-only -qq "$package=$version" >"$work/apt.log" 2>&1) || true
  else
    (cd "$work" && apt-get "${apt_options[@]}" download -qq "$package=$version" >"$work/apt.log" 2>&1) || true
  fi
  if [[ ! -f "$work/$file" ]]; then
    local tail_log; tail_log="$(tail -n 3 "$work/apt.log" 2>/dev/null || true)"
    rm -rf "$work"
    fail "the registry did not serve $file (package $package, version $version; it may no longer be served). Offline, set XNNKLEIDI_SOURCES_DIR to a folder holding $file (SHA-256 in cmake/sources.lock). apt said: $tail_log"
  fi
  mv -f "$work/$file" "$download_dir/$file"
  rm -rf "$work"
}

# Unpacks FILE into a folder keyed by its checksum, without the tarball's top folder,
# so that the resulting layout is the same for every artifact.
unpack_artifact() {
  local name="$1" kind="$2" file="$3" sha="$4"
  local target="$unpack_root/$name-${sha:0:12}"
  if [[ -f "$target/.xnnkleidi-unpacked" ]]; then
    echo "$target"; return 0
  fi
  rm -rf "$target" "$target.tmp"
  mkdir -p "$target.tmp"
  if [[ "$kind" != source ]]; then
    dpkg-deb -x "$file" "$target.tmp"
  else
    local top_entries
    top_entries="$(tar -tf "$file" | cut -d/ -f1 | sort -u | wc -l)"
    if [[ "$top_entries" == 1 ]]; then
      tar -xf "$file" -C "$target.tmp" --strip-components=1
    else
      tar -xf "$file" -C "$target.tmp"
    fi
  fi
  touch "$target.tmp/.xnnkleidi-unpacked"
  mv "$target.tmp" "$target"
  echo "$target"
}

# Applies native/patches/<name>/*.patch (in name order) to a copy of the verified,
# unpacked tree, so the pristine tree stays as the lock file describes it. Each
# series gets its own folder, named by the series' checksum: two checkouts with
# different series (a branch that adds a patch) share the cache without one
# re-patching the tree the other is compiling from. A series that changes is a new
# folder, so its first build recompiles what includes the changed files and more.
# Prints the folder to build from.
apply_patch_series() {
  local name="$1" pristine="$2"
  local series_dir="$repo_root/native/patches/$name"
  if ! compgen -G "$series_dir/*.patch" >/dev/null; then
    echo "$pristine"; return 0
  fi
  command -v patch >/dev/null || fail "the 'patch' tool is needed to apply $series_dir (apt-get install patch)"
  local series_sha
  series_sha="$(cat "$series_dir"/*.patch | sha256sum | cut -d' ' -f1)"
  local target="$pristine-patched-${series_sha:0:12}"
  if [[ "$(cat "$target/.xnnkleidi-patched" 2>/dev/null)" == "$series_sha" ]]; then
    echo "$target"; return 0
  fi
  # No stamp: an interrupted copy. Patch into a private folder and rename it into
  # place, so a second build of the same series at the same time cannot see half a tree.
  rm -rf "$target"
  local staging
  staging="$(mktemp -d "$target.XXXXXX.tmp")"
  cp -a "$pristine/." "$staging/"
  rm -f "$staging/.xnnkleidi-unpacked"
  local patch_file
  for patch_file in "$series_dir"/*.patch; do
    log "patch $name: $(basename "$patch_file")"
    patch --quiet --forward --batch -p1 -d "$staging" < "$patch_file" >&2 \
      || { rm -rf "$staging"; fail "$(basename "$patch_file") does not apply to $name as pinned in cmake/sources.lock"; }
  done
  echo "$series_sha" > "$staging/.xnnkleidi-patched"
  # The other build may have renamed its copy first; then that one is used.
  mv -T "$staging" "$target" 2>/dev/null || rm -rf "$staging"
  echo "$target"
}

{
  echo "# Written by cmake/fetch-sources.sh from cmake/sources.lock; do not edit."
} > "$output_cmake.tmp"

declare -A sysroot_parts=() sysroot_shas=()
while IFS=$'\t' read -r name kind package version file sha; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  source_file=""
  if [[ -n "${XNNKLEIDI_SOURCES_DIR:-}" && -f "$XNNKLEIDI_SOURCES_DIR/$file" ]]; then
    source_file="$XNNKLEIDI_SOURCES_DIR/$file"
  elif [[ -f "$download_dir/$file" ]]; then
    source_file="$download_dir/$file"
  elif [[ -n "${XNNKLEIDI_SOURCES_DIR:-}" ]]; then
    fail "$file (package $package, version $version) is not in XNNKLEIDI_SOURCES_DIR=$XNNKLEIDI_SOURCES_DIR"
  else
    log "downloading $package $version"
    download_artifact "$kind" "$package" "$version" "$file"
    source_file="$download_dir/$file"
  fi
  verify_or_fail "$source_file" "$sha"
  if [[ "$kind" == *:* ]]; then
    # Part of a root ("sysroot:<rid>" or "runtime:<rid>"): unpacked together with the
    # other parts of the same root below.
    sysroot_parts[$kind]+="$source_file"$'\n'
    sysroot_shas[$kind]+="$sha"
    log "ok  $name $version ($file, $kind)"
    continue
  fi
  dir="$(unpack_artifact "$name" "$kind" "$source_file" "$sha")"
  dir="$(apply_patch_series "$name" "$dir")"
  upper="$(tr '[:lower:]' '[:upper:]' <<<"$name")"
  echo "set(XNNKLEIDI_${upper}_DIR \"$dir\" CACHE PATH \"$package $version\" FORCE)" >> "$output_cmake.tmp"
  echo "set(XNNKLEIDI_${upper}_VERSION \"$version\" CACHE STRING \"\" FORCE)" >> "$output_cmake.tmp"
  if [[ "$name" == qemu ]]; then
    # The emulators themselves: static-pie, so they run on this machine as unpacked.
    for emulator in aarch64 x86_64; do
      program="$dir/usr/bin/qemu-$emulator"
      [[ -x "$program" ]] || fail "$file has no usr/bin/qemu-$emulator"
      "$program" --version >/dev/null 2>&1 || fail "$program (from $file) does not run on this machine"
      emulator_upper="$(tr '[:lower:]' '[:upper:]' <<<"$emulator")"
      echo "set(XNNKLEIDI_QEMU_${emulator_upper} \"$program\" CACHE FILEPATH \"qemu-$emulator $version\" FORCE)" >> "$output_cmake.tmp"
    done
  fi
  log "ok  $name $version ($file)"
done < "$lock_file"

# Each root is its Debian packages unpacked into one folder, keyed by their
# checksums: "sysroot:<rid>" to link against, "runtime:<rid>" to run on. Debian's
# absolute symlinks (libc.so.6, the loader) would point at this machine's own C
# library, so they are made relative to the root.
for root_kind in "${!sysroot_parts[@]}"; do
  group="${root_kind%%:*}" rid="${root_kind#*:}"
  key="$(sha256sum <<<"${sysroot_shas[$root_kind]}" | cut -c1-12)"
  target="$unpack_root/$group-$rid-$key"
  if [[ ! -f "$target/.xnnkleidi-unpacked" ]]; then
    rm -rf "$target" "$target.tmp"
    mkdir -p "$target.tmp"
    while IFS= read -r part; do
      [[ -n "$part" ]] && dpkg-deb -x "$part" "$target.tmp"
    done <<<"${sysroot_parts[$root_kind]}"
    find "$target.tmp" -type l -lname '/*' | while IFS= read -r link; do
      ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$target.tmp$(readlink "$link")")" "$link"
    done
    if [[ "$group" == runtime ]]; then
      # A loader cache of the root's own libraries: QEMU redirects the guest's
      # /etc/ld.so.cache into the root, and without one the guest would read this
      # machine's cache and load its newer libstdc++.
      case "$rid" in
        linux-x64) multiarch=x86_64-linux-gnu ;;
        linux-arm64) multiarch=aarch64-linux-gnu ;;
        *) fail "no multiarch folder known for $rid" ;;
      esac
      mkdir -p "$target.tmp/etc"
      printf '/lib/%s\n/usr/lib/%s\n' "$multiarch" "$multiarch" > "$target.tmp/etc/ld.so.conf"
      "$(command -v ldconfig || echo /sbin/ldconfig)" -r "$target.tmp" \
        || fail "ldconfig could not index the $rid runtime root"
    fi
    touch "$target.tmp/.xnnkleidi-unpacked"
    mv "$target.tmp" "$target"
  fi
  upper="$(tr '[:lower:]-' '[:upper:]_' <<<"${group}_$rid")"
  echo "set(XNNKLEIDI_${upper} \"$target\" CACHE PATH \"$group root for $rid\" FORCE)" >> "$output_cmake.tmp"
  log "ok  $group root for $rid"
done

mv -f "$output_cmake.tmp" "$output_cmake"
