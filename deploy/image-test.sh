#!/usr/bin/env bash
# Build the Signet container image from deploy/Dockerfile with podman and prove it works:
# `signet dev` in a container with published ports; sign-up, confirm and sign-in from the
# host through them; `signet health` and the image's HEALTHCHECK; a clean SIGTERM stop
# (exit 0, in time); data kept on the volume across a new container.
#
# Run from the repository root, as root:  deploy/image-test.sh
#
# No registry is needed: deploy/Dockerfile is built with BASE= a bookworm base made with
# debootstrap (cached as a podman image between runs) and RUST_IMAGE= a stand-in whose
# `cargo build` hands over the binary built here by `cargo build --release -p signet`.
#
# Exit status: 0 PASS, or SKIPPED when this machine cannot build and run containers at all
# (not root, podman not installable or not working, no Debian mirror for the base: the
# reason is printed; SIGNET_IMAGE_TEST_REQUIRED=1 makes that a failure); 1 FAIL: podman
# works and the image does not.
#
# Environment:
#   SIGNET_BIN                  use this signet binary instead of building one
#   SIGNET_DEBIAN_MIRROR        Debian mirror for debootstrap (default: from apt's sources)
#   SIGNET_BASE_IMAGE           base image name (default localhost/signet-base:bookworm)
#   SIGNET_IMAGE_TEST_REQUIRED  1: fail instead of skipping where podman cannot run
#   SIGNET_IMAGE_KEEP           1: keep the built image (localhost/signet:image-test)
set -euo pipefail
cd "$(dirname "$0")/.."

T0=$(date +%s)
SUITE=bookworm
BASE_IMAGE=${SIGNET_BASE_IMAGE:-localhost/signet-base:$SUITE}
IMAGE=localhost/signet:image-test
BUILDER_IMAGE=localhost/signet-builder:image-test
RUN_ID=$$
C1=signet-image-test-$RUN_ID-a
C2=signet-image-test-$RUN_ID-b
VOLUME=signet-image-test-$RUN_ID
WORK=$(mktemp -d)
PHASES=()
PHASE_T=$T0
RESULT=FAIL

