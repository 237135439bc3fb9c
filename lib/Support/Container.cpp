//===- Container.cpp - Versioned, checksummed binary files ----------------===//

#include "cerium/Support/Container.h"

#include <xxhash.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cerium {

static constexpr char kMagic[8] = {'C', 'E', 'R', 'I', 'U', 'M', 0x1a, '\n'};
static constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

const char *fileKindName(FileKind kind) {
  switch (kind) {
  case FileKind::Params:
    return "parameter";
  case FileKind::SecretKey:
    return "secret key";
  case FileKind::PublicKey:
    return "public key";
  case FileKind::EvalKeys:
    return "evaluation key";
  case FileKind::Ciphertexts:
    return "ciphertext";
  case FileKind::Artifact:
    return "artifact";
  }
  return "unknown";
}

namespace {

/// bytes[0, size) written at `offset` (or appended when offset < 0);
/// false with errno set on failure.
bool writeAll(int fd, const uint8_t *bytes, size_t size, off_t offset = -1) {
  size_t done = 0;
  while (done < size) {
    ssize_t w = offset < 0 ? ::write(fd, bytes + done, size - done)
                           : ::pwrite(fd, bytes + done, size - done,
                                      offset + off_t(done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = EIO;
      return false;
    }
    done += size_t(w);
  }
  return true;
}

/// XXH64 of a mapped file's first `size` bytes, hashed a piece at a time
/// with each piece's pages dropped after: hashing a large file does not
/// make it resident.
uint64_t hashMapped(void *base, size_t size) {
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  XXH64_state_t *state = XXH64_createState();
  XXH64_reset(state, 0);
  constexpr size_t kPiece = size_t(64) << 20;
  const auto *bytes = static_cast<const uint8_t *>(base);
  for (size_t at = 0; at < size; at += kPiece) {
    const size_t len = std::min(kPiece, size - at);
    XXH64_update(state, bytes + at, len);
    if (size_t done = (at + len) / page * page)
      ::madvise(base, done, MADV_DONTNEED);
  }
  const uint64_t digest = XXH64_digest(state);
  XXH64_freeState(state);
  return digest;
}

} // namespace

uint64_t hashBytes(std::span<const uint8_t> bytes, uint64_t seed) {
  return XXH64(bytes.data(), bytes.size(), seed);
}

void requireReplaceableOutput(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw Error(
        path + ": cannot write: " +
        (S_ISDIR(st.st_mode) ? std::strerror(EISDIR) : "not a regular file"));
}

AtomicFileWriter::AtomicFileWriter(const std::string &path, unsigned mode)
    : path(path), tmp(path + ".tmp." + std::to_string(::getpid())) {
  requireReplaceableOutput(path);
  fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw Error(path + ": cannot write: " + std::strerror(errno));
  ::fchmod(fd, mode); // the umask must not widen or narrow it
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd >= 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
  }
}

void AtomicFileWriter::fail(int err) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
  ::unlink(tmp.c_str());
  throw Error(path + ": cannot write: " + std::strerror(err));
}

void AtomicFileWriter::append(std::span<const uint8_t> bytes) {
  if (!writeAll(fd, bytes.data(), bytes.size()))
    fail(errno);
}

void AtomicFileWriter::writeAt(std::span<const uint8_t> bytes,
                               uint64_t offset) {
  if (!writeAll(fd, bytes.data(), bytes.size(), off_t(offset)))
    fail(errno);
}

void AtomicFileWriter::commit() {
  if (::fsync(fd) != 0)
    fail(errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0 || std::rename(tmp.c_str(), path.c_str()) != 0)
    fail(errno);
}

void writeFileAtomically(const std::string &path,
                         std::span<const uint8_t> bytes, unsigned mode) {
  AtomicFileWriter file(path, mode);
  file.append(bytes);
  file.commit();
}

void writeContainer(const std::string &path, FileKind kind,
                    uint64_t fingerprint, std::span<const uint8_t> payload,
                    unsigned mode) {
  ContainerFileWriter file(path, kind, fingerprint, mode);
  file.append(payload);
  file.finish();
}

ContainerFileWriter::ContainerFileWriter(const std::string &path, FileKind kind,
                                         uint64_t fingerprint, unsigned mode)
    : file(path, mode), kind(kind), fingerprint(fingerprint) {
  // The header's place; its length field is known at the end.
  const uint8_t zeros[kHeaderBytes] = {};
  file.append(zeros);
}

void ContainerFileWriter::append(std::span<const uint8_t> bytes) {
  file.append(bytes);
  payloadBytes += bytes.size();
}

void ContainerFileWriter::finish() {
  ByteWriter header;
  for (char c : kMagic)
    header.put<char>(c);
  header.put<uint32_t>(kContainerVersion);
  header.put<uint32_t>(static_cast<uint32_t>(kind));
  header.put<uint64_t>(fingerprint);
  header.put<uint64_t>(payloadBytes);
  file.writeAt(header.buffer(), 0);
  const size_t size = kHeaderBytes + size_t(payloadBytes);
  void *base =
      ::mmap(nullptr, size, PROT_READ, MAP_SHARED, file.descriptor(), 0);
  if (base == MAP_FAILED)
    file.fail(errno);
  const uint64_t checksum = hashMapped(base, size);
  ::munmap(base, size);
  ByteWriter trailer;
  trailer.put<uint64_t>(checksum);
  file.writeAt(trailer.buffer(), size);
  file.commit();
}

