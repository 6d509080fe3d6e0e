# sear's action image. GitHub's runner builds it from action.yml (runs.image: Dockerfile) at the
# start of every job that uses the action, with no build arguments, and runs it as a Docker action.
#
# The Go image is a build argument so that a machine with no registry can build this same file
# from a local stand-in (scripts/action-image does, for sear's own tests); nothing else may differ
# between that build and a user's. The default is what a user's build gets.

# The Go release the module asks for (go.mod: go 1.26). The official image's 1.26 tag follows the
# newest 1.26.x patch release, so a job builds with the current security fixes. The CA
# certificates the runtime image carries are this image's (Debian's ca-certificates).
ARG GO_IMAGE=golang:1.26-bookworm
# The runtime image is built FROM scratch: sear is one static binary and needs nothing of a
# distribution but the CA certificates it calls AWS and GitHub with, which it takes from the build
# stage, and a /tmp. No shell, no C library, no package manager, no second base image to pull.

FROM ${GO_IMAGE} AS build
# Empty (the default) means Go's own default proxy. A builder with a module mirror of its own
# names it here; scripts/action-image does when containers cannot reach the usual proxy.
ARG GOPROXY
WORKDIR /src
# Modules in a layer of their own, keyed by go.mod and go.sum only: a change to sear's code does
# not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A release names its build (scripts/release passes these; internal/version reads them). Declared
# after the module download, so that a new version reuses that layer. A user's build passes none:
# -X with an empty value leaves the variable as it is, and sear falls back to what the toolchain
# recorded.
ARG SEAR_VERSION
ARG SEAR_COMMIT
ARG SEAR_DATE
# A static binary (no cgo), since the runtime image has no C library. -trimpath keeps the build
# machine's paths out of it; -s -w drop the symbol table and DWARF (panics still name functions
# and lines). The runner execs action.yml's entrypoint and post-entrypoint directly, so they are
# links to the one binary, which picks its subcommand from the name it is called by; a shell
# script in between would drop the INPUT_ variables whose names hold a hyphen. The compile cache
# is removed in the same step: the engine keeps this stage's layers between builds, and the
# cache would add a few hundred MB to every one of them.
RUN mkdir -p /rootfs/usr/local/bin \
	&& CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
		-X github.com/sear-ci/sear/internal/version.Version=${SEAR_VERSION} \
		-X github.com/sear-ci/sear/internal/version.Commit=${SEAR_COMMIT} \
		-X github.com/sear-ci/sear/internal/version.Date=${SEAR_DATE}" -o /rootfs/usr/local/bin/sear ./cmd/sear \
	&& ln -s sear /rootfs/usr/local/bin/sear-action \
	&& ln -s sear /rootfs/usr/local/bin/sear-action-post \
	&& install -D -m 0644 /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
	&& install -d -m 1777 /rootfs/tmp \
	&& go clean -cache

FROM scratch
COPY --from=build /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# No USER line: the runner mounts the workspace, GITHUB_OUTPUT's directory and the rest owned by
# its own user, and only root can write them from inside the container.
ENTRYPOINT ["/usr/local/bin/sear"]
