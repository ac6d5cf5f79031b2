#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine (Python 3.11 with pip):
# the package with its dev, connectors and bench extras, Debian's mosquitto for the MQTT tests
# and Node.js (node), the second conformance oracle (V8).
set -euo pipefail
cd "$(dirname "$0")"
missing=()
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    missing+=(mosquitto)
fi
if ! command -v node >/dev/null 2>&1; then
    missing+=(nodejs)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup.sh: install ${missing[*]} (apt-get install ${missing[*]}) for the MQTT tests and the V8 oracle" >&2
    fi
fi
# esprima 4.0.1 (an older project version) and esprima-fork own the same module: never both
python3 -m pip uninstall --quiet --disable-pip-version-check -y esprima >/dev/null 2>&1 || true
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev,connectors,bench]'
