//===- Container.h - Versioned, checksummed binary files --------*- C++ -*-===//
//
// Every file Cerium writes (parameters, keys, ciphertexts, artifacts) is one
// container:
//
//   magic "CERIUM\x1a\n" | u32 format version | u32 kind | u64 parameter
//   fingerprint | u64 payload bytes | payload | u64 XXH64 of all before it
//
// All integers little-endian. Loading checks the magic, version, kind,
// length and checksum before anything reads the payload, so a truncated or
// corrupted file is rejected with one line instead of being half-parsed.
// Files are written to a temporary name and renamed: they appear whole or
// not at all.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_CONTAINER_H
#define CERIUM_SUPPORT_CONTAINER_H

#include "cerium/Support/Error.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace cerium {

enum class FileKind : uint32_t {
  Params = 1,
  SecretKey = 2,
  PublicKey = 3,
  EvalKeys = 4,
  Ciphertexts = 5,
  Artifact = 6,
};

const char *fileKindName(FileKind kind);

// 2: key and ciphertext payloads start with their Provenance.
// 3: each limb of a switching key's uniform half is a keystream of its own
//    (the same seed and stream expand to other words than in version 2).
// 4: each Galois key carries its level (a key over [P, Q_level] only), and
//    an artifact the level each Galois key is needed at.
// 5: an artifact's rns.key_switch may read its digits through an
//    automorphism (`permute`), which an older reader would ignore.
// 6: the uniform halves of switching keys expand from their seed by ChaCha8
//    instead of ChaCha20 (other words from a version-5 file's seeds).
// 7: an artifact ends with its constant section: the stored values of the
//    schedule's plaintext constants, which its encodes name (#rns.stored).
// 8: the uniform halves of switching keys expand from their seed by
//    AES-256-CTR instead of ChaCha8 (other words from a version-7 file's
//    seeds).
inline constexpr uint32_t kContainerVersion = 8;

/// Appends little-endian plain values to a byte buffer.
class ByteWriter {
public:
  template <class T> void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto *p = reinterpret_cast<const uint8_t *>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  template <class T> void putArray(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<uint64_t>(values.size());
    const auto *p = reinterpret_cast<const uint8_t *>(values.data());
    bytes.insert(bytes.end(), p, p + values.size_bytes());
  }
  void putString(const std::string &s) {
    putArray(std::span<const char>(s.data(), s.size()));
  }
  /// Zero bytes up to a multiple of `alignment` (ByteReader::align).
  void align(size_t alignment) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, 0);
  }
  std::vector<uint8_t> &buffer() { return bytes; }

private:
  std::vector<uint8_t> bytes;
};

/// Reads what ByteWriter wrote; any read past the end throws an Error that
/// names the source.
class ByteReader {
public:
  ByteReader(std::span<const uint8_t> bytes, std::string source)
      : bytes(bytes), source(std::move(source)) {}

  template <class T> T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return value;
  }
  /// A length-prefixed array. The length is checked against `maxCount` and
  /// the bytes left before anything is allocated.
  template <class T> std::vector<T> getArray(uint64_t maxCount = ~0ull) {
    uint64_t n = get<uint64_t>();
    if (n > maxCount)
      fail("array length out of range");
    return elements<T>(n);
  }
  /// A length-prefixed array that must hold exactly `count` elements;
  /// fails with `what` otherwise.
  template <class T>
  std::vector<T> getArrayExact(uint64_t count, const std::string &what) {
    if (get<uint64_t>() != count)
      fail(what);
    return elements<T>(count);
  }
  /// Steps over a length-prefixed array that must hold exactly `count`
  /// elements (fails with `what` otherwise), without reading it.
  template <class T>
  void skipArrayExact(uint64_t count, const std::string &what) {
    if (get<uint64_t>() != count)
      fail(what);
    if (count > (bytes.size() - pos) / sizeof(T))
      fail("array length out of range");
    pos += count * sizeof(T);
  }
  std::string getString() {
    auto chars = getArray<char>();
    return std::string(chars.begin(), chars.end());
  }
  /// The next `n` bytes where they are (no copy).
  std::span<const uint8_t> getBytesInPlace(uint64_t n) {
    if (n > bytes.size() - pos)
      fail("array length out of range");
    std::span<const uint8_t> in = bytes.subspan(pos, size_t(n));
    pos += size_t(n);
    return in;
  }
  /// Steps over ByteWriter::align's zero bytes.
  void align(size_t alignment) {
    const size_t to = (pos + alignment - 1) / alignment * alignment;
    for (uint8_t b : getBytesInPlace(to - pos))
      if (b)
        fail("nonzero padding");
  }
  bool atEnd() const { return pos == bytes.size(); }
  /// Bytes consumed so far.
  size_t position() const { return pos; }
  /// Throws unless the whole payload was consumed.
  void expectEnd() const {
    if (!atEnd())
      fail("unexpected trailing data");
  }
  [[noreturn]] void fail(const std::string &what) const {
    throw Error(source + ": malformed contents: " + what);
  }

