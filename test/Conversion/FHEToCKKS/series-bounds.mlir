// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// A series records the largest magnitude of each part it builds over its
// variable's interval and 0 (sampled at 4099 points, 1% up) where past 1,
// so that a bootstrap placed inside it covers what it refreshes: here the
// parts of 0.5 (T_1 + ... + T_15) reach 4, 6, 7 and, the whole, 7.5 (at
// t = 1). Chebyshev basis elements (|T_k| <= 1) carry none.

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

// A power series on [-2, 2]: x^2 within 4 and x^4 within 16 (exact, at
// the ends), its parts sampled, the whole within p(2) = 112.
// CHECK-LABEL: func.func @main
// CHECK: ckks.rescale %{{.*}} {ckks.bound = 4.000000e+00 : f64}
// CHECK: ckks.rescale %{{.*}} {ckks.bound = 1.600000e+01 : f64}
// CHECK: %[[ALL:.*]] = ckks.add %{{.*}} {ckks.bound = 1.131200e+02 : f64}
// CHECK: return %[[ALL]]
func.func @main(%x: !fhe.cipher<[16]>) -> !fhe.cipher<[16]> {
  %y = fhe.poly %x {coefficients = array<f64: 0.0, 2.0, 3.0, 4.0, 1.0, 0.5, 0.25, 0.125>, basis = "power", range = array<f64: -2.0, 2.0>} : !fhe.cipher<[16]> -> !fhe.cipher<[16]>
  return %y : !fhe.cipher<[16]>
}
