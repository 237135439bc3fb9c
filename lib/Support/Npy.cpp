//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// Format (numpy.lib.format): "\x93NUMPY", major and minor version bytes, the
// header length (u16 in version 1.0, u32 in 2.0 and 3.0, little-endian),
// the header -- a Python dict literal with the keys 'descr', 'fortran_order'
// and 'shape' -- and then the raw elements.
//
//===----------------------------------------------------------------------===//

#include "cerium/Support/Npy.h"
#include "cerium/Support/Container.h"
#include "cerium/Support/Error.h"

#include <bit>
#include <cmath>
#include <string_view>

namespace cerium {

namespace {

struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// Parses the header dict. It is written by Python's repr(), so only the
/// literals repr produces for these keys are accepted: quoted strings, True
/// and False, and tuples of non-negative integers (Python 2 wrote them with
/// an 'L' suffix).
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &name)
      : text(text), name(name) {}

  Header parse() {
    Header h;
    bool seen[3] = {false, false, false};
    space();
    expect('{');
    for (;;) {
      space();
      if (accept('}'))
        break;
      std::string key = string();
      space();
      expect(':');
      space();
      int which;
      if (key == "descr") {
        // A list of fields is a structured (record) dtype.
        if (peek() == '[')
          throw unsupported("structured (record) dtypes are");
        h.descr = string();
        which = 0;
      } else if (key == "fortran_order") {
        h.fortranOrder = boolean();
        which = 1;
      } else if (key == "shape") {
        h.shape = shape();
        which = 2;
      } else {
        throw fail("unexpected key '" + key + "' in the header");
      }
      if (seen[which])
        throw fail("the header repeats '" + key + "'");
      seen[which] = true;
      space();
      if (accept(','))
        continue;
      expect('}');
      break;
    }
    space();
    if (pos != text.size())
      throw fail("unexpected text after the header dict");
    if (!seen[0] || !seen[1] || !seen[2])
      throw fail("the header lacks '" +
                 std::string(!seen[0] ? "descr" : !seen[1] ? "fortran_order"
                                                           : "shape") +
                 "'");
    return h;
  }

  Error fail(const std::string &why) const {
    return Error(name + ": not a valid .npy file: " + why);
  }
  Error unsupported(const std::string &what) const {
    return Error(name + ": " + what +
                 " not supported (use a float, integer or bool array)");
  }

private:
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool accept(char c) {
    if (pos >= text.size() || text[pos] != c)
      return false;
    ++pos;
    return true;
  }
  void expect(char c) {
    if (!accept(c))
      throw fail(std::string("malformed header (expected '") + c + "')");
  }
  void space() {
    // NumPy pads the header with spaces and ends it with '\n'.
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' ||
            text[pos] == '\r'))
      ++pos;
  }
  std::string string() {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      throw fail("malformed header (expected a quoted string)");
    size_t end = text.find(quote, pos + 1);
    if (end == std::string_view::npos)
      throw fail("malformed header (unterminated string)");
    std::string s(text.substr(pos + 1, end - pos - 1));
    if (s.find('\\') != std::string::npos)
      throw fail("malformed header (escape in a string)");
    pos = end + 1;
    return s;
  }
  bool boolean() {
    if (text.substr(pos, 4) == "True") {
      pos += 4;
      return true;
    }
    if (text.substr(pos, 5) == "False") {
      pos += 5;
      return false;
    }
    throw fail("malformed header ('fortran_order' is neither True nor False)");
  }
  std::vector<int64_t> shape() {
    const char *notTuple = "malformed header (the shape is not a tuple of "
                           "integers)";
    std::vector<int64_t> dims;
    if (!accept('('))
      throw fail(notTuple);
    for (;;) {
      space();
      if (accept(')'))
        return dims;
      if (peek() == '-')
        throw fail("the shape has a negative dimension");
      if (peek() < '0' || peek() > '9')
        throw fail(notTuple);
      int64_t d = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(d, int64_t(10), &d) ||
            __builtin_add_overflow(d, int64_t(peek() - '0'), &d))
          throw fail("a dimension of the shape does not fit 64 bits");
        ++pos;
      }
      accept('L');
      dims.push_back(d);
      if (dims.size() > 64)
        throw fail("the shape has more than 64 dimensions");
      space();
      if (accept(')'))
        return dims;
      if (!accept(','))
        throw fail(notTuple);
    }
  }

  std::string_view text;
  const std::string &name;
  size_t pos = 0;
};

/// How one element is stored.
struct Element {
  char kind;       // 'f', 'i', 'u' or 'b'
  size_t width;    // bytes
  bool bigEndian;
};

Element parseDescr(const std::string &descr, const HeaderParser &p) {
  auto unsupported = [&](const std::string &what) {
    return p.unsupported("dtype '" + descr + "' (" + what + ") is");
  };
  std::string_view d = descr;
  bool big = std::endian::native == std::endian::big;
  if (!d.empty() && std::string_view("<>|=").find(d[0]) != std::string::npos) {
    if (d[0] == '<')
      big = false;
    else if (d[0] == '>')
      big = true;
    d.remove_prefix(1);
  }
  if (d.empty())
    throw p.fail("empty dtype");
  char kind = d[0];
  std::string_view digits = d.substr(1);
  size_t width = 0;
  bool plain = !digits.empty() && digits.size() <= 2;
  for (char c : digits) {
    plain &= c >= '0' && c <= '9';
    width = width * 10 + size_t(c - '0');
  }
  switch (kind) {
  case 'c':
    throw unsupported("complex");
  case 'O':
    throw unsupported("Python objects");
  case 'S':
  case 'a':
  case 'U':
    throw unsupported("strings");
  case 'V':
    throw unsupported("raw or structured records");
  case 'M':
  case 'm':
    throw unsupported("dates and times");
  case 'f':
    if (plain && (width == 2 || width == 4 || width == 8))
      return {kind, width, big};
    if (plain)
      throw unsupported(std::to_string(8 * width) + "-bit float");
    break;
  case 'i':
  case 'u':
    if (plain && (width == 1 || width == 2 || width == 4 || width == 8))
      return {kind, width, big};
    break;
  case 'b':
    if (plain && width == 1)
      return {kind, width, big};
    break;
  }
  throw unsupported("unknown type");
}

