//===- Container.cpp - Versioned, checksummed binary files ----------------===//

#include "cerium/Support/Container.h"

#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>

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

uint64_t hashBytes(std::span<const uint8_t> bytes, uint64_t seed) {
  return XXH64(bytes.data(), bytes.size(), seed);
}

void writeFileAtomically(const std::string &path,
                         std::span<const uint8_t> bytes, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd >= 0)
    ::fchmod(fd, mode); // the umask must not widen or narrow it
  if (fd < 0)
    throw Error(path + ": cannot write: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write: " + std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 ||
      std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write: " + std::strerror(err));
  }
}

void writeContainer(const std::string &path, FileKind kind,
                    uint64_t fingerprint, std::span<const uint8_t> payload,
                    unsigned mode) {
  ByteWriter w;
  for (char c : kMagic)
    w.put<char>(c);
  w.put<uint32_t>(kContainerVersion);
  w.put<uint32_t>(static_cast<uint32_t>(kind));
  w.put<uint64_t>(fingerprint);
  w.put<uint64_t>(payload.size());
  auto &buf = w.buffer();
  buf.insert(buf.end(), payload.begin(), payload.end());
  w.put<uint64_t>(hashBytes(buf));
  writeFileAtomically(path, buf, mode);
}

Container readContainer(const std::string &path, FileKind expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error(path + ": cannot read: " + std::strerror(errno));
  const std::string what = fileKindName(expected);
  if (bytes.size() < sizeof(kMagic) ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw Error(path + ": not a Cerium " + what + " file");
  if (bytes.size() < kHeaderBytes + 8)
    throw Error(path + ": truncated " + what + " file");
  ByteReader header(
      std::span<const uint8_t>(bytes).subspan(8, kHeaderBytes - 8), path);
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
  if (bytes.size() - kHeaderBytes - 8 != payloadBytes)
    throw Error(path + ": " +
                (bytes.size() - kHeaderBytes - 8 < payloadBytes
                     ? "truncated " + what + " file"
                     : "unexpected trailing bytes in " + what + " file"));
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (stored !=
      hashBytes(std::span<const uint8_t>(bytes).first(bytes.size() - 8)))
    throw Error(path + ": checksum mismatch: the " + what +
                " file is corrupted");
  Container c{kind, fingerprint, {}};
  c.payload.assign(bytes.begin() + kHeaderBytes, bytes.end() - 8);
  return c;
}

} // namespace cerium