log() { printf '[image-test %4ds] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
phase_done() {
    local now
    now=$(date +%s)
    PHASES+=("$(printf '%-34s %4ds' "$1" "$((now - PHASE_T))")")
    PHASE_T=$now
}
summary() {
    local total=$(($(date +%s) - T0))
    {
        echo
        echo "==== image test: $RESULT (${total}s) ===="
        local p
        for p in "${PHASES[@]+"${PHASES[@]}"}"; do echo "  $p"; done
    } >&2
}
fail() {
    log "FAIL: $*"
    for c in "$C1" "$C2"; do
        if podman container exists "$c" 2>/dev/null; then
            log "last log lines of $c:"
            podman logs --tail 20 "$c" >&2 2>&1 || true
        fi
    done
    exit 1
}
skip() {
    if [ "${SIGNET_IMAGE_TEST_REQUIRED:-0}" = 1 ]; then
        fail "cannot build and run the image here, and SIGNET_IMAGE_TEST_REQUIRED=1: $*"
    fi
    log "SKIPPED: the image cannot be built and run on this machine: $*"
    RESULT="SKIPPED ($*)"
    exit 0
}
cleanup() {
    local rc=$?
    set +e
    if command -v podman >/dev/null 2>&1; then
        podman rm -f -t 0 "$C1" "$C2" >/dev/null 2>&1
        podman volume rm -f "$VOLUME" >/dev/null 2>&1
        podman rmi "$BUILDER_IMAGE" >/dev/null 2>&1
        if [ "${SIGNET_IMAGE_KEEP:-0}" != 1 ]; then
            podman rmi "$IMAGE" >/dev/null 2>&1
        fi
    fi
    rm -rf "$WORK"
    [ "$rc" = 0 ] && [ "$RESULT" = FAIL ] && RESULT=PASS
    summary
    exit "$rc"
}
trap cleanup EXIT

# Poll `cmd…` until it succeeds, up to $1 seconds.
wait_until() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------
# 1. Tools and podman configuration.
[ "$(id -u)" = 0 ] || skip "this script needs root (podman as root, apt-get, debootstrap)"
missing=()
for tool in podman runc debootstrap jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install ${missing[*]}"
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || skip "apt-get update failed"
    apt-get install -y -qq --no-install-recommends podman runc debootstrap jq >/dev/null \
        || skip "apt-get install podman runc debootstrap jq failed"
fi

# What podman needs on machines like this one: the runc runtime, cgroupfs (no systemd
# managing cgroups) and no default ulimits (raising nofile is refused in some sandboxes).
# Written to a drop-in, and only for keys nobody has set.
conf_set() { grep -Eqs "^[[:space:]]*$1[[:space:]]*=" /etc/containers/containers.conf /etc/containers/containers.conf.d/*.conf; }
dropin=/etc/containers/containers.conf.d/50-signet-image-test.conf
engine=() containers=()
conf_set runtime || engine+=('runtime = "runc"')
conf_set cgroup_manager || engine+=('cgroup_manager = "cgroupfs"')
conf_set default_ulimits || containers+=('default_ulimits = []')
if [ ${#engine[@]} -gt 0 ] || [ ${#containers[@]} -gt 0 ]; then
    mkdir -p "$(dirname "$dropin")"
    {
        echo "# Written by signet's deploy/image-test.sh."
        if [ ${#containers[@]} -gt 0 ]; then printf '[containers]\n'; printf '%s\n' "${containers[@]}"; fi
        if [ ${#engine[@]} -gt 0 ]; then printf '[engine]\n'; printf '%s\n' "${engine[@]}"; fi
    } >"$dropin"
    log "wrote $dropin"
fi
podman info >/dev/null 2>"$WORK/info.err" || skip "podman info: $(tail -1 "$WORK/info.err")"
log "podman $(podman version --format '{{.Client.Version}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), cgroups $(podman info --format '{{.Host.CgroupManager}}')"
phase_done "tools and podman config"

# ---------------------------------------------------------------------------------------
# 2. The base image: Debian $SUITE from debootstrap, imported once and kept.
mirror() {
    if [ -n "${SIGNET_DEBIAN_MIRROR:-}" ]; then
        echo "$SIGNET_DEBIAN_MIRROR"
        return
    fi
    # The first main-archive URI apt uses (one-line or deb822 sources), else the CDN.
    local uri
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([a-z]+:\/\/[^[:space:]]+\/debian\/?)[[:space:]].*/\2/p; s/^[[:space:]]*URIs:[[:space:]]*([a-z]+:\/\/[^[:space:]]+\/debian\/?)[[:space:]]*$/\1/p' \
        | head -1)
    echo "${uri:-http://deb.debian.org/debian}"
}
if podman image exists "$BASE_IMAGE"; then
    log "base image $BASE_IMAGE: cached"
else
    m=$(mirror)
    log "building base image $BASE_IMAGE: debootstrap --variant=minbase $SUITE from $m"
    debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$m" >"$WORK/debootstrap.log" 2>&1 \
        || skip "debootstrap from $m failed: $(tail -1 "$WORK/debootstrap.log")"
    # Apt's package lists and caches only make the image bigger.
    rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
    tar -C "$WORK/rootfs" -c . \
        | podman import --message "debootstrap $SUITE minbase" - "$BASE_IMAGE" >/dev/null 2>"$WORK/import.err" \
        || fail "podman import of the base failed: $(cat "$WORK/import.err")"
    rm -rf "$WORK/rootfs"
fi
podman run --rm --network none "$BASE_IMAGE" true 2>"$WORK/run.err" \
    || skip "podman run of the base image failed: $(tail -1 "$WORK/run.err")"
phase_done "base image"

# ---------------------------------------------------------------------------------------
# 3. The binary (built here) and the image's runtime stage around it.
if [ -n "${SIGNET_BIN:-}" ]; then
    BIN=$SIGNET_BIN
else
    log "cargo build --release -p signet"
    cargo build --release --locked -p signet >"$WORK/cargo.log" 2>&1 \
        || { tail -20 "$WORK/cargo.log" >&2; fail "cargo build failed"; }
    BIN=${CARGO_TARGET_DIR:-target}/release/signet
fi
[ -x "$BIN" ] || fail "no signet binary at $BIN"
phase_done "release binary"

# The Dockerfile's build stage runs on a stand-in for rust:1.95-bookworm: the base plus a
# `cargo` that hands over the binary built above. It accepts exactly the Dockerfile's
# command, so the two cannot drift apart unnoticed.
mkdir -p "$WORK/builder" "$WORK/context"
cp "$BIN" "$WORK/builder/signet"
cat >"$WORK/builder/cargo" <<'CARGO'
#!/bin/sh
set -e
if [ "$*" != "build --release --locked -p signet" ]; then
    echo "image-test's stand-in cargo knows only 'cargo build --release --locked -p signet'," \
        "not 'cargo $*': update deploy/image-test.sh with deploy/Dockerfile" >&2
    exit 1
fi
mkdir -p target/release
cp /opt/prebuilt/signet target/release/signet
CARGO
chmod +x "$WORK/builder/cargo"
printf 'FROM %s\nCOPY signet /opt/prebuilt/signet\nCOPY cargo /usr/local/bin/cargo\n' "$BASE_IMAGE" \
    >"$WORK/builder/Containerfile"
podman build --layers=false -t "$BUILDER_IMAGE" "$WORK/builder" >"$WORK/builder.log" 2>&1 \
    || { tail -20 "$WORK/builder.log" >&2; fail "building the stand-in build image failed"; }
# HEALTHCHECK exists only in the docker image format. The context is empty: the stand-in
# cargo needs no sources.
podman build --layers=false --format docker -f deploy/Dockerfile \
    --build-arg RUST_IMAGE="$BUILDER_IMAGE" --build-arg BASE="$BASE_IMAGE" \
    -t "$IMAGE" "$WORK/context" >"$WORK/build.log" 2>&1 \
    || { tail -20 "$WORK/build.log" >&2; fail "podman build of deploy/Dockerfile failed"; }
podman run --rm --network none --no-healthcheck "$IMAGE" --version >"$WORK/version" 2>&1 \
    || fail "the binary does not run in the image (a host glibc newer than $SUITE's?): $(cat "$WORK/version")"
[ "$(podman image inspect "$IMAGE" --format '{{.Config.User}}')" = 10001:10001 ] \
    || fail "the image does not run as the signet user"
log "built $IMAGE ($(cat "$WORK/version"), $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}'))"
phase_done "image build"

# ---------------------------------------------------------------------------------------
# 4. signet dev in a container, used from the host through published ports.
start() { # name, extra podman args…
    local name=$1
    shift
    # (Without systemd, podman says on stderr that it cannot schedule the HEALTHCHECK; it is
    # run by hand below.)
    podman run -d --name "$name" -p 127.0.0.1::7410 -p 127.0.0.1::7411 \
        -v "$VOLUME:/var/lib/signet/data" "$@" "$IMAGE" >/dev/null 2>"$WORK/run-$name.err" \
        || fail "podman run $name failed: $(cat "$WORK/run-$name.err")"
    # Ready = SERVING on gRPC health, asked from inside the container.
    wait_until 60 podman exec "$name" signet health --endpoint 127.0.0.1:7410 \
        || fail "$name not SERVING within 60 s"
    GRPC=$(podman port "$name" 7410/tcp | head -1)
    HTTP=$(podman port "$name" 7411/tcp | head -1)
    GRPC=127.0.0.1:${GRPC##*:}
    HTTP=127.0.0.1:${HTTP##*:}
    SECRET=$(podman exec "$name" cat /var/lib/signet/data/dev-secrets.json | jq -r .admin_secret)
    if [ -z "$SECRET" ] || [ "$SECRET" = null ]; then fail "no admin secret in the data dir"; fi
}
http_get() { # host:port path → "status body"
    local host=${1%:*} port=${1##*:} reply
    exec 3<>"/dev/tcp/$host/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$1" >&3
    reply=$(cat <&3)
    exec 3<&-
    printf '%s %s\n' "$(head -1 <<<"$reply" | cut -d' ' -f2)" "$(tail -1 <<<"$reply")"
}
admin() { "$BIN" admin --endpoint "$GRPC" --admin-secret "$SECRET" "$@"; }
token() { "$BIN" token --endpoint "$GRPC" --client-id "$CLIENT" "$@"; }
sign_in() {
    token sign-in --username alice --password 'Correct-Horse-9' \
        | jq -re .authentication_result.access_token >/dev/null
}
stop_cleanly() { # name
    local t code
    t=$(date +%s)
    podman stop -t 20 "$1" >/dev/null 2>"$WORK/stop.err" || fail "podman stop $1 failed: $(cat "$WORK/stop.err")"
    local took=$(($(date +%s) - t))
    code=$(podman inspect "$1" --format '{{.State.ExitCode}}')
    [ "$code" = 0 ] || fail "$1 exited with $code after SIGTERM (137 = killed)"
    [ "$took" -le 15 ] || fail "$1 took ${took}s to stop after SIGTERM"
    log "$1 stopped on SIGTERM in ${took}s, exit code 0"
}

podman volume create "$VOLUME" >/dev/null
start "$C1"
log "$C1 SERVING; gRPC $GRPC, HTTP $HTTP (published)"
# signet itself is PID 1 (so SIGTERM reaches it), running as the signet user.
pid1=$(podman exec "$C1" cat /proc/1/cmdline | tr '\0' ' ')
[ "${pid1%% *}" = /usr/local/bin/signet ] || fail "PID 1 is $pid1"
[ "$(podman exec "$C1" id -u)" = 10001 ] || fail "not running as uid 10001"
[ "$(http_get "$HTTP" /healthz)" = "200 ok" ] || fail "/healthz: $(http_get "$HTTP" /healthz)"
[ "$(http_get "$HTTP" /readyz)" = "200 ready" ] || fail "/readyz: $(http_get "$HTTP" /readyz)"
out=$(podman exec "$C1" signet health --endpoint 127.0.0.1:7410) || fail "signet health exited $?"
[ "$out" = SERVING ] || fail "signet health printed $out"
set +e
podman exec "$C1" signet health --endpoint 127.0.0.1:1 >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 3 ] || fail "signet health on a closed port exited $rc, not 3"
podman healthcheck run "$C1" >/dev/null 2>"$WORK/hc.err" || fail "HEALTHCHECK: $(cat "$WORK/hc.err")"
log "signet health: SERVING (exit 0), closed port exit 3; HEALTHCHECK healthy"
phase_done "start and health"

POOL=$(admin create-pool --name image-test --auto-verify email | jq -re .user_pool.id) \
    || fail "create-pool through the published port"
CLIENT=$(admin create-client --pool "$POOL" --name web | jq -re .user_pool_client.client_id) \
    || fail "create-client"
token sign-up --username alice --password 'Correct-Horse-9' --attr email=alice@example.com >/dev/null \
    || fail "sign-up"
CODE=$(podman exec "$C1" signet admin outbox --pool "$POOL" \
    | jq -re '.messages[] | select(.username == "alice" and .purpose == "confirm") | .code') \
    || fail "no confirmation code in the outbox"
token confirm --username alice --code "$CODE" >/dev/null || fail "confirm"
sign_in || fail "sign-in"
issuer=$(admin describe-pool --pool "$POOL" | jq -re .user_pool.issuer)
[ "$issuer" = "http://localhost:7411/$POOL" ] || fail "default issuer is $issuer"
log "sign-up, confirm (code from the outbox), sign-in through the published ports: ok"
phase_done "sign-up, confirm, sign-in"

stop_cleanly "$C1"
phase_done "SIGTERM stop"

# ---------------------------------------------------------------------------------------
# 5. A new container on the same volume: same data, public URL from the environment.
first_secret=$SECRET
start "$C2" -e SIGNET_PUBLIC_URL=http://signet.example.test:7411
[ "$SECRET" = "$first_secret" ] || fail "the admin secret changed across containers"
sign_in || fail "sign-in after the restart (data not kept?)"
issuer=$(admin describe-pool --pool "$POOL" | jq -re .user_pool.issuer)
[ "$issuer" = "http://signet.example.test:7411/$POOL" ] || fail "SIGNET_PUBLIC_URL ignored: $issuer"
log "new container on the same volume: pool, user and secret kept; SIGNET_PUBLIC_URL applied"
stop_cleanly "$C2"
phase_done "restart on the same volume"
