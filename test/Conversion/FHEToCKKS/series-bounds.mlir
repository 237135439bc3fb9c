// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// A Chebyshev series records the largest magnitude over [-1, 1] of each part
// it builds (sampled at 4098 points, 1% up) where past 1, so that a
// bootstrap placed inside it covers what it refreshes: here the parts of
// 0.5 (T_1 + ... + T_15) reach 4, 6, 7 and, the whole, 7.5 (at t = 1).
// Basis elements (|T_k| <= 1) carry none.

// CHECK-LABEL: func.func @main
// CHECK: ckks.rescale %{{.*}} {ckks.bound = 4.040000e+00 : f64}
// CHECK: ckks.add_plain %{{.*}} {ckks.bound = 6.06{{[0-9]*}} : f64}
// CHECK: ckks.add_plain %{{.*}} {ckks.bound = 7.070000e+00 : f64}
// CHECK: ckks.add_plain %{{.*}} {ckks.bound = 7.575000e+00 : f64}
// CHECK: %[[LAST:.*]] = ckks.rescale %{{.*}} {ckks.bound = 7.575000e+00 : f64}
// CHECK: return %[[LAST]]
func.func @main(%x: !fhe.cipher<[16]>) -> !fhe.cipher<[16]> {
  %y = fhe.poly %x {coefficients = array<f64: 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5>, basis = "chebyshev", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[16]> -> !fhe.cipher<[16]>
  return %y : !fhe.cipher<[16]>
}

// -----

// A power series has no such bound (t is the operand, not [-1, 1]).
// CHECK-LABEL: func.func @main
// CHECK-NOT: ckks.bound
// CHECK: return
func.func @main(%x: !fhe.cipher<[16]>) -> !fhe.cipher<[16]> {
  %y = fhe.poly %x {coefficients = array<f64: 0.0, 2.0, 3.0, 4.0>, basis = "power", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[16]> -> !fhe.cipher<[16]>
  return %y : !fhe.cipher<[16]>
}
