#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine (Python 3.11+):
# a virtual environment in .venv (Debian/Ubuntu's system Python refuses `pip install` outside one:
# PEP 668, "externally-managed-environment"), the package with its dev, connectors and bench extras
# installed into it, Debian's mosquitto for the MQTT tests and Node.js (node), the second
# conformance oracle (V8), when missing.
# Afterwards: .venv/bin/streamproc ..., .venv/bin/python -m pytest (or `. .venv/bin/activate`).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
as_root_apt() {  # apt-get install as root, quietly; false when not possible
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    as_root_apt mosquitto || echo "setup.sh: install mosquitto (apt-get install mosquitto) for the MQTT tests" >&2
fi
if ! command -v node >/dev/null 2>&1; then
    as_root_apt nodejs || echo "setup.sh: install Node.js (apt-get install nodejs) for the V8 oracle tests" >&2
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian ships venv's ensurepip separately (python3-venv / python3.X-venv)
        rm -rf .venv
        version="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        as_root_apt "python$version-venv" || as_root_apt python3-venv || {
            echo "setup.sh: '$PYTHON -m venv' failed: install python3-venv (apt-get install python$version-venv)" >&2
            exit 1
        }
        "$PYTHON" -m venv .venv
    fi
fi
# esprima 4.0.1 (an older project version) and esprima-fork own the same module: never both
.venv/bin/python -m pip uninstall --quiet --disable-pip-version-check -y esprima >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,connectors,bench]'
