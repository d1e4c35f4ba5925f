#!/bin/sh
# Installs the benchmark contenders (nginx, Varnish) and the load generator (wrk) from Debian
# packages when missing. The bench starts its own instances on free ports with generated configs,
# so the packages' system services are kept from starting (policy-rc.d) and stopped if already up.
set -eu

need=""
command -v nginx >/dev/null 2>&1 || need="$need nginx"
command -v varnishd >/dev/null 2>&1 || need="$need varnish"
command -v wrk >/dev/null 2>&1 || need="$need wrk"
command -v taskset >/dev/null 2>&1 || need="$need util-linux"

if [ -z "$need" ]; then
    echo "bench/install.sh: nginx, varnishd, wrk and taskset already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi

# policy-rc.d exit 101 tells invoke-rc.d not to start services while packages are configured.
# Only install it if none exists, and always remove the one we created.
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" = "1" ]; then
        $SUDO rm -f "$policy"
    fi
}
trap cleanup EXIT INT TERM
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    created_policy=1
fi

echo "bench/install.sh: installing:$need"
$SUDO apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $need

# Belt and braces: on hosts with a running init, make sure the packaged services are stopped and
# will not start at boot; we never use them.
for svc in nginx varnish varnishncsa; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
        $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
        $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
done
echo "bench/install.sh: done"
