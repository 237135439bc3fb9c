// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// A degree-15 power-basis polynomial in ceil(log2 16) = 4 levels
// (approx::planSeries): 8 ciphertext products instead of 14, and
// coefficients as mul_const (no plaintexts).

// CHECK: module attributes {ckks.levels = 4 : i64
// CHECK-COUNT-8: ckks.mul %
// CHECK-NOT: ckks.mul %
// CHECK-NOT: ckks.mul_plain
// CHECK: return {{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @main(%x: !fhe.cipher<[16]>) -> !fhe.cipher<[16]> {
  %y = fhe.poly %x {coefficients = array<f64: 0.5, -1.0, 0.25, 0.125, -0.5, 0.0625, 0.0, 0.3, -0.2, 0.1, 0.05, -0.04, 0.03, 0.0, -0.01, 0.02>, basis = "power", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[16]> -> !fhe.cipher<[16]>
  return %y : !fhe.cipher<[16]>
}
