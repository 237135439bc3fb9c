//===- ArtifactFuzz.cpp - Fuzzes the artifact reader -----------------------===//
//
// readArtifact on the input as it came (the container checks) and with its
// length and checksum made consistent (the payload: parameters, tensor
// shapes, key requirements, both programs, CUDA strings, what follows).
//
// MLIR's bytecode reader is left out: an input runs only if every MLIR
// bytecode string in it is one of the seeds' (test/fuzz/corpus/artifact).
// That reader is MLIR's, not hardened against hostile bytes (this harness
// found it aborting on a count of 2^60 and looping on a damaged region
// list; see docs/reliability.md), and letting mutations reach it would stop
// every campaign within seconds, long before Cerium's own checks are
// explored. Program bytes that lost the bytecode magic still go to MLIR's
// text parser.
//
//===----------------------------------------------------------------------===//

#include "FuzzContext.h"
#include "FuzzSupport.h"

#include "cerium/Compiler/Artifact.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

using namespace cerium;

namespace {

/// XXH64 of each MLIR bytecode string in `bytes`: a length-prefixed string
/// (ByteWriter::putString) that starts with MLIR's bytecode magic "ML\xefR".
/// A length that runs past the end hashes as 0 (never a seed's).
std::vector<uint64_t> bytecodeStrings(const std::vector<uint8_t> &bytes) {
  static const uint8_t magic[4] = {'M', 'L', 0xef, 'R'};
  std::vector<uint64_t> out;
  for (size_t i = 8; i + 4 <= bytes.size(); ++i) {
    if (std::memcmp(bytes.data() + i, magic, 4) != 0)
      continue;
    uint64_t length;
    std::memcpy(&length, bytes.data() + i - 8, 8);
    out.push_back(length <= bytes.size() - i
                      ? hashBytes(std::span<const uint8_t>(bytes).subspan(
                            i, length))
                      : 0);
  }
  return out;
}

/// The seeds' bytecode strings.
const std::set<uint64_t> &seedPrograms() {
  static const std::set<uint64_t> seeds = [] {
    std::set<uint64_t> s;
    for (const auto &e :
         std::filesystem::directory_iterator(CERIUM_FUZZ_ARTIFACT_SEEDS)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
      for (uint64_t h : bytecodeStrings(bytes))
        s.insert(h);
    }
    s.erase(0);
    return s;
  }();
  return seeds;
}

void read(const std::vector<uint8_t> &bytes) {
  try {
    Artifact a = readArtifact(fuzz::scratchFile(bytes.data(), bytes.size()),
                              fuzz::context());
    (void)a.main();
    (void)a.referenceMain();
  } catch (const Error &) {
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  try {
    parseContainer(bytes, "fuzz", FileKind::Artifact);
  } catch (const Error &) {
  }
  fuzz::fixContainer(bytes);
  for (uint64_t h : bytecodeStrings(bytes))
    if (!seedPrograms().count(h))
      return 0;
  read(bytes);
  return 0;
}
