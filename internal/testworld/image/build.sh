#!/bin/bash
# build.sh builds the test world's instance image: a Debian bookworm root file system made with
# debootstrap from the mirror this machine's apt already uses, imported into the local Docker
# engine as sear-testworld-instance:<tag>. The engine has no registry, so nothing is pulled.
#
# <tag> is a hash of this script (which holds the package list) and of every file under rootfs/
# (boot script, shutdown command, cloud-init and sshd settings): a change to any of them gives a new
# image; an unchanged build is reused. image.go computes the same hash; keep the two in step.
#
# Usage: build.sh [--print-ref] [--force]
#   --print-ref  print the image reference and exit
#   --force      build even if the image already exists
# Environment:
#   SEAR_TESTWORLD_MIRROR     Debian mirror URI; default: the one in this machine's apt sources
#   SEAR_TESTWORLD_DEB_CACHE  directory that keeps downloaded .debs between builds (optional)
#
# Needs root (debootstrap, chroot), docker and, if missing, installs debootstrap with apt-get.
# The last line on stdout is the image reference.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repository=sear-testworld-instance
suite=bookworm

# What an instance has, beyond debootstrap's minbase. debootstrap resolves Depends only, never
# Recommends, which keeps the image small.
packages=(
	cloud-init        # the real one: runs user data as on an AMI (NoCloud seed instead of IMDS)
	openssh-server    # real OpenSSH; host keys come from user data via cloud-init
	sudo              # the default user's passwordless sudo, as on Ubuntu AMIs
	tini              # PID 1: reaps orphans, passes SIGTERM on to sear-boot
	python3           # jobs are Python
	python3-distributed # Dask's scheduler and workers (engine: dask)
	rsync             # uploads
	iproute2          # ip, ss
	procps            # ps, pgrep, pkill
	ca-certificates
	netbase           # /etc/services, /etc/protocols (Python's socket.getservbyname)
	less
	curl
	# debootstrap does not resolve virtual packages: python3-cryptography (cloud-init, via
	# oauthlib and jwt) needs python3-cffi-backend-api-{min,max}, which only this provides.
	python3-cffi-backend
)

inputs_hash() {
	(
		cd "$here"
		find build.sh rootfs -type f | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done
	) | sha256sum | cut -c1-16
}

ref="$repository:$(inputs_hash)"

force=
for arg in "$@"; do
	case $arg in
	--print-ref) echo "$ref"; exit 0 ;;
	--force) force=1 ;;
	*) echo "build.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

log() { echo "build.sh: $*" >&2; }

if [ -z "$force" ] && docker image inspect "$ref" >/dev/null 2>&1; then
	log "$ref exists"
	echo "$ref"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		exec sudo -n --preserve-env=SEAR_TESTWORLD_MIRROR,SEAR_TESTWORLD_DEB_CACHE "$BASH" "$0" "$@"
	fi
	log "debootstrap needs root (or passwordless sudo)"
	exit 1
fi

# apt_mirror prints the Debian mirror this machine's apt uses: the first deb822 stanza (or one-line
# "deb" entry) that serves the suite we build, else any Debian mirror (its other suites live in the
# same archive).
apt_mirror() {
	local files=() f
	for f in /etc/apt/sources.list.d/*.sources; do [ -r "$f" ] && files+=("$f"); done
	if [ ${#files[@]} -gt 0 ]; then
		awk -v suite="$suite" '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; uris = ""; suites = ""; signed = ""
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^Types:/) { sub(/^Types:[ \t]*/, "", line); types = line }
					if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
					if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = line }
					if (line ~ /^Signed-By:/) { signed = line }
				}
				if ((" " types " ") !~ / deb /) next
				split(uris, u, /[ \t]+/)
				if ((" " suites " ") ~ (" " suite " ")) { print "1 " u[1]; next }
				if (suites !~ /security/ && (signed ~ /debian/ || u[1] ~ /\/debian\/?$/)) print "2 " u[1]
			}' "${files[@]}"
	fi
	{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } | awk -v suite="$suite" '
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == suite) print "1 " $i
			else if ($(i + 1) !~ /security/ && $i ~ /\/debian\/?$/) print "2 " $i
		}'
}

mirror=${SEAR_TESTWORLD_MIRROR:-$(apt_mirror | sort -s -k1,1n | sed -n '1s/^[12] //p')}
if [ -z "$mirror" ]; then
	log "no Debian mirror in /etc/apt; set SEAR_TESTWORLD_MIRROR"
	exit 1
fi
log "building $ref from $suite at $mirror"

