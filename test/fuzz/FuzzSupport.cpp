//===- FuzzSupport.cpp - Shared pieces of the fuzz harnesses --------------===//

#include "FuzzSupport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// The harnesses link LLVM and MLIR, which are not instrumented, while the
// LLVM headers inlined into Cerium's instrumented code poison the unused
// part of every BumpPtrAllocator slab (LLVM_ADDRESS_SANITIZER_BUILD). MLIR's
// own, uninstrumented copy of the allocator then hands out poisoned memory
// without unpoisoning it, and the first write to it is reported as a
// use-after-poison that is no bug. Manual poisoning is therefore ignored; it
// is the allocator's extra check, not AddressSanitizer's own.
#if defined(__SANITIZE_ADDRESS__)
#define CERIUM_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CERIUM_FUZZ_ASAN 1
#endif
#endif
#ifdef CERIUM_FUZZ_ASAN
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
#endif

namespace cerium::fuzz {

namespace {

std::string scratchPath() {
  const char *dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
  if (!dir)
    dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  return std::string(dir) + "/cerium-fuzz-" + std::to_string(::getpid());
}

} // namespace

const std::string &scratchFile(const uint8_t *data, size_t size) {
  static const std::string path = [] {
    std::string p = scratchPath();
    std::atexit([] { ::unlink(scratchPath().c_str()); });
    return p;
  }();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t done = 0;
  while (done < size) {
    ssize_t w = ::write(fd, data + done, size - done);
    if (w <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    done += size_t(w);
  }
  ::close(fd);
  return path;
}

uint32_t containerKind(const std::vector<uint8_t> &bytes) {
  uint32_t kind = 0;
  if (bytes.size() >= 16)
    std::memcpy(&kind, bytes.data() + 12, 4);
  return kind;
}

void fixContainer(std::vector<uint8_t> &bytes) {
  // magic(8) version(4) kind(4) fingerprint(8) length(8) payload checksum(8)
  constexpr size_t header = 32;
  if (bytes.size() < header + 8)
    return;
  uint64_t length = bytes.size() - header - 8;
  std::memcpy(bytes.data() + 24, &length, 8);
  uint64_t sum = hashBytes(std::span<const uint8_t>(bytes).first(
      bytes.size() - 8));
  std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
}

ckks::ParamsPtr smallParams() {
  static const ckks::ParamsPtr params = [] {
    ckks::ParamSpec spec;
    spec.logN = 10;
    spec.levels = 1;
    spec.scaleBits = 30;
    spec.baseBits = 30;
    spec.dnum = 1;
    spec.insecure = true;
    return ckks::Params::create(spec);
  }();
  return params;
}

bool writeSeed(const std::string &dir, const std::string &name,
               const std::vector<uint8_t> &bytes) {
  std::string path = dir + "/" + name;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
      std::fclose(f) != 0) {
    std::perror(path.c_str());
    return false;
  }
  return true;
}

} // namespace cerium::fuzz
