//===- Safetensors.cpp - Reading safetensors weight files -----------------===//

#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Functions.h"
#include "cerium/Support/Error.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

namespace cerium::dsl {

namespace {

size_t dtypeBytes(const std::string &dtype) {
  if (dtype == "F64")
    return 8;
  if (dtype == "F32")
    return 4;
  if (dtype == "F16" || dtype == "BF16")
    return 2;
  return 0;
}

double halfToDouble(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(double(mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<double>::quiet_NaN()
             : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(double(mant | 0x400), exp - 25);
  return sign ? -v : v;
}

} // namespace

std::shared_ptr<const SafetensorsFile>
SafetensorsFile::open(const std::string &path) {
  auto fail = [&](const std::string &why) -> Error {
    return Error(path + ": " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw fail(std::string("cannot open weights file: ") +
               std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw fail(std::string("cannot read weights file: ") +
               std::strerror(errno));
  }
  auto file = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  file->filePath = path;
  file->mappedBytes = static_cast<size_t>(st.st_size);
  if (file->mappedBytes < 8) {
    ::close(fd);
    throw fail("not a safetensors file (shorter than its 8-byte header "
               "length)");
  }
  void *m = ::mmap(nullptr, file->mappedBytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED)
    throw fail(std::string("cannot map weights file: ") + std::strerror(errno));
  file->mapped = static_cast<const uint8_t *>(m);
  uint64_t headerBytes;
  std::memcpy(&headerBytes, file->mapped, 8);
  if (headerBytes > file->mappedBytes - 8)
    throw fail("not a safetensors file (header length " +
               std::to_string(headerBytes) + " exceeds the file size)");
  file->data = file->mapped + 8 + headerBytes;
  file->dataBytes = file->mappedBytes - 8 - headerBytes;
  nlohmann::json header;
  try {
    header =
        nlohmann::json::parse(file->mapped + 8, file->mapped + 8 + headerBytes);
  } catch (const nlohmann::json::exception &e) {
    throw fail(std::string("malformed safetensors header: ") + e.what());
  }
  if (!header.is_object())
    throw fail("malformed safetensors header: not a JSON object");
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__")
      continue;
    Tensor t;
    try {
      t.dtype = entry.at("dtype").get<std::string>();
      // Integers only: converting a JSON float such as 1e300 to an integer
      // would be undefined behaviour.
      const auto &shape = entry.at("shape");
      if (!shape.is_array())
        throw fail("tensor '" + name + "': shape must be a list of integers");
      for (const auto &d : shape) {
        if (!d.is_number_integer())
          throw fail("tensor '" + name +
                     "': shape must be a list of integers");
        t.shape.push_back(d.get<int64_t>());
      }
      const auto &offsets = entry.at("data_offsets");
      if (!offsets.is_array() || offsets.size() != 2 ||
          !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
        throw fail("tensor '" + name +
                   "': data_offsets must be 2 non-negative integers");
      t.begin = offsets[0].get<uint64_t>();
      t.end = offsets[1].get<uint64_t>();
    } catch (const nlohmann::json::exception &e) {
      throw fail("tensor '" + name + "': malformed entry: " + e.what());
    }
    size_t bytes = dtypeBytes(t.dtype);
    if (!bytes)
      throw fail("tensor '" + name + "' has dtype " + t.dtype +
                 "; only F64, F32, F16 and BF16 are accepted");
    // The element count must not wrap (a wrapped count could match the
    // offsets); even with a zero dimension the others must multiply within
    // int64, which is how shapes are handled downstream.
    int64_t count = 1, nonzero = 1;
    for (int64_t d : t.shape) {
      if (d < 0)
        throw fail("tensor '" + name + "' has a negative dimension");
      if (d && __builtin_mul_overflow(nonzero, d, &nonzero))
        throw fail("tensor '" + name + "' has more elements than 2^63");
      count = d ? count * d : 0;
    }
    uint64_t size;
    if (__builtin_mul_overflow(static_cast<uint64_t>(count), bytes, &size) ||
        t.end < t.begin || t.end > file->dataBytes || t.end - t.begin != size)
      throw fail("tensor '" + name +
                 "': data offsets do not match its shape and dtype, or lie "
                 "past the end of the file (truncated?)");
    file->entries.emplace(name, std::move(t));
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapped)
    ::munmap(const_cast<uint8_t *>(mapped), mappedBytes);
}

const SafetensorsFile::Tensor *
SafetensorsFile::find(const std::string &name) const {
  auto it = entries.find(name);
  return it == entries.end() ? nullptr : &it->second;
}

std::vector<double> SafetensorsFile::read(const std::string &name) const {
  const Tensor *t = find(name);
  if (!t)
    throw Error(filePath + ": no tensor named '" + name + "'");
  const uint8_t *p = data + t->begin;
  size_t bytes = dtypeBytes(t->dtype);
  size_t count = (t->end - t->begin) / bytes;
  std::vector<double> out(count);
  for (size_t i = 0; i < count; ++i, p += bytes) {
    if (t->dtype == "F64") {
      std::memcpy(&out[i], p, 8);
    } else if (t->dtype == "F32") {
      float f;
      std::memcpy(&f, p, 4);
      out[i] = f;
    } else {
      uint16_t h;
      std::memcpy(&h, p, 2);
      if (t->dtype == "F16") {
        out[i] = halfToDouble(h);
      } else { // BF16: the top half of an f32
        uint32_t bits = uint32_t(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        out[i] = f;
      }
    }
  }
  return out;
}

std::vector<std::string> SafetensorsFile::closeMatches(const std::string &name,
                                                       size_t max) const {
  std::vector<std::pair<size_t, std::string>> scored;
  for (auto &[candidate, t] : entries) {
    size_t d = editDistance(name, candidate);
    if (d <= std::max<size_t>(2, name.size() / 3))
      scored.emplace_back(d, candidate);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < max; ++i)
    out.push_back(scored[i].second);
  return out;
}

} // namespace cerium::dsl