std::vector<uint8_t> readFileBytes(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    throw Error(path + ": cannot read: " + std::strerror(err));
  }
  // A device (/dev/zero) never ends: files and pipes only.
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": cannot read: not a regular file or a pipe");
  }
  std::vector<uint8_t> bytes;
  if (S_ISREG(st.st_mode))
    bytes.reserve(static_cast<size_t>(st.st_size));
  // Read to the end rather than trust st_size: pipes have none, and a file
  // may change size while it is read.
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw Error(path + ": cannot read: " + std::strerror(err));
    }
    if (n == 0)
      break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return bytes;
}

Container readContainer(const std::string &path, FileKind expected) {
  return parseContainer(readFileBytes(path), path, expected);
}

namespace {

struct Header {
  FileKind kind;
  uint64_t fingerprint;
};

/// The checks of every container read: magic, version, kind, length and
/// checksum (hash(bytes without the trailing 8) computes the latter).
template <class Hash>
Header validateContainer(std::span<const uint8_t> bytes,
                         const std::string &path, FileKind expected,
                         Hash &&hash) {
  const std::string what = fileKindName(expected);
  if (bytes.size() < sizeof(kMagic) ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw Error(path + ": not a Cerium " + what + " file");
  if (bytes.size() < kHeaderBytes + 8)
    throw Error(path + ": truncated " + what + " file");
  ByteReader header(bytes.subspan(8, kHeaderBytes - 8), path);
  uint32_t version = header.get<uint32_t>();
  auto kind = static_cast<FileKind>(header.get<uint32_t>());
  uint64_t fingerprint = header.get<uint64_t>();
  uint64_t payloadBytes = header.get<uint64_t>();
  if (version != kContainerVersion)
    throw Error(path + ": format version " + std::to_string(version) +
                " is not supported (expected " +
                std::to_string(kContainerVersion) + ")");
  auto withArticle = [](const std::string &noun) {
    return (std::string("aeiou").find(noun[0]) != std::string::npos ? "an "
                                                                    : "a ") +
           noun;
  };
  if (kind != expected)
    throw Error(path + ": is " + withArticle(fileKindName(kind)) +
                " file, expected " + withArticle(what) + " file");
  // The length field is only compared with the real size, never used to
  // size anything.
  const uint64_t held = bytes.size() - kHeaderBytes - 8;
  if (held != payloadBytes)
    throw Error(path + ": " +
                (held < payloadBytes
                     ? "truncated " + what + " file (the header announces " +
                           std::to_string(payloadBytes) +
                           " payload bytes, the file holds " +
                           std::to_string(held) + ")"
                     : "unexpected trailing bytes in " + what + " file"));
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (stored != hash(bytes.first(bytes.size() - 8)))
    throw Error(path + ": checksum mismatch: the " + what +
                " file is corrupted");
  return {kind, fingerprint};
}

} // namespace

Container parseContainer(std::vector<uint8_t> bytes, const std::string &path,
                         FileKind expected) {
  Header h =
      validateContainer(bytes, path, expected, [](std::span<const uint8_t> b) {
        return hashBytes(b);
      });
  // The payload in place: no second copy of a large key file.
  bytes.resize(bytes.size() - 8);
  bytes.erase(bytes.begin(), bytes.begin() + kHeaderBytes);
  return Container{h.kind, h.fingerprint, std::move(bytes)};
}

std::unique_ptr<MappedContainer> MappedContainer::open(const std::string &path,
                                                       FileKind expected) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    ::close(fd);
    return nullptr;
  }
  void *base =
      ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED)
    return nullptr;
  std::unique_ptr<MappedContainer> m(new MappedContainer);
  m->base = base;
  m->size = size_t(st.st_size);
  std::span<const uint8_t> bytes(static_cast<const uint8_t *>(base), m->size);
  Header h = validateContainer(bytes, path, expected,
                               [&](std::span<const uint8_t> hashed) {
                                 return hashMapped(base, hashed.size());
                               });
  m->kind = h.kind;
  m->fingerprint = h.fingerprint;
  m->payload = bytes.subspan(kHeaderBytes, m->size - kHeaderBytes - 8);
  return m;
}

void MappedContainer::release(size_t from, size_t to, bool edges) const {
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t round = edges ? 0 : page - 1;
  const size_t begin = (kHeaderBytes + from + round) / page * page;
  const size_t end = std::min(
      size, (kHeaderBytes + to + (edges ? page - 1 : 0)) / page * page);
  if (end > begin)
    ::madvise(static_cast<uint8_t *>(base) + begin, end - begin, MADV_DONTNEED);
}

MappedContainer::~MappedContainer() { ::munmap(base, size); }

} // namespace cerium
