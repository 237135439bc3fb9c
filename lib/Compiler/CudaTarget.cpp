//===- CudaTarget.cpp - Generated kernels compiled for GPUs ---------------===//

#include "cerium/Compiler/CudaTarget.h"
#include "cerium/Support/Error.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cerium {

namespace fs = std::filesystem;

std::string findNvcc() {
  auto executable = [](const fs::path &p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) &&
           (fs::status(p, ec).permissions() & fs::perms::owner_exec) !=
               fs::perms::none;
  };
  if (const char *env = std::getenv("CERIUM_NVCC"))
    return executable(env) ? env : "";
  if (const char *path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && executable(fs::path(dir) / "nvcc"))
        return (fs::path(dir) / "nvcc").string();
  }
  return executable("/usr/local/cuda/bin/nvcc") ? "/usr/local/cuda/bin/nvcc"
                                                : "";
}

namespace {

/// A temporary directory removed with everything in it.
struct TempDir {
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "cerium-cuda-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw Error("cannot create a temporary directory for nvcc");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string quoted(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

} // namespace

std::vector<uint8_t> compileFatbin(const std::string &source,
                                   const std::string &nvcc,
                                   const std::vector<unsigned> &architectures) {
  TempDir dir;
  const fs::path cu = dir.path / "kernels.cu",
                 bin = dir.path / "kernels.fatbin", log = dir.path / "nvcc.log";
  std::ofstream(cu) << source;
  std::string command = quoted(nvcc) + " -fatbin -std=c++17";
  for (unsigned arch : architectures)
    command += " -gencode=arch=compute_" + std::to_string(arch) + ",code=sm_" +
               std::to_string(arch);
  const std::string newest = std::to_string(architectures.back());
  command += " -gencode=arch=compute_" + newest + ",code=compute_" + newest;
  command += " -o " + quoted(bin.string()) + " " + quoted(cu.string()) + " > " +
             quoted(log.string()) + " 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::string line, first;
    while (std::getline(in, line))
      if (line.find("error") != std::string::npos) {
        first = line;
        break;
      }
    throw Error("nvcc could not compile the generated kernels" +
                (first.empty() ? std::string() : ": " + first));
  }
  std::ifstream in(bin, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

} // namespace cerium
