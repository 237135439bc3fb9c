# Sourced by scripts/setup.sh and scripts/fuzz.sh: the Debian packages that
# build Cerium, and one installer for them and any extra ones.

CERIUM_DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3-venv
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libxxhash-dev libopenmpi-dev openmpi-bin
)

# install_debian_packages WHO PACKAGE...: installs those not yet installed
# (WHO prefixes the progress line).
install_debian_packages() {
  local who=$1 p
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "$who: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