if ! command -v debootstrap >/dev/null || [ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]; then
	log "installing debootstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >&2
fi

target=$(mktemp -d /var/tmp/sear-testworld-rootfs.XXXXXX)
cleanup() {
	# debootstrap mounts these while it configures packages; an interrupted run leaves them.
	for m in proc sys dev/pts dev; do
		mountpoint -q "$target/$m" 2>/dev/null && umount -l "$target/$m"
	done
	rm -rf --one-file-system "$target"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cache=()
if [ -n "${SEAR_TESTWORLD_DEB_CACHE:-}" ]; then
	mkdir -p "$SEAR_TESTWORLD_DEB_CACHE"
	cache=(--cache-dir="$(cd "$SEAR_TESTWORLD_DEB_CACHE" && pwd)")
fi

# dpkg fsyncs every file it unpacks; a half-built root file system is thrown away anyway, so skip
# that (as Docker's own Debian images do). Removed before the image is made.
mkdir -p "$target/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$target/etc/dpkg/dpkg.cfg.d/00-sear-build-unsafe-io"

include=$(IFS=,; echo "${packages[*]}")
start=$SECONDS
debootstrap --variant=minbase --components=main --include="$include" "${cache[@]}" \
	"$suite" "$target" "$mirror" >&2
log "debootstrap took $((SECONDS - start))s"

rm "$target/etc/dpkg/dpkg.cfg.d/00-sear-build-unsafe-io"

# The overlay: modes are set here, not taken from the files, since go:embed does not keep them.
(cd "$here/rootfs" && find . -type f) | while IFS= read -r f; do
	case $f in
	./usr/local/sbin/*) mode=0755 ;;
	*) mode=0644 ;;
	esac
	install -D -m "$mode" "$here/rootfs/$f" "$target/$f"
done

# shutdown and friends: the script in /usr/local/sbin (first in PATH for root and sudo), and the
# same at the absolute paths scripts use (/sbin is /usr/sbin here). Nothing provides them in a
# minbase without an init system; if a package ever does, divert it rather than overwrite it.
for cmd in shutdown poweroff halt reboot; do
	[ "$cmd" = shutdown ] || ln -s shutdown "$target/usr/local/sbin/$cmd"
	if [ -e "$target/usr/sbin/$cmd" ] || [ -L "$target/usr/sbin/$cmd" ]; then
		chroot "$target" dpkg-divert --local --rename --add "/usr/sbin/$cmd" >&2
	fi
	ln -s ../local/sbin/shutdown "$target/usr/sbin/$cmd"
done

# No SSH host keys in the image: every instance gets its own from user data (cloud-init's ssh
# module), as on EC2, where the AMI carries none either.
rm -f "$target"/etc/ssh/ssh_host_*

# Per-instance state that must not be baked in.
rm -rf "$target"/var/lib/cloud/* "$target"/var/log/cloud-init*
mkdir -p "$target/var/lib/cloud/seed/nocloud"
: >"$target/etc/machine-id"
rm -f "$target/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$target/etc/hosts"
: >"$target/etc/resolv.conf" # debootstrap copied the host's; Docker mounts its own

# Size: package caches and lists, documentation, manuals, translations.
find "$target/var/cache/apt" "$target/var/lib/apt/lists" -type f -delete # keeps apt's partial/ dirs
rm -rf "$target"/var/cache/debconf/*-old \
	"$target"/var/lib/dpkg/*-old "$target"/var/log/*.log "$target"/var/log/apt/* \
	"$target"/usr/share/man/* "$target"/usr/share/info/* "$target"/usr/share/lintian \
	"$target"/usr/share/linda "$target"/tmp/* "$target"/var/tmp/*
find "$target/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$target/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$target/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

size=$(du -sh --one-file-system "$target" | cut -f1)
log "root file system: $size"

# CMD: tini as PID 1, sear-boot under it (see sear-boot). container=docker in PID 1's environment
# is how cloud-init (and systemd) tell a container: growpart and resizefs then leave the root
# file system alone instead of looking for its disk.
start=$SECONDS
tar -C "$target" --numeric-owner -c . | docker import \
	--change 'CMD ["/usr/bin/tini", "--", "/usr/local/sbin/sear-boot"]' \
	--change 'ENV container=docker' \
	--change "LABEL org.opencontainers.image.title=$repository" \
	--message "sear test world instance ($suite, debootstrap minbase)" \
	- "$ref" >&2
log "docker import took $((SECONDS - start))s; built $ref in ${SECONDS}s"
echo "$ref"
