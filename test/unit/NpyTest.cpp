//===- NpyTest.cpp - The .npy reader on byte-exact files ------------------===//
//
// Three files are verbatim numpy.save output (NumPy 1.26); the rest are
// built here byte by byte, header text included, so that every field the
// reader looks at is pinned.
//
//===----------------------------------------------------------------------===//

#include "cerium/Support/Npy.h"
#include "cerium/Support/Error.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace cerium;

namespace {

using Bytes = std::vector<uint8_t>;

template <size_t N> Bytes literal(const char (&s)[N]) {
  return Bytes(s, s + N - 1); // without the terminating NUL
}

/// A .npy file: magic, version, header length, `dict` padded with spaces to
/// a multiple of 64 bytes and ended by '\n' (as NumPy writes it), `data`.
Bytes npy(const std::string &dict, const Bytes &data, int major = 1) {
  size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  size_t total = prefix + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < prefix - 8; ++i)
    b.push_back(uint8_t(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::string dict(const std::string &descr, const std::string &shape,
                 bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " +
         (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

NpyArray parse(const Bytes &b) { return parseNpy(b, "in.npy"); }

/// The error parsing `b` gives ("" if it parses).
std::string errorOf(const Bytes &b) {
  try {
    parse(b);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

/// The error is one line naming the file and containing `needle`.
void expectError(const Bytes &b, const std::string &needle) {
  std::string e = errorOf(b);
  SCOPED_TRACE(e);
  EXPECT_EQ(e.rfind("in.npy: ", 0), 0u);
  EXPECT_NE(e.find(needle), std::string::npos);
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Npy, VerbatimNumpyBigEndianInt16) {
  // (np.arange(6).reshape(2, 3) - 2).astype('>i2')
  NpyArray a = parse(literal(
      "\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00"
      "{'descr': '>i2', 'fortran_order': False, 'shape': (2, 3), }         "
      "                                                 \n"
      "\xff\xfe\xff\xff\x00\x00\x00\x01\x00\x02\x00\x03"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<double>{-2, -1, 0, 1, 2, 3}));
}

TEST(Npy, VerbatimNumpyFortranFloat32) {
  // np.asfortranarray([[1.5, -2, 3], [4, 5, -6.25]], dtype='<f4')
  NpyArray a = parse(literal(
      "\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00"
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }          "
      "                                                 \n"
      "\x00\x00\xc0\x3f\x00\x00\x80\x40\x00\x00\x00\xc0\x00\x00\xa0\x40\x00"
      "\x00\x40\x40\x00\x00\xc8\xc0"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<double>{1.5, -2, 3, 4, 5, -6.25}));
}

TEST(Npy, VerbatimNumpyVersion2BigEndianFloat64) {
  // np.lib.format.write_array(f, np.array([1, -0.5], '>f8'), version=(2, 0))
  NpyArray a = parse(literal(
      "\x93\x4e\x55\x4d\x50\x59\x02\x00\x74\x00\x00\x00"
      "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }           "
      "                                               \n"
      "\x3f\xf0\x00\x00\x00\x00\x00\x00\xbf\xe0\x00\x00\x00\x00\x00\x00"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(a.values, (std::vector<double>{1, -0.5}));
}

TEST(Npy, FloatWidthsAndByteOrders) {
  // 1.5 = 0x3ff8000000000000 (f8), 0x3fc00000 (f4), 0x3e00 (f2).
  Bytes f8le = {0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
  Bytes f8be(f8le.rbegin(), f8le.rend());
  EXPECT_EQ(parse(npy(dict("<f8", "(1,)"), f8le)).values[0], 1.5);
  EXPECT_EQ(parse(npy(dict(">f8", "(1,)"), f8be)).values[0], 1.5);
  EXPECT_EQ(parse(npy(dict("=f8", "(1,)"), f8le)).values[0], 1.5);
  EXPECT_EQ(parse(npy(dict("<f4", "(1,)"), {0, 0, 0xc0, 0x3f})).values[0],
            1.5);
  EXPECT_EQ(parse(npy(dict(">f4", "(1,)"), {0x3f, 0xc0, 0, 0})).values[0],
            1.5);
  // Half precision: 1.5, -2, the smallest subnormal 2^-24, infinity, NaN.
  NpyArray h = parse(npy(dict("<f2", "(5,)"), {0x00, 0x3e, 0x00, 0xc0, 0x01,
                                               0x00, 0x00, 0x7c, 0x01, 0x7e}));
  EXPECT_EQ(h.values[0], 1.5);
  EXPECT_EQ(h.values[1], -2);
  EXPECT_EQ(h.values[2], std::ldexp(1.0, -24));
  EXPECT_EQ(h.values[3], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(h.values[4]));
  EXPECT_EQ(parse(npy(dict(">f2", "(1,)"), {0x3e, 0x00})).values[0], 1.5);
}

TEST(Npy, IntegerAndBoolDtypes) {
  struct Case {
    const char *descr;
    Bytes data;
    double expected;
  } cases[] = {
      {"|i1", {0x80}, -128},
      {"|u1", {0xff}, 255},
      {"<i2", {0xfe, 0xff}, -2},
      {">i2", {0xff, 0xfe}, -2},
      {"<u2", {0xfe, 0xff}, 65534},
      {">u2", {0xff, 0xfe}, 65534},
      {"<i4", {0x00, 0x00, 0x00, 0x80}, -2147483648.0},
      {">i4", {0x80, 0x00, 0x00, 0x00}, -2147483648.0},
      {"<u4", {0xff, 0xff, 0xff, 0xff}, 4294967295.0},
      {">u4", {0x00, 0x00, 0x01, 0x00}, 256},
      {"<i8", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, -1},
      {">i8", {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, 4294967296.0},
      {"<u8",
       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       18446744073709551615.0},
      {"|b1", {0x01}, 1},
      {"|b1", {0x00}, 0},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.descr);
    NpyArray a = parse(npy(dict(c.descr, "(1,)"), c.data));
    ASSERT_EQ(a.values.size(), 1u);
    EXPECT_EQ(a.values[0], c.expected);
  }
}

TEST(Npy, FortranOrderIsTransposedIntoCOrder) {
  // A 2x3x4 array whose C-order element i is i: in Fortran order the file
  // holds element (i, j, k) at i + 2 j + 6 k.
  Bytes data(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        data[i + 2 * j + 6 * k] = uint8_t(12 * i + 4 * j + k);
  NpyArray a = parse(npy(dict("|u1", "(2, 3, 4)", true), data));
  ASSERT_EQ(a.values.size(), 24u);
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(a.values[i], i);
  // One dimension (or none): both orders are the same bytes.
  EXPECT_EQ(parse(npy(dict("|u1", "(3,)", true), {7, 8, 9})).values,
            (std::vector<double>{7, 8, 9}));
}

TEST(Npy, HeaderVersionsAndLayouts) {
  Bytes one = {1};
  for (int major : {1, 2, 3})
    EXPECT_EQ(parse(npy(dict("|u1", "(1,)"), one, major)).values[0], 1);
  // Keys in any order, double quotes, no trailing comma, Python 2 longs.
  NpyArray a = parse(
      npy("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"|u1\"}",
          {4, 5}));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
  // 0-d: one value, empty shape.
  NpyArray s = parse(npy(dict("|u1", "()"), {9}));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.values, std::vector<double>{9});
  // Empty arrays, even with a huge other dimension.
  EXPECT_TRUE(parse(npy(dict("<f8", "(0,)"), {})).values.empty());
  EXPECT_TRUE(
      parse(npy(dict("<f8", "(0, 4611686018427387904, 4611686018427387904)"),
                {}))
          .values.empty());
}

TEST(Npy, UnsupportedDtypesAreNamed) {
  expectError(npy(dict("<c16", "(1,)"), Bytes(16)),
              "dtype '<c16' (complex) is not supported");
  expectError(npy(dict("|O", "(1,)"), Bytes(8)), "(Python objects)");
  expectError(npy(dict("<U3", "(1,)"), Bytes(12)), "(strings)");
  expectError(npy(dict("|S3", "(1,)"), Bytes(3)), "(strings)");
  expectError(npy(dict("|V8", "(1,)"), Bytes(8)), "records");
  expectError(npy(dict("<M8[ns]", "(1,)"), Bytes(8)), "(dates and times)");
  expectError(npy(dict("<f16", "(1,)"), Bytes(16)), "(128-bit float)");
  expectError(npy(dict("<i16", "(1,)"), Bytes(16)), "(unknown type)");
  expectError(npy("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': "
                  "False, 'shape': (1,), }",
                  Bytes(12)),
              "structured (record) dtypes are not supported");
}

TEST(Npy, MalformedFilesAreOneLineErrors) {
  Bytes good = npy(dict("<f8", "(2,)"), Bytes(16));
  ASSERT_EQ(errorOf(good), "");
  expectError(literal("not numpy at all"), "not a valid .npy file");
  Bytes v4 = good;
  v4[6] = 4;
  expectError(v4, "unsupported format version 4.0");
  Bytes minor = good;
  minor[7] = 1;
  expectError(minor, "unsupported format version 1.1");
  expectError(Bytes(good.begin(), good.begin() + 40), "truncated header");
  Bytes longHeader = good;
  longHeader[9] = 0xff; // 65 KB of header in a 100-byte file
  expectError(longHeader, "truncated header");
  expectError(npy("{'descr': '<f8', 'shape': (2,), }", Bytes(16)),
              "lacks 'fortran_order'");
  expectError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "
                  "'extra': 1}",
                  Bytes(16)),
              "unexpected key 'extra'");
  expectError(npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                  "'shape': (2,)}",
                  Bytes(16)),
              "repeats 'descr'");
  expectError(npy(dict("<f8", "(2,)") + " junk", Bytes(16)),
              "unexpected text after the header");
  expectError(npy(dict("<f8", "(-2,)"), Bytes(16)), "negative dimension");
  expectError(npy(dict("<f8", "(2.5,)"), Bytes(16)), "not a tuple of integers");
  expectError(npy(dict("<f8", "[2]"), Bytes(16)), "not a tuple of integers");
  expectError(npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
                  Bytes(16)),
              "neither True nor False");
  expectError(npy(dict("<f8", "(2,)"), Bytes(15)),
              "needs 16 bytes but the file holds 15 bytes of data");
  expectError(npy(dict("<f8", "(2,)"), Bytes(17)),
              "needs 16 bytes but the file holds 17 bytes of data");
}

TEST(Npy, HugeShapesAreErrorsNotAllocations) {
  // 2^40 float64s: 8 TiB claimed by a file of a few bytes.
  expectError(npy(dict("<f8", "(1099511627776,)"), Bytes(8)),
              "needs 8796093022208 bytes but the file holds 8 bytes");
  // 2^40 x 2^40 elements: the count itself overflows.
  expectError(npy(dict("<f8", "(1099511627776, 1099511627776)"), Bytes(8)),
              "has more elements than 2^64");
  // 2^61 elements of 8 bytes: the byte count overflows.
  expectError(npy(dict("<f8", "(2305843009213693952,)"), Bytes(8)),
              "needs more than 2^64 bytes");
  expectError(npy(dict("<f8", "(99999999999999999999,)"), Bytes(8)),
              "does not fit 64 bits");
}

TEST(Npy, ReadsFilesAndNamesThem) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() /
                 ("cerium-npy-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "x.npy").string();
  NpyArray a{{2, 2}, {1, -2, 3.5, 1e-300}};
  writeNpy(path, a);
  NpyArray b = readNpy(path);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.values, a.values);
  auto error = [](const std::string &p) {
    try {
      readNpy(p);
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string missing = (dir / "none.npy").string();
  EXPECT_EQ(error(missing).rfind(missing + ": cannot open", 0), 0u);
  EXPECT_EQ(error(dir.string()).rfind(dir.string() + ": cannot read", 0), 0u);
  std::ofstream(path, std::ios::binary) << "\x93NUMPY";
  EXPECT_EQ(error(path), path + ": not a valid .npy file: missing the NUMPY "
                                "magic");
  fs::remove_all(dir);
}

} // namespace
