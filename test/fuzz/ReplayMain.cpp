//===- ReplayMain.cpp - Runs a fuzz harness over a corpus -----------------===//
//
// The regression test of a harness in builds without libFuzzer: every file
// under the given paths goes through LLVMFuzzerTestOneInput once. A crash,
// a sanitizer report or an uncaught exception fails the test; the input's
// name is printed before it runs, so the log says which one.
//
// usage: <harness>-replay PATH...          (files or directories)
//        <harness>-replay --write-seeds DIR (harnesses that make seeds)
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int CeriumFuzzWriteSeeds(const char *dir);

namespace fs = std::filesystem;

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--write-seeds") {
    if (!CeriumFuzzWriteSeeds) {
      std::fprintf(stderr, "this harness does not generate seeds\n");
      return 2;
    }
    return CeriumFuzzWriteSeeds(argv[2]);
  }
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto &e : fs::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file())
          files.push_back(e.path().string());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... (found no inputs)\n",
                 argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const std::string &f : files) {
    std::printf("%s\n", f.c_str());
    std::fflush(stdout);
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    // A copy of exactly the input's size, as libFuzzer passes it, so that
    // AddressSanitizer catches a read one byte past the end.
    uint8_t *copy = new uint8_t[bytes.size() ? bytes.size() : 1];
    std::copy(bytes.begin(), bytes.end(), copy);
    LLVMFuzzerTestOneInput(copy, bytes.size());
    delete[] copy;
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
