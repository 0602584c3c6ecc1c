#!/usr/bin/env bash
# Distributed testing with torchrun (tools/dist_launch.sh).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 CONFIG CHECKPOINT NPROC [tools/test.py options...]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/dist_launch.sh" "$3" "$HERE/test.py" "$1" "$2" \
    --launcher pytorch "${@:4}"
