//===- TestSupport.h - Seeds and an independent big-integer reference -----===//
//
// BigInt is deliberately naive (schoolbook, 32-bit words) and shares no code
// with the library: the RNS tests compare the kernels against exact integer
// arithmetic done this way.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_TEST_TESTSUPPORT_H
#define CERIUM_TEST_TESTSUPPORT_H

#include "cerium/Support/Error.h"
#include "cerium/Support/Random.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace cerium::test {

/// Largest |got[i] - want[i]| over want's slots.
inline double maxError(const std::vector<std::complex<double>> &got,
                       const std::vector<std::complex<double>> &want) {
  double e = 0;
  for (size_t i = 0; i < want.size(); ++i)
    e = std::max(e, std::abs(got[i] - want[i]));
  return e;
}

/// A fresh seed per run unless CERIUM_TEST_SEED fixes one; tests put it in a
/// SCOPED_TRACE so a failure prints it.
inline uint64_t testSeed() {
  if (const char *env = std::getenv("CERIUM_TEST_SEED"))
    return std::strtoull(env, nullptr, 0);
  std::random_device rd;
  return (uint64_t(rd()) << 32) | rd();
}

#define CERIUM_SEEDED_PRNG(name)                                               \
  const uint64_t name##Seed = ::cerium::test::testSeed();                      \
  SCOPED_TRACE("seed (rerun with CERIUM_TEST_SEED=" +                          \
               std::to_string(name##Seed) + ")");                              \
  ::cerium::Prng name(name##Seed)

/// A test with its own scratch directory (named by the process and the
/// test, removed afterwards) and the one-line errors of the file readers.
class FileTest : public ::testing::Test {
protected:
  explicit FileTest(const std::string &prefix) : prefix(prefix) {}
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          (prefix + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string path(const char *name) const { return (dir / name).string(); }

  /// Runs `load` and returns its error message ("" if it succeeded).
  template <class F> static std::string errorOf(F load) {
    try {
      load();
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  }

  /// A whole file's bytes (to damage them), and bytes written back.
  static std::vector<uint8_t> readAll(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void writeAll(const std::string &p, const std::vector<uint8_t> &b) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char *>(b.data()),
               std::streamsize(b.size()));
  }

  std::filesystem::path dir;

private:
  std::string prefix;
};

class BigInt {
public:
  BigInt() = default;
  explicit BigInt(uint64_t v) {
    while (v) {
      w.push_back(static_cast<uint32_t>(v));
      v >>= 32;
    }
  }
  bool isZero() const { return w.empty(); }

  BigInt &mulSmall(uint32_t m) {
    uint64_t carry = 0;
    for (auto &x : w) {
      uint64_t t = uint64_t(x) * m + carry;
      x = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry)
      w.push_back(static_cast<uint32_t>(carry));
    trim();
    return *this;
  }
  BigInt &add(const BigInt &o) {
    if (o.w.size() > w.size())
      w.resize(o.w.size(), 0);
    uint64_t carry = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      uint64_t t = uint64_t(w[i]) + (i < o.w.size() ? o.w[i] : 0) + carry;
      w[i] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry)
      w.push_back(static_cast<uint32_t>(carry));
    return *this;
  }
  /// *this -= o; requires *this >= o.
  BigInt &sub(const BigInt &o) {
    int64_t borrow = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      int64_t t = int64_t(w[i]) - (i < o.w.size() ? o.w[i] : 0) - borrow;
      borrow = t < 0;
      w[i] = static_cast<uint32_t>(t + (borrow ? (int64_t(1) << 32) : 0));
    }
    trim();
    return *this;
  }
  int compare(const BigInt &o) const {
    if (w.size() != o.w.size())
      return w.size() < o.w.size() ? -1 : 1;
    for (size_t i = w.size(); i-- > 0;)
      if (w[i] != o.w[i])
        return w[i] < o.w[i] ? -1 : 1;
    return 0;
  }
  uint32_t mod(uint32_t m) const {
    uint64_t r = 0;
    for (size_t i = w.size(); i-- > 0;)
      r = ((r << 32) | w[i]) % m;
    return static_cast<uint32_t>(r);
  }
  /// Floor division by a word; returns the remainder.
  uint32_t divSmall(uint32_t m) {
    uint64_t r = 0;
    for (size_t i = w.size(); i-- > 0;) {
      uint64_t cur = (r << 32) | w[i];
      w[i] = static_cast<uint32_t>(cur / m);
      r = cur % m;
    }
    trim();
    return static_cast<uint32_t>(r);
  }

  static BigInt product(const std::vector<uint32_t> &ms) {
    BigInt r(1);
    for (uint32_t m : ms)
      r.mulSmall(m);
    return r;
  }
  /// Uniform in [0, prod ms) through its mixed-radix digits.
  static BigInt random(const std::vector<uint32_t> &ms, Prng &prng) {
    BigInt r;
    for (size_t i = ms.size(); i-- > 0;) {
      r.mulSmall(ms[i]);
      r.add(BigInt(prng.uniformBelow(ms[i])));
    }
    return r;
  }

private:
  void trim() {
    while (!w.empty() && w.back() == 0)
      w.pop_back();
  }
  std::vector<uint32_t> w;
};

} // namespace cerium::test

#endif // CERIUM_TEST_TESTSUPPORT_H
