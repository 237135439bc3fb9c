//===- BootstrapConfigTest.cpp - The base a bootstrap's values need -------===//

#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace cerium::ckks;

namespace {

BootstrapConfig configFor(double precision, double bound) {
  BootstrapConfig c = BootstrapConfig::forHammingWeight(32, true);
  c.forPrecision(precision);
  c.valueBound = bound;
  c.widenBaseFor(precision);
  c.setNominalBound(precision);
  return c;
}

// The base widens by the fewest bits that keep EvalMod within an eighth of
// the precision for slots up to the bound, never past ceil(log2 bound)
// (m / q_0 <= 2^-8 there, as for [-1, 1]); the sine's series is no model
// past m / q_0 = 1/16, where a large bound would otherwise pass by the
// sine's wrapping.
TEST(BootstrapConfig, BaseWidensAsFarAsThePrecisionNeeds) {
  EXPECT_EQ(configFor(1e-3, 1).widerBase, 0u);
  // With the arcsine correction (1e-3): 1,400 needs 10 of its 11 bits,
  // 1,750 all 11.
  BootstrapConfig wide = configFor(1e-3, 1400);
  ASSERT_TRUE(wide.arcsine);
  EXPECT_EQ(wide.widerBase, 10u);
  EXPECT_TRUE(wide.servesAt(1400, 10, 1e-3));
  EXPECT_FALSE(wide.servesAt(1400, 9, 1e-3));
  EXPECT_FALSE(wide.servesAt(1400, 0, 1e-3)); // m / q_0 ~ 5.5: wrapped
  EXPECT_EQ(wide.outerFactor(), int64_t(1) << 10);
  EXPECT_EQ(configFor(1e-3, 1750).widerBase, 11u);
  // Without it (5e-2, ResNet-20's): 16 needs all 4 bits, 2 none.
  BootstrapConfig relu = configFor(5e-2, 16);
  ASSERT_FALSE(relu.arcsine);
  EXPECT_EQ(relu.widerBase, 4u);
  EXPECT_EQ(configFor(5e-2, 2).widerBase, 0u);
  // A precision no base reaches takes every bit.
  EXPECT_EQ(configFor(1e-12, 100).widerBase, 7u);
}

// nominalBound: the largest bound the nominal base serves, which placement
// keeps its refreshes within.
TEST(BootstrapConfig, NominalBoundIsWhatTheNominalBaseServes) {
  for (double precision : {1e-1, 5e-2, 1e-2, 1e-3, 1e-6, 1e-12}) {
    BootstrapConfig c = configFor(precision, 1);
    EXPECT_GE(c.nominalBound, 1.0) << precision;
    EXPECT_LE(c.nominalBound, 16.0) << precision;
    if (c.nominalBound > 1) {
      EXPECT_TRUE(c.servesAt(c.nominalBound, 0, precision)) << precision;
    }
    if (c.nominalBound < 16) {
      EXPECT_FALSE(c.servesAt(c.nominalBound * 1.01, 0, precision))
          << precision;
    }
  }
  // ResNet-20's: a ReLU's u (1 + p(u)), within 2, needs no wider base.
  EXPECT_GT(configFor(5e-2, 1).nominalBound, 2.0);
}

// SlotToCoeff first: the input is taken at SlotToCoeff's levels, which
// the depth above the result leaves out; the flag travels with the config.
TEST(BootstrapConfig, SlotToCoeffFirstTakesItsInputAtItsLevels) {
  BootstrapConfig c = BootstrapConfig::forHammingWeight(32, true);
  EXPECT_EQ(c.inputLevel(), 0u);
  EXPECT_EQ(c.raisedDepth(), c.depth());
  c.slotsToCoeffsFirst = true;
  EXPECT_EQ(c.inputLevel(), c.slotsToCoeffsLevels);
  EXPECT_EQ(c.raisedDepth(), c.depth() - c.slotsToCoeffsLevels);

  mlir::MLIRContext context;
  mlir::OpBuilder b(&context);
  auto module = mlir::ModuleOp::create(b.getUnknownLoc());
  for (bool first : {true, false}) {
    c.slotsToCoeffsFirst = first;
    module->setAttr(BootstrapConfig::kAttrName, c.toAttr(&context));
    std::optional<BootstrapConfig> read = BootstrapConfig::of(module);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->slotsToCoeffsFirst, first);
    EXPECT_EQ(read->inputLevel(), c.inputLevel());
  }
  module->erase();
}

} // namespace
