#!/bin/bash
# stock.sh builds the test world's "stock" instance image, which behaves like a stock Ubuntu
# cloud image for what sear needs on a node: python3 and nothing else (no pip, no python3-venv, no
# distributed). It also builds the local apt repository that such an instance installs from: the
# .debs of python3-venv, python3-pip and python3-distributed with every dependency the stock
# image lacks, downloaded now (image building is set-up) from the mirror the base image was
# debootstrapped from, with a Packages index and an unsigned Release file.
#
# Usage: stock.sh BASE_REF STOCK_REF REPO_DIR
#   BASE_REF   the instance image build.sh made (it has python3-distributed)
#   STOCK_REF  the reference to import the stock image as
#   REPO_DIR   where the repository goes; made afresh (the directory's parent must exist)
#
# Needs root (chroot, tar with owners), docker, and dpkg-scanpackages (dpkg-dev; installed with
# apt-get if missing). The last line on stdout is STOCK_REF.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base=$1 ref=$2 repo=$3

# What a bootstrap installs through apt-get on a stock node (docs/node-environment.md).
repo_packages=(python3-venv python3-pip python3-distributed)

log() { echo "stock.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		exec sudo -n "$BASH" "$0" "$@"
	fi
	log "chroot needs root (or passwordless sudo)"
	exit 1
fi
if ! command -v dpkg-scanpackages >/dev/null; then
	log "installing dpkg-dev"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends dpkg-dev >&2
fi

target=$(mktemp -d /var/tmp/sear-testworld-stock.XXXXXX)
staging=$repo.tmp.$$
cid=
cleanup() {
	[ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1
	rm -rf --one-file-system "$target" "$staging"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
cid=$(docker create "$base" /bin/true)
docker export "$cid" | tar -C "$target" --numeric-owner -x
docker rm "$cid" >/dev/null
cid=

# The base image's packages, minus python3-distributed, stay; what only python3-distributed
# needed goes. build.sh's list is the one place the image's packages are named.
keep=$(awk '/^packages=\(/ { on = 1; next } on && /^\)/ { exit } on { sub(/#.*/, ""); if ($1 != "") print $1 }' "$here/build.sh" |
	grep -vx python3-distributed)
cp /etc/resolv.conf "$target/etc/resolv.conf" # apt-get update below; emptied again before import
chroot "$target" sh -ec '
	export DEBIAN_FRONTEND=noninteractive
	dpkg-query -W -f "\${Package}\n" | xargs apt-mark auto >/dev/null
	apt-mark manual '"$(echo $keep)"' >/dev/null
	apt-get -y -q -o Dpkg::Options::=--force-unsafe-io autoremove --purge >&2
	# No pip, no venv, no distributed: what a stock Ubuntu cloud image lacks too.
	! python3 -c "import distributed" 2>/dev/null
	! python3 -c "import ensurepip" 2>/dev/null
	! python3 -m pip --version >/dev/null 2>&1
	# The repository: everything those packages need that this image lacks.
	apt-get update -q >&2
	apt-get install -y -q --download-only --no-install-recommends '"${repo_packages[*]}"' >&2
'
mkdir -p "$staging"
mv "$target"/var/cache/apt/archives/*.deb "$staging/"
(
	cd "$staging"
	dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages
	gzip -9kn Packages
	{
		echo "Origin: sear-testworld"
		echo "Label: sear-testworld"
		echo "Date: $(date -Ru)"
		echo "SHA256:"
		for f in Packages Packages.gz; do
			printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
		done
	} >Release
)
log "repository: $(ls "$staging"/*.deb | wc -l) packages, $(du -sh "$staging" | cut -f1)"

# Per-instance and build state out again, as build.sh leaves it.
find "$target/var/cache/apt" "$target/var/lib/apt/lists" -type f -delete
rm -f "$target"/var/log/apt/* "$target"/var/log/*.log "$target"/etc/apt/sources.list.d/*
: >"$target/etc/resolv.conf"
(cd "$here/stock/rootfs" && find . -type f) | while IFS= read -r f; do
	install -D -m 0644 "$here/stock/rootfs/$f" "$target/$f"
done

tar -C "$target" --numeric-owner -c . | docker import \
	--change 'CMD ["/usr/bin/tini", "--", "/usr/local/sbin/sear-boot"]' \
	--change 'ENV container=docker' \
	--change "LABEL org.opencontainers.image.title=sear-testworld-instance-stock" \
	--message "sear test world stock instance (python3 only)" \
	- "$ref" >&2
rm -rf "$repo"
mv "$staging" "$repo"
log "built $ref and $repo in $((SECONDS - start))s"
echo "$ref"