double halfToDouble(uint16_t h) {
  int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(double(mant), -24); // subnormal
  else if (exp == 31)
    v = mant ? std::nan("") : HUGE_VAL;
  else
    v = std::ldexp(double(mant | 0x400), exp - 25);
  return h >> 15 ? -v : v;
}

double convert(const uint8_t *p, const Element &e) {
  uint64_t raw = 0;
  for (size_t k = 0; k < e.width; ++k)
    raw |= uint64_t(p[e.bigEndian ? e.width - 1 - k : k]) << (8 * k);
  switch (e.kind) {
  case 'f':
    if (e.width == 8)
      return std::bit_cast<double>(raw);
    if (e.width == 4)
      return std::bit_cast<float>(static_cast<uint32_t>(raw));
    return halfToDouble(static_cast<uint16_t>(raw));
  case 'i': {
    // Sign-extend from the element's width.
    unsigned unused = unsigned(64 - 8 * e.width);
    return double(static_cast<int64_t>(raw << unused) >> unused);
  }
  case 'u':
    return double(raw);
  default: // 'b'
    return raw != 0 ? 1.0 : 0.0;
  }
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

} // namespace

NpyArray parseNpy(std::span<const uint8_t> bytes, const std::string &name) {
  HeaderParser none({}, name);
  static const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || !std::equal(magic, magic + 6, bytes.begin()))
    throw none.fail("missing the NUMPY magic");
  uint8_t major = bytes[6], minor = bytes[7];
  uint64_t headerLen;
  size_t headerAt;
  if (major == 1 && minor == 0) {
    headerLen = bytes[8] | (uint64_t(bytes[9]) << 8);
    headerAt = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (bytes.size() < 12)
      throw none.fail("truncated header");
    headerLen = bytes[8] | (uint64_t(bytes[9]) << 8) |
                (uint64_t(bytes[10]) << 16) | (uint64_t(bytes[11]) << 24);
    headerAt = 12;
  } else {
    throw none.fail("unsupported format version " + std::to_string(major) +
                    "." + std::to_string(minor));
  }
  if (headerLen > bytes.size() - headerAt)
    throw none.fail("truncated header");
  std::string_view text(reinterpret_cast<const char *>(bytes.data()) +
                            headerAt,
                        headerLen);
  HeaderParser parser(text, name);
  Header h = parser.parse();
  Element e = parseDescr(h.descr, parser);

  // The element count and the bytes it needs, without overflow; nothing is
  // allocated before they are known to match the file.
  uint64_t count = 1;
  for (int64_t d : h.shape)
    if (d == 0)
      count = 0;
  if (count)
    for (int64_t d : h.shape)
      if (__builtin_mul_overflow(count, uint64_t(d), &count))
        throw parser.fail("shape " + shapeText(h.shape) +
                          " has more elements than 2^64");
  const uint64_t dataAt = headerAt + headerLen;
  const uint64_t held = bytes.size() - dataAt;
  uint64_t needed;
  bool tooMany = __builtin_mul_overflow(count, uint64_t(e.width), &needed);
  if (tooMany || needed != held)
    throw parser.fail("shape " + shapeText(h.shape) + " of dtype '" +
                      h.descr + "' needs " +
                      (tooMany ? std::string("more than 2^64")
                               : std::to_string(needed)) +
                      " bytes but the file holds " + std::to_string(held) +
                      " bytes of data");

  NpyArray a;
  a.shape = h.shape;
  a.values.resize(count);
  const uint8_t *data = bytes.data() + dataAt;
  if (!h.fortranOrder || h.shape.size() < 2) {
    for (uint64_t i = 0; i < count; ++i)
      a.values[i] = convert(data + i * e.width, e);
    return a;
  }
  // Fortran order: the first index varies fastest in the file. Walk the C
  // order's multi-index and keep the element's Fortran offset alongside.
  const size_t rank = h.shape.size();
  std::vector<uint64_t> stride(rank), index(rank, 0);
  stride[0] = 1;
  for (size_t j = 1; j < rank; ++j)
    stride[j] = stride[j - 1] * uint64_t(h.shape[j - 1]);
  uint64_t offset = 0;
  for (uint64_t i = 0; i < count; ++i) {
    a.values[i] = convert(data + offset * e.width, e);
    for (size_t j = rank; j-- > 0;) {
      if (++index[j] < uint64_t(h.shape[j])) {
        offset += stride[j];
        break;
      }
      offset -= (index[j] - 1) * stride[j];
      index[j] = 0;
    }
  }
  return a;
}

NpyArray readNpy(const std::string &path) {
  return parseNpy(readFileBytes(path), path);
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
