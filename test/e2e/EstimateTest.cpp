//===- EstimateTest.cpp - cerium-cc --estimate: sane and monotone --------===//
//
// Whether the model is close to measured times is a benchmark
// (benchmarks/estimate_accuracy.py): too noisy for CI. Here: every target
// gives positive figures, more work costs more time, more devices less
// time and memory per device, and the CPU calibration is cached.
//
//===----------------------------------------------------------------------===//

#include "cerium/Compiler/Estimate.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Support/Error.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

using namespace cerium;

namespace {

class EstimateTest : public ::testing::Test {
protected:
  void SetUp() override {
    cache = std::filesystem::temp_directory_path() /
            ("cerium-estimate-" + std::to_string(::getpid()));
    ::setenv("CERIUM_CACHE_DIR", cache.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CERIUM_CACHE_DIR");
    std::filesystem::remove_all(cache);
  }
  Estimate estimateOf(const std::string &text, const std::string &target) {
    CompileOptions options;
    options.insecure = true;
    auto source = std::make_shared<dsl::SourceFile>("estimate.fhe", text);
    Compilation c = compile(source, context, options);
    return estimate(c.main(), c.params, parseEstimateTarget(target));
  }
  mlir::MLIRContext context;
  std::filesystem::path cache;
};

const char *kSquare = "fn main(x: cipher[64]) -> cipher[64] { return x * x; }";
const char *kDeeper = "fn main(x: cipher[64]) -> cipher[64] {\n"
                      "  let y = x * x;\n  let z = y * y + roll(y, 3);\n"
                      "  return z * z + roll(z, 5);\n}";

TEST_F(EstimateTest, PositiveAndMonotoneOnEveryTarget) {
  for (const char *target : {"cpu", "A100", "H100", "H200", "B200x2"}) {
    SCOPED_TRACE(target);
    Estimate small = estimateOf(kSquare, target);
    Estimate large = estimateOf(kDeeper, target);
    EXPECT_GT(small.seconds, 0);
    EXPECT_GT(small.bytesMoved, 0);
    EXPECT_GT(small.peakBytesPerDevice(), 0);
    EXPECT_GT(large.seconds, small.seconds);
    EXPECT_GT(large.bytesMoved, small.bytesMoved);
    double sum = 0;
    for (const auto &[kind, k] : large.byKind) {
      EXPECT_GT(k.calls, 0) << kind;
      EXPECT_GE(k.seconds, 0) << kind;
      sum += k.seconds;
    }
    EXPECT_NEAR(sum, large.seconds, 1e-9 * large.seconds);
    EXPECT_FALSE(estimateReport(large).empty());
  }
  // The calibration is cached for the next estimate.
  EXPECT_TRUE(std::filesystem::exists(cache / "estimate-cpu.json"));
}

TEST_F(EstimateTest, MoreDevicesLessTimeAndMemoryEach) {
  Estimate one = estimateOf(kDeeper, "H100");
  Estimate four = estimateOf(kDeeper, "h100x4");
  EXPECT_LT(four.seconds, one.seconds);
  EXPECT_LT(four.peakBytesPerDevice(), one.peakBytesPerDevice());
  EXPECT_EQ(one.linkBytes, 0);
  EXPECT_GT(four.linkBytes, 0); // base conversions gather their inputs
  // A faster memory is not slower.
  EXPECT_LE(estimateOf(kDeeper, "H200").seconds, one.seconds);
}

TEST_F(EstimateTest, UnknownTargetsAreOneLine) {
  for (const char *bad : {"V100", "H100x0", "H100x", "x8", "H100x99999"}) {
    try {
      parseEstimateTarget(bad);
      ADD_FAILURE() << bad;
    } catch (const Error &e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::string("--estimate ") + bad), std::string::npos)
          << msg;
    }
  }
}

} // namespace