private:
  template <class T> std::vector<T> elements(uint64_t n) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (n > (bytes.size() - pos) / sizeof(T))
      fail("array length out of range");
    std::vector<T> out(n);
    // memmove, not memcpy: GCC's -Wrestrict does not see that the check
    // above rules out the huge counts it then warns about.
    if (n)
      std::memmove(out.data(), bytes.data() + pos, n * sizeof(T));
    pos += n * sizeof(T);
    return out;
  }
  void need(size_t n) const {
    if (bytes.size() - pos < n)
      fail("payload ends early");
  }
  std::span<const uint8_t> bytes;
  size_t pos = 0;
  std::string source;
};

struct Container {
  FileKind kind;
  uint64_t fingerprint;
  std::vector<uint8_t> payload;
};

/// Writes path atomically (temporary file in the same directory + rename).
/// `mode` is the new file's permission bits (0600 for secret keys).
void writeContainer(const std::string &path, FileKind kind,
                    uint64_t fingerprint, std::span<const uint8_t> payload,
                    unsigned mode = 0644);

/// Throws cerium::Error ("PATH: cannot write: ...") where `path` exists and
/// is not a regular file: renaming an output there would replace a device
/// node (/dev/full) or fail on a directory.
void requireReplaceableOutput(const std::string &path);

/// A file written to a temporary beside `path` and renamed into place by
/// commit(); one destroyed before that leaves nothing. Errors throw
/// cerium::Error ("PATH: cannot write: ...").
class AtomicFileWriter {
public:
  /// `mode`: the new file's permission bits, whatever the umask.
  AtomicFileWriter(const std::string &path, unsigned mode = 0644);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  void append(std::span<const uint8_t> bytes);
  /// Overwrites bytes already written, or extends the file, at `offset`.
  void writeAt(std::span<const uint8_t> bytes, uint64_t offset);
  /// The open temporary (read and write), e.g. to map what was written.
  int descriptor() const { return fd; }
  /// Syncs, closes and renames the file into place.
  void commit();
  /// Abandons the file and throws the error `err` (an errno value).
  [[noreturn]] void fail(int err);

private:
  std::string path, tmp;
  int fd = -1;
};

/// A container written while its payload is produced: pieces go to a
/// temporary file as they are appended, finish() fills in the header's
/// length, appends the checksum (read back through a mapping, a piece at a
/// time) and renames the file into place. Memory holds one piece, not the
/// payload. A writer destroyed before finish() leaves nothing.
class ContainerFileWriter {
public:
  ContainerFileWriter(const std::string &path, FileKind kind,
                      uint64_t fingerprint, unsigned mode = 0644);

  void append(std::span<const uint8_t> bytes);
  void finish();

private:
  AtomicFileWriter file;
  FileKind kind;
  uint64_t fingerprint;
  uint64_t payloadBytes = 0;
};

/// Reads and validates a container of the expected kind. Errors name the
/// path: missing/unreadable, not a Cerium file, unsupported version, wrong
/// kind, truncated, checksum mismatch.
Container readContainer(const std::string &path, FileKind expected);
/// The same checks on a file's contents; `source` names it in errors.
Container parseContainer(std::vector<uint8_t> bytes, const std::string &source,
                         FileKind expected);

/// A container file validated in place through a read-only mapping: what
/// readContainer checks, without a copy of the payload in memory. Parsed
/// parts can be released (their pages dropped), so reading a large key
/// file costs the keys being built, not the file as well.
class MappedContainer {
public:
  /// Null when the file cannot be mapped (not a regular file): use
  /// readContainer. Throws cerium::Error like readContainer otherwise.
  static std::unique_ptr<MappedContainer> open(const std::string &path,
                                               FileKind expected);
  ~MappedContainer();
  MappedContainer(const MappedContainer &) = delete;
  MappedContainer &operator=(const MappedContainer &) = delete;

  FileKind kind;
  uint64_t fingerprint;
  std::span<const uint8_t> payload;
  /// Drops the whole pages within payload bytes [from, to) from memory
  /// (they are read again from the file if touched). `edges` drops the
  /// pages the range shares with bytes around it too: a reader copying a
  /// run of small pieces out in turn would otherwise keep every boundary
  /// page (dropping one another reader is in only costs it a re-read).
  void release(size_t from, size_t to, bool edges = false) const;

private:
  MappedContainer() = default;
  void *base = nullptr;
  size_t size = 0;
};

/// The whole contents of a file. What it allocates is what the file holds
/// (its size for a regular file), never a size read from the file.
std::vector<uint8_t> readFileBytes(const std::string &path);

/// Writes bytes to path atomically.
void writeFileAtomically(const std::string &path,
                         std::span<const uint8_t> bytes, unsigned mode = 0644);

/// XXH64 of a byte range.
uint64_t hashBytes(std::span<const uint8_t> bytes, uint64_t seed = 0);

} // namespace cerium

#endif // CERIUM_SUPPORT_CONTAINER_H
