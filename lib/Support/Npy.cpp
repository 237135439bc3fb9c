//===- Npy.cpp - NumPy .npy files -----------------------------------------===//

#include "cerium/Support/Npy.h"
#include "cerium/Support/Container.h"
#include "cerium/Support/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

namespace cerium {

namespace {

/// The value of `key` in the header dict (a Python literal), or "".
std::string headerField(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  at = header.find(':', at);
  if (at == std::string::npos)
    return "";
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  if (at >= header.size())
    return "";
  char open = header[at];
  char close = open == '(' ? ')' : (open == '\'' ? '\'' : ',');
  size_t end = header.find(close, at + 1);
  if (end == std::string::npos)
    return "";
  return header.substr(at, end - at + (close == ',' ? 0 : 1));
}

uint64_t byteSwap(uint64_t v, size_t bytes) {
  uint64_t r = 0;
  for (size_t i = 0; i < bytes; ++i)
    r = (r << 8) | ((v >> (8 * i)) & 0xff);
  return r;
}

} // namespace

NpyArray readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto fail = [&](const std::string &why) -> Error {
    return Error(path + ": not a valid .npy file: " + why);
  };
  static const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || !std::equal(magic, magic + 6, bytes.begin()))
    throw fail("missing the NUMPY magic");
  uint8_t major = bytes[6];
  size_t headerLen, headerAt;
  if (major == 1) {
    headerLen = bytes[8] | (size_t(bytes[9]) << 8);
    headerAt = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      throw fail("truncated header");
    headerLen = bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) |
                (size_t(bytes[11]) << 24);
    headerAt = 12;
  } else {
    throw fail("unsupported format version " + std::to_string(major));
  }
  if (headerAt + headerLen > bytes.size())
    throw fail("truncated header");
  std::string header(bytes.begin() + headerAt,
                     bytes.begin() + headerAt + headerLen);
  std::string descr = headerField(header, "descr");
  std::string fortran = headerField(header, "fortran_order");
  std::string shapeText = headerField(header, "shape");
  if (descr.size() < 5 || shapeText.empty())
    throw fail("header lacks descr or shape");
  if (fortran.find("True") != std::string::npos)
    throw Error(path + ": Fortran-ordered arrays are not supported (save "
                       "with numpy.ascontiguousarray)");
  char order = descr[1];
  std::string kind = descr.substr(2, descr.size() - 3);
  size_t width;
  bool isFloat;
  if (kind == "f8" || kind == "f4") {
    isFloat = true;
    width = kind == "f8" ? 8 : 4;
  } else if (kind == "i8" || kind == "i4") {
    isFloat = false;
    width = kind == "i8" ? 8 : 4;
  } else {
    throw Error(path + ": dtype " + descr +
                " is not supported (use float64, float32, int64 or int32)");
  }
  bool swap = order == '>';
  NpyArray a;
  static const std::regex number("[0-9]+");
  for (auto it =
           std::sregex_iterator(shapeText.begin(), shapeText.end(), number);
       it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  size_t count = 1;
  for (int64_t d : a.shape)
    count *= size_t(d);
  size_t dataAt = headerAt + headerLen;
  if (bytes.size() - dataAt != count * width)
    throw fail("data size " + std::to_string(bytes.size() - dataAt) +
               " bytes does not match the shape (" +
               std::to_string(count * width) + " bytes expected)");
  a.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes.data() + dataAt + i * width, width);
    if (swap)
      raw = byteSwap(raw, width);
    if (isFloat && width == 8) {
      std::memcpy(&a.values[i], &raw, 8);
    } else if (isFloat) {
      float f;
      uint32_t r32 = static_cast<uint32_t>(raw);
      std::memcpy(&f, &r32, 4);
      a.values[i] = f;
    } else if (width == 8) {
      a.values[i] = double(static_cast<int64_t>(raw));
    } else {
      a.values[i] = double(static_cast<int32_t>(static_cast<uint32_t>(raw)));
    }
  }
  return a;
}

void writeNpy(const std::string &path, const NpyArray &a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) +
             (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  shape += ")";
  std::string header =
      "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts at a multiple of 64 bytes, ending in '\n'.
  size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::vector<uint8_t> bytes = {0x93,
                                'N',
                                'U',
                                'M',
                                'P',
                                'Y',
                                1,
                                0,
                                static_cast<uint8_t>(header.size() & 0xff),
                                static_cast<uint8_t>(header.size() >> 8)};
  bytes.insert(bytes.end(), header.begin(), header.end());
  const auto *p = reinterpret_cast<const uint8_t *>(a.values.data());
  bytes.insert(bytes.end(), p, p + a.values.size() * sizeof(double));
  writeFileAtomically(path, bytes);
}

} // namespace cerium
