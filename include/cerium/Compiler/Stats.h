//===- Stats.h - What a compiled program costs ------------------*- C++ -*-===//
#ifndef CERIUM_COMPILER_STATS_H
#define CERIUM_COMPILER_STATS_H

#include "cerium/Compiler/Compiler.h"

#include <string>

namespace cerium {

/// The `cerium-cc --emit stats` table: op counts, levels, parameters, key
/// and plaintext bytes, and peak memory by liveness of the ciphertexts.
std::string statsReport(Compilation &lowered);

/// "1.5 MiB": a byte count in binary units, one decimal.
std::string formatBytes(double bytes);

} // namespace cerium

#endif // CERIUM_COMPILER_STATS_H
