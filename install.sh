#!/bin/sh
# Installs the rxroute executable for this machine from a release.
#
#   curl -fsSL https://github.com/rxroute/rxroute/releases/latest/download/install.sh | sh
#
# Settings (environment):
#   RXROUTE_DOWNLOAD_URL  where the release's files are (default: the latest GitHub release)
#   RXROUTE_INSTALL_DIR   where rxroute goes (default: ~/.local/bin)
#   RXROUTE_TARGET        skip detection: linux-x64, linux-x64-baseline, linux-arm64,
#                         darwin-x64, darwin-arm64, windows-x64
#
# It reads SHA256SUMS first (that names the archive, version included), then
# downloads the archive, checks its SHA-256, unpacks it in a temporary folder
# and only then moves rxroute into place. Any failure exits non-zero with
# nothing installed.
set -eu

base_url=${RXROUTE_DOWNLOAD_URL:-https://github.com/rxroute/rxroute/releases/latest/download}
base_url=${base_url%/}
install_dir=${RXROUTE_INSTALL_DIR:-${HOME:?HOME is not set; set RXROUTE_INSTALL_DIR}/.local/bin}
targets="linux-x64 linux-x64-baseline linux-arm64 darwin-x64 darwin-arm64 windows-x64"

say() { printf 'rxroute install: %s\n' "$*"; }
fail() {
  printf 'rxroute install: error: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf 'hint: %s\n' "$2" >&2
  exit 1
}
npx_hint="use the npm package instead: npx rxroute (or bunx rxroute, or deno run -A npm:rxroute)"

is_musl() {
  for loader in /lib/ld-musl-*.so.1; do
    [ -e "$loader" ] && return 0
  done
  ldd --version 2>&1 | grep -qi musl
}

has_avx2() {
  case $1 in
    linux) grep -qw avx2 /proc/cpuinfo 2>/dev/null ;;
    darwin) sysctl -n machdep.cpu.leaf7_features 2>/dev/null | grep -qw AVX2 ;;
    *) return 1 ;;
  esac
}

detect_target() {
  os_name=$(uname -s)
  cpu_name=$(uname -m)
  case $os_name in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN*) os=windows ;;
    *) fail "there is no rxroute build for $os_name ($cpu_name)" "$npx_hint" ;;
  esac
  case $cpu_name in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) fail "there is no rxroute build for $cpu_name CPUs on $os_name" "$npx_hint" ;;
  esac
  # A shell under Rosetta 2 reports x86_64 on an Apple Silicon Mac.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  if [ "$os" = linux ] && is_musl; then
    fail "this Linux uses musl libc (Alpine?): rxroute's Linux builds need glibc, musl is not supported" "$npx_hint"
  fi
  if [ "$os" = windows ] && [ "$arch" = arm64 ]; then
    fail "there is no rxroute build for Windows on ARM" "$npx_hint"
  fi
  if [ "$arch" = x64 ] && ! has_avx2 "$os"; then
    case $os in
      linux) printf '%s\n' linux-x64-baseline; return ;;
      darwin) fail "this Mac's CPU has no AVX2, which the darwin-x64 build needs" "$npx_hint" ;;
    esac
  fi
  printf '%s\n' "$os-$arch"
}

download() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    fail "neither curl nor wget is installed" "install one of them and run this again"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "no sha256sum or shasum to check the download with"
  fi
}

if [ -n "${RXROUTE_TARGET:-}" ]; then
  target=$RXROUTE_TARGET
  case " $targets " in
    *" $target "*) ;;
    *) fail "RXROUTE_TARGET=$target is not a release target" "use one of: $targets" ;;
  esac
else
  target=$(detect_target)
fi
case $target in
  windows-*) archive_ext=zip exe=rxroute.exe ;;
  *) archive_ext=tar.gz exe=rxroute ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rxroute-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "target $target, from $base_url"
download "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" ||
  fail "could not download $base_url/SHA256SUMS" "check RXROUTE_DOWNLOAD_URL and your connection"

# The archive's line: "<sha256>  rxroute-<version>-<target>.<ext>".
line=$(grep -E "^[0-9a-f]{64}  rxroute-[^ /]+-$target\.$archive_ext\$" "$tmp/SHA256SUMS" | head -n 1 || true)
[ -n "$line" ] || fail "the release at $base_url has no archive for $target" "$npx_hint"
expected=${line%% *}
archive=${line##* }

download "$base_url/$archive" "$tmp/$archive" ||
  fail "could not download $base_url/$archive" "check your connection and run this again"
actual=$(sha256_of "$tmp/$archive")
[ "$actual" = "$expected" ] ||
  fail "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual" "nothing was installed; download again, and report it if it persists"

mkdir "$tmp/unpacked"
case $archive_ext in
  zip) command -v unzip >/dev/null 2>&1 || fail "unzip is needed to unpack $archive"
       unzip -q "$tmp/$archive" -d "$tmp/unpacked" ;;
  *) tar -xzf "$tmp/$archive" -C "$tmp/unpacked" ;;
esac || fail "could not unpack $archive"
[ -f "$tmp/unpacked/$exe" ] || fail "$archive holds no $exe"
chmod 755 "$tmp/unpacked/$exe"

# The release signs its macOS executables ad hoc; should macOS's own check
# reject one, a fresh ad-hoc signature made here is accepted. A valid one is
# left alone.
if [ "$(uname -s)" = Darwin ] && command -v codesign >/dev/null 2>&1; then
  if ! codesign --verify "$tmp/unpacked/$exe" >/dev/null 2>&1; then
    codesign --remove-signature "$tmp/unpacked/$exe" 2>/dev/null || true
    codesign --force --sign - "$tmp/unpacked/$exe" >/dev/null 2>&1 ||
      fail "could not sign $exe ad hoc with codesign" "see the macOS section of docs/releases.md"
  fi
fi

mkdir -p "$install_dir" || fail "could not create $install_dir" "set RXROUTE_INSTALL_DIR to a folder you can write"
# Copy next to the destination, then rename: a running rxroute is never half-overwritten.
cp "$tmp/unpacked/$exe" "$install_dir/.$exe.partial" || fail "could not write to $install_dir" "set RXROUTE_INSTALL_DIR to a folder you can write"
mv -f "$install_dir/.$exe.partial" "$install_dir/$exe"

version=$("$install_dir/$exe" --version 2>/dev/null || printf '%s' "$archive")
say "installed $version to $install_dir/$exe"
case ":${PATH:-}:" in
  *":$install_dir:"*) ;;
  *) say "$install_dir is not on your PATH; add this line to your shell's profile (~/.profile, ~/.zshrc):"
     # shellcheck disable=SC2016 # $PATH is meant literally: the user's shell expands it
     printf '\n  export PATH="%s:$PATH"\n\n' "$install_dir" ;;
esac
