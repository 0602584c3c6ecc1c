#!/usr/bin/env bash
# Create/refresh the project's virtual environment (.venv/) with the whole
# stack: torch + torchvision, mmengine, mmcv (built from source with ops, wheel
# cached per torch version), mmdet + mmpose (--no-deps), runtime deps and
# interwild_mm itself (editable). Called by `make setup`; safe to re-run: when
# nothing changed it finishes in seconds.
#
# Needs: Debian/Ubuntu-like system with python3.11 (+ venv, + headers) and a
# C/C++ compiler. Everything else comes from the package registry.
#
# Environment knobs (all optional):
#   PYTHON               interpreter to build the venv from   (python3.11)
#   VENV                 venv directory                       (<repo>/.venv)
#   TORCH_VERSION        torch pin        (from requirements/torch.txt)
#   TORCHVISION_VERSION  torchvision pin  (from requirements/torch.txt)
#   TORCH_INDEX_URL      e.g. https://download.pytorch.org/whl/cpu to get the
#                        small CPU-only torch build instead of PyPI's CUDA one
#   INTERWILD_MMCV_OPS   cpu | cuda  (default: cuda when nvcc AND a GPU exist)
#   MAX_JOBS             parallel compile jobs for mmcv       (nproc)
#   INTERWILD_WHEEL_CACHE  mmcv wheel cache root
#                        (${XDG_CACHE_HOME:-~/.cache}/interwild_mm/wheels)
#   INTERWILD_SETUP_FORCE=1  ignore the up-to-date stamp
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-$ROOT/.venv}"
VPY="$VENV/bin/python"
REQ="$ROOT/requirements"
STAMP="$VENV/.interwild_setup.sha256"
LOG_DIR="$VENV/setup-logs"
WHEEL_CACHE_ROOT="${INTERWILD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interwild_mm/wheels}"

pin_of() {  # pin_of <package> <file>: the version after '==' in a req file
    sed -n "s/^$1==\([^ #]*\).*/\1/p" "$2" | head -n1
}
TORCH_VERSION="${TORCH_VERSION:-$(pin_of torch "$REQ/torch.txt")}"
TORCHVISION_VERSION="${TORCHVISION_VERSION:-$(pin_of torchvision "$REQ/torch.txt")}"
MMCV_VERSION="$(pin_of mmcv "$REQ/mminstall.txt")"
MMDET_VERSION="$(pin_of mmdet "$REQ/mminstall.txt")"
MMPOSE_VERSION="$(pin_of mmpose "$REQ/mminstall.txt")"
TOTAL_STEPS=10
T_START=$SECONDS
T_STEP=$SECONDS

# ---------------------------------------------------------------- helpers
fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
step() {  # step <n> <title>
    if [[ "$1" != 1 ]]; then
        echo "      done in $(fmt_time $((SECONDS - T_STEP)))"
    fi
    T_STEP=$SECONDS
    echo "[$1/$TOTAL_STEPS] $2   (t=$(fmt_time $((SECONDS - T_START))))"
}
info() { echo "      $*"; }
die() {
    echo "" >&2
    echo "ERROR (tools/setup_env.sh): $*" >&2
    exit 1
}
pip_install() { "$VPY" -m pip install --progress-bar off "$@"; }
# pip install with the noise ("already satisfied", index warnings) filtered
# out; returns pip's exit status.
PIP_NOISE='^(Requirement already satisfied|WARNING: Location|Looking in|  Using cached)'
pip_filtered() {
    local rc
    set +e
    pip_install "$@" 2>&1 | grep -vE "$PIP_NOISE"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}
pip_has() { "$VPY" -m pip show -q "$1" >/dev/null 2>&1; }
trap 'rc=$?; if [[ $rc -ne 0 ]]; then echo "setup FAILED (exit $rc) after $(fmt_time $((SECONDS - T_START))); see messages above." >&2; fi' EXIT

