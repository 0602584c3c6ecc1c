#!/usr/bin/env bash
# The body of tools/dist_train.sh and tools/dist_test.sh: run a Python
# script on NPROC processes (per node) with torchrun.
#   bash tools/dist_launch.sh NPROC SCRIPT [script arguments...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (passed through
# to torchrun). Python: $PYTHON, else the checkout's .venv outside an active
# virtual environment, else `python`.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 NPROC SCRIPT [script arguments...]" >&2
    exit 2
fi
NPROC=$1
SCRIPT=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
if [ -x "$HERE/../.venv/bin/python" ] && [ -z "${VIRTUAL_ENV:-}" ]; then
    PYTHON="$HERE/../.venv/bin/python"
fi
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --master_port="$MASTER_PORT" \
    --nproc_per_node="$NPROC" \
    "$SCRIPT" "$@"
