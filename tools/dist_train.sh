#!/usr/bin/env bash
# Distributed training with torchrun (tools/dist_launch.sh).
#   bash tools/dist_train.sh CONFIG NPROC [train.py options...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (passed through
# to torchrun). On CPU the gloo backend is used automatically by mmengine.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NPROC [tools/train.py options...]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/dist_launch.sh" "$2" "$HERE/train.py" "$1" \
    --launcher pytorch "${@:3}"
