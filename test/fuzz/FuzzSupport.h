//===- FuzzSupport.h - Shared pieces of the fuzz harnesses ------*- C++ -*-===//
//
// Each harness defines LLVMFuzzerTestOneInput. Built with CERIUM_FUZZ it
// links libFuzzer; in every build it also links ReplayMain.cpp, which runs
// it over a corpus (the regression tests). A harness catches cerium::Error
// -- the one way a reader may refuse its input -- and nothing else: any
// other exception, a crash or a sanitizer report is a bug.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_TEST_FUZZ_FUZZSUPPORT_H
#define CERIUM_TEST_FUZZ_FUZZSUPPORT_H

#include "cerium/CKKS/Params.h"
#include "cerium/Support/Container.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cerium::fuzz {

/// A file this process owns (in /dev/shm when it exists), removed at exit,
/// for readers that take a path. Rewritten by each call.
const std::string &scratchFile(const uint8_t *data, size_t size);

/// The kind a container's header names (0 if it is too short to name one).
uint32_t containerKind(const std::vector<uint8_t> &bytes);

/// Makes the payload length and the checksum of a container agree with its
/// contents, so that mutations reach the payload parsers instead of all
/// stopping at the checksum. (The harness also runs the header checks on
/// the bytes as they came.)
void fixContainer(std::vector<uint8_t> &bytes);

/// The parameter set of the key and ciphertext seeds: N = 2^10, one level,
/// one key-switching digit (insecure; small files, fast runs). The seeds'
/// fingerprint is this set's, so mutated seeds get past the fingerprint
/// check.
ckks::ParamsPtr smallParams();

/// Writes `bytes` to dir/name; false (with a message) on failure.
bool writeSeed(const std::string &dir, const std::string &name,
               const std::vector<uint8_t> &bytes);

} // namespace cerium::fuzz

/// Optional: a harness that can generate its own seed inputs defines this
/// (`<harness>-replay --write-seeds DIR`).
extern "C" int CeriumFuzzWriteSeeds(const char *dir);

#endif // CERIUM_TEST_FUZZ_FUZZSUPPORT_H