# Which mmcv ops flavour: CUDA ops need BOTH a CUDA toolkit (nvcc) and a GPU.
detect_ops_flavour() {
    case "${INTERWILD_MMCV_OPS:-auto}" in
        cpu) echo cpuops; return ;;
        cuda) echo cudaops; return ;;
        auto) ;;
        *) die "INTERWILD_MMCV_OPS must be cpu, cuda or unset (got '$INTERWILD_MMCV_OPS')" ;;
    esac
    local nvcc=""
    if [[ -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then
        nvcc="$CUDA_HOME/bin/nvcc"
    elif command -v nvcc >/dev/null 2>&1; then
        nvcc="$(command -v nvcc)"
    fi
    if [[ -n "$nvcc" ]] && command -v nvidia-smi >/dev/null 2>&1 \
            && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
        echo cudaops
    else
        echo cpuops
    fi
}
OPS_FLAVOUR="$(detect_ops_flavour)"

config_hash() {
    {
        cat "$REQ"/*.txt "$ROOT/setup.py" "$ROOT/pyproject.toml" "${BASH_SOURCE[0]}"
        echo "torch=$TORCH_VERSION tv=$TORCHVISION_VERSION ops=$OPS_FLAVOUR"
        echo "index=${TORCH_INDEX_URL:-pypi} python=$PYTHON"
    } | sha256sum | cut -d' ' -f1
}

# Imports that prove the stack is usable (fast: no model building). The
# package itself is only checked to be installed from this checkout: importing
# it is the test suite's job (a bug in it must show up as a failing test, not
# as a broken environment).
QUICK_CHECK='
import importlib.util, os
import cv2, mmcv, mmdet, mmengine, mmpose, numpy, smplx, torch, torchvision
import mmcv._ext, xtcocotools._mask
assert mmcv.__version__ == "MMCV_V", mmcv.__version__
assert torch.__version__.split("+")[0] == "TORCH_V", torch.__version__
import importlib.metadata; importlib.metadata.version("interwild_mm")
spec = importlib.util.find_spec("interwild_mm")
assert spec is not None and os.path.dirname(os.path.dirname(spec.origin)) == "ROOT_DIR", spec
'
QUICK_CHECK="${QUICK_CHECK//MMCV_V/$MMCV_VERSION}"
QUICK_CHECK="${QUICK_CHECK//TORCH_V/$TORCH_VERSION}"
QUICK_CHECK="${QUICK_CHECK//ROOT_DIR/$ROOT}"

# ---------------------------------------------------------------- fast path
HASH="$(config_hash)"
if [[ "${INTERWILD_SETUP_FORCE:-0}" != 1 && -x "$VPY" && -f "$STAMP" \
        && "$(cat "$STAMP")" == "$HASH" ]]; then
    if "$VPY" -c "$QUICK_CHECK" >/dev/null 2>&1; then
        echo "setup: $VENV is up to date (torch $TORCH_VERSION, mmcv $MMCV_VERSION/$OPS_FLAVOUR;" \
             "checked in $(fmt_time $((SECONDS - T_START)))). INTERWILD_SETUP_FORCE=1 to redo."
        exit 0
    fi
    echo "setup: stamp matches but the import check failed; repairing the environment."
fi

echo "setup: building $VENV (torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION," \
     "mmcv $MMCV_VERSION with $OPS_FLAVOUR, mmdet $MMDET_VERSION, mmpose $MMPOSE_VERSION)"

# ---------------------------------------------------------------- 1. system
step 1 "checking system requirements"
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found. interwild_mm needs Python 3.11:
    sudo apt-get install -y python3.11 python3.11-venv python3.11-dev
  (Ubuntu < 23.04: add the deadsnakes PPA first), or point PYTHON=/path/to/python3.11."
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
    || die "'$PYTHON' exists but does not run (a pyenv shim without that version?). interwild_mm needs Python 3.11:
    sudo apt-get install -y python3.11 python3.11-venv python3.11-dev
  or point PYTHON=/path/to/python3.11."
[[ "$PYVER" == 3.11 ]] || die "'$PYTHON' is Python $PYVER; interwild_mm needs 3.11 (set PYTHON=python3.11)."
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || die "'$PYTHON' cannot create virtual environments (venv/ensurepip missing):
    sudo apt-get install -y python3.11-venv"
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
[[ -f "$PY_INCLUDE/Python.h" ]] || die "Python 3.11 headers not found ($PY_INCLUDE/Python.h); mmcv and xtcocotools compile against them:
    sudo apt-get install -y python3.11-dev"
CC_BIN="${CC:-cc}"
CXX_BIN="${CXX:-c++}"
command -v "$CC_BIN" >/dev/null 2>&1 || die "no C compiler ('$CC_BIN'):
    sudo apt-get install -y build-essential"
command -v "$CXX_BIN" >/dev/null 2>&1 || die "no C++ compiler ('$CXX_BIN'); mmcv ops are C++17:
    sudo apt-get install -y build-essential"
tmpd="$(mktemp -d)"
printf '#include <Python.h>\n#include <vector>\nint main(){std::vector<int> v(1); return v[0];}\n' > "$tmpd/t.cpp"
"$CXX_BIN" -std=c++17 -I"$PY_INCLUDE" "$tmpd/t.cpp" -o "$tmpd/t" >/dev/null 2>"$tmpd/err" \
    || { cat "$tmpd/err" >&2; rm -rf "$tmpd"; die "'$CXX_BIN' cannot compile a C++17 program against Python.h (output above):
    sudo apt-get install -y build-essential python3.11-dev"; }
rm -rf "$tmpd"
info "python $("$PYTHON" -c 'import platform; print(platform.python_version())') ($(command -v "$PYTHON")), $("$CXX_BIN" --version | head -n1)"
info "mmcv ops flavour: $OPS_FLAVOUR"

# ---------------------------------------------------------------- 2. venv
step 2 "virtual environment $VENV"
if [[ -x "$VPY" ]] && ! "$VPY" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
    die "$VENV exists but is not a working Python 3.11 venv; remove it (make distclean) and re-run."
fi
if [[ ! -x "$VPY" ]]; then
    "$PYTHON" -m venv "$VENV"
    info "created"
else
    info "exists"
fi
mkdir -p "$LOG_DIR"
rm -f "$STAMP"  # only a complete run writes it again

# ---------------------------------------------------------------- 3. build tools
step 3 "build tools (requirements/build.txt)"
pip_filtered -q 'pip>=23.1' || die "upgrading pip failed (is the package registry reachable?)."
pip_filtered -q -r "$REQ/build.txt" || die "installing requirements/build.txt failed (pip output above)."
info "$("$VPY" -m pip --version | cut -d' ' -f1-2), setuptools $("$VPY" -c 'import setuptools; print(setuptools.__version__)')"

# ---------------------------------------------------------------- 4. torch
step 4 "torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
if "$VPY" - "$TORCH_VERSION" "$TORCHVISION_VERSION" >/dev/null 2>&1 <<'EOF'
import sys, importlib.metadata as md
t, tv = md.version('torch').split('+')[0], md.version('torchvision').split('+')[0]
sys.exit(0 if (t, tv) == (sys.argv[1], sys.argv[2]) else 1)
EOF
then
    info "already installed"
else
    info "downloading/installing (PyPI's torch brings its CUDA runtime libraries: a few GB)"
    idx=()
    [[ -n "${TORCH_INDEX_URL:-}" ]] && idx=(--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple)
    # numpy with the runtime.txt bounds right away (torchvision pulls numpy)
    NUMPY_SPEC="$(grep -E '^numpy([<>=!~ ]|$)' "$REQ/runtime.txt" | head -n1)"
    pip_filtered "${idx[@]}" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" "${NUMPY_SPEC:-numpy}" \
        || die "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION failed (pip output above)."
    "$VPY" -c "import torch, torchvision" || die "torch/torchvision do not import after install (see above)."
fi
TORCH_FULL="$("$VPY" -c 'import torch; print(torch.__version__)')"
info "torch $TORCH_FULL, torchvision $("$VPY" -c 'import torchvision; print(torchvision.__version__)')"

# ---------------------------------------------------------------- 5. runtime deps
step 5 "runtime dependencies (requirements/runtime.txt) and one OpenCV"
# opencv-python and opencv-python-headless (or -contrib) install the same cv2
# package; having two breaks cv2 when either is removed/upgraded. Keep only
# opencv-python: remove every OpenCV distribution if a second one is present.
cv_dists=()
for d in opencv-python opencv-python-headless opencv-contrib-python opencv-contrib-python-headless; do
    pip_has "$d" && cv_dists+=("$d")
done
if (( ${#cv_dists[@]} > 1 )) || { (( ${#cv_dists[@]} == 1 )) && [[ "${cv_dists[0]}" != opencv-python ]]; }; then
    info "removing conflicting OpenCV distributions: ${cv_dists[*]} (opencv-python is reinstalled next)"
    "$VPY" -m pip uninstall -y -q "${cv_dists[@]}"
fi
grep -v '^xtcocotools' "$REQ/runtime.txt" > "$LOG_DIR/runtime-no-xtcocotools.txt"
pip_filtered -r "$LOG_DIR/runtime-no-xtcocotools.txt" \
    || die "installing requirements/runtime.txt failed (pip output above)."
"$VPY" -c "import cv2" || die "cv2 does not import after installing opencv-python (see above)."
info "numpy $("$VPY" -c 'import numpy; print(numpy.__version__)'), opencv $("$VPY" -c 'import cv2; print(cv2.__version__)')"

# ---------------------------------------------------------------- 6. xtcocotools
step 6 "xtcocotools from source (against numpy $("$VPY" -c 'import numpy; print(numpy.__version__)'))"
# The binary wheels are compiled against numpy 1.x and fail to import under
# numpy 2 ("numpy.dtype size changed"), so always compile against the venv's
# numpy (pip caches the built wheel; later runs reuse it).
XTC_SPEC="$(grep '^xtcocotools' "$REQ/runtime.txt" | head -n1)"
if "$VPY" -c "import xtcocotools._mask, xtcocotools.coco" >/dev/null 2>&1; then
    info "already installed and importable"
else
    reinstall=()
    pip_has xtcocotools && reinstall=(--force-reinstall --no-deps)
    pip_filtered "${reinstall[@]}" --no-build-isolation --no-binary xtcocotools "$XTC_SPEC" \
        || die "building $XTC_SPEC from source failed (pip output above; needs python3.11-dev and a C compiler)."
    "$VPY" -c "import xtcocotools._mask, xtcocotools.coco" \
        || die "xtcocotools does not import after building it from source (see above)."
fi

# ---------------------------------------------------------------- 7. mmcv
step 7 "mmcv $MMCV_VERSION with ops ($OPS_FLAVOUR)"
WHEEL_DIR="$WHEEL_CACHE_ROOT/torch-$TORCH_FULL-$OPS_FLAVOUR"
PYTAG="cp$("$VPY" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
mmcv_ok() { "$VPY" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; }
find_wheel() { compgen -G "$WHEEL_DIR/mmcv-$MMCV_VERSION-$PYTAG-*.whl" | head -n1 || true; }
if mmcv_ok && [[ -f "$VENV/.mmcv-flavour" && "$(cat "$VENV/.mmcv-flavour")" == "$TORCH_FULL-$OPS_FLAVOUR" ]]; then
    info "already installed"
else
    whl="$(find_wheel)"
    if [[ -z "$whl" ]]; then
        mkdir -p "$WHEEL_DIR"
        build_tmp="$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")"
        build_log="$LOG_DIR/mmcv-build.log"
        jobs="${MAX_JOBS:-$(nproc)}"
        cuda_env=(FORCE_CUDA=0)
        [[ "$OPS_FLAVOUR" == cudaops ]] && cuda_env=(FORCE_CUDA=1)
        info "no cached wheel in $WHEEL_DIR: compiling mmcv from source"
        info "(CPU ops: ~7-25 min on 2 cores; CUDA ops take longer; MAX_JOBS=$jobs; log: $build_log)"
        # --no-cache-dir: pip's own wheel cache is keyed by the sdist only, so
        # it would hand back a wheel compiled against another torch. Our cache
        # (WHEEL_DIR) is keyed by torch version and ops flavour instead.
        env MMCV_WITH_OPS=1 MAX_JOBS="$jobs" "${cuda_env[@]}" \
            "$VPY" -m pip wheel -v --no-cache-dir --no-build-isolation --no-deps \
            --progress-bar off -w "$build_tmp" "mmcv==$MMCV_VERSION" >"$build_log" 2>&1 &
        build_pid=$!
        last_report=$SECONDS
        while kill -0 "$build_pid" 2>/dev/null; do
            sleep 5
            if (( SECONDS - last_report >= 60 )) && kill -0 "$build_pid" 2>/dev/null; then
                last_report=$SECONDS
                n_obj=$(grep -cE '(c\+\+|g\+\+|nvcc).* -c ' "$build_log" || true)
                info "... compiling: $n_obj compile commands started, $(fmt_time $((SECONDS - T_STEP))) elapsed"
            fi
        done
        if ! wait "$build_pid"; then
            tail -n 40 "$build_log" >&2
            rm -rf "$build_tmp"
            die "building mmcv $MMCV_VERSION failed (last lines above; full log $build_log)."
        fi
        built="$(compgen -G "$build_tmp/mmcv-*.whl" | head -n1 || true)"
        [[ -n "$built" ]] || die "pip wheel finished but produced no mmcv wheel (log $build_log)."
        mv "$built" "$WHEEL_DIR/"
        rm -rf "$build_tmp"
        whl="$(find_wheel)"
        info "built and cached: $whl"
    else
        info "using cached wheel $whl"
    fi
    pip_filtered -q --force-reinstall --no-deps "$whl" || die "installing $whl failed."
    mmcv_ok || die "mmcv from $whl does not import with ops (mmcv._ext). Delete it and re-run to rebuild."
    echo "$TORCH_FULL-$OPS_FLAVOUR" > "$VENV/.mmcv-flavour"
fi

# ---------------------------------------------------------------- 8. mmdet + mmpose
step 8 "mmdet $MMDET_VERSION + mmpose $MMPOSE_VERSION (--no-deps)"
mm_ok() {
    "$VPY" - "$MMDET_VERSION" "$MMPOSE_VERSION" >/dev/null 2>&1 <<'EOF'
import sys, importlib.metadata as md
sys.exit(0 if (md.version('mmdet'), md.version('mmpose')) == tuple(sys.argv[1:3]) else 1)
EOF
}
if mm_ok; then
    info "already installed"
else
    pip_filtered -q --no-deps "mmdet==$MMDET_VERSION" "mmpose==$MMPOSE_VERSION" \
        || die "installing mmdet/mmpose failed (pip output above)."
fi

# ---------------------------------------------------------------- 9. interwild_mm
step 9 "interwild_mm (editable) + test tools"
pip_filtered -q --no-build-isolation -e "$ROOT" -r "$REQ/tests.txt" \
    || die "installing interwild_mm (pip install -e .) failed (pip output above)."

# ---------------------------------------------------------------- 10. verify
step 10 "verifying imports"
"$VPY" - <<'EOF' || die "the final import check failed (traceback above)."
import importlib.metadata as md
import cv2, mmcv, mmcv.ops, mmdet, mmdet.models, mmengine, mmpose, mmpose.models
import numpy, smplx, torch, torchvision, torchvision.ops, xtcocotools.coco
# exactly one OpenCV distribution
def installed(name):
    try:
        md.version(name)
        return True
    except md.PackageNotFoundError:
        return False
cv = [d for d in ('opencv-python', 'opencv-python-headless',
                  'opencv-contrib-python', 'opencv-contrib-python-headless')
      if installed(d)]
assert cv == ['opencv-python'], f'expected only opencv-python, found {cv}'
print('      torch', torch.__version__, '| torchvision', torchvision.__version__,
      '| numpy', numpy.__version__, '| opencv', cv2.__version__)
print('      mmengine', mmengine.__version__, '| mmcv', mmcv.__version__,
      '| mmdet', mmdet.__version__, '| mmpose', mmpose.__version__,
      '| interwild_mm', md.version('interwild_mm'), '(editable)')
EOF
"$VPY" -c "$QUICK_CHECK" || die "quick import check failed (see above)."
echo "      done in $(fmt_time $((SECONDS - T_STEP)))"
echo "$HASH" > "$STAMP"
echo "setup: complete in $(fmt_time $((SECONDS - T_START))). Next: make test  |  make quickstart"
