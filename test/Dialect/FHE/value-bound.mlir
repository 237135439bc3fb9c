// RUN: cerium-opt %s --split-input-file --fhe-assign-precision | FileCheck %s
// fhe.bound on each op with a cipher result the range analysis bounds: its
// largest magnitude (a bootstrap of that value must cover it).

// x in [-4, 4]; h = 3 x would reach 12, but relu declares its operand within
// [-10, 10]; r + x then reaches 14 (16 without the declaration).
// CHECK-LABEL: func.func @main
// CHECK: fhe.mul %{{.*}} {fhe.bound = 1.000000e+01 : f64}
// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = 1.000000e+01 : f64,
// CHECK: fhe.add %{{.*}} {fhe.bound = 1.400000e+01 : f64}
func.func @main(%x: !fhe.cipher<[2]> {fhe.range = array<f64: -4.0, 4.0>}) -> !fhe.cipher<[2]> {
  %three = fhe.constant [3.0] : tensor<1xf64>
  %h = fhe.mul %x, %three : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  %r = fhe.nonlinear %h {function = "relu", range = array<f64: -10.0, 10.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  %y = fhe.add %r, %x : (!fhe.cipher<[2]>, !fhe.cipher<[2]>) -> !fhe.cipher<[2]>
  return %y : !fhe.cipher<[2]>
}

// -----

// z declares no range: as an input it counts as [-1, 1], so 2 z is
// bounded by 2 (a sum of such inputs by their count).
// CHECK-LABEL: func.func @main
// CHECK: fhe.mul %{{.*}} {fhe.bound = 2.000000e+00 : f64}
func.func @main(%z: !fhe.cipher<[2]>) -> !fhe.cipher<[2]> {
  %two = fhe.constant [2.0] : tensor<1xf64>
  %y = fhe.mul %z, %two : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  return %y : !fhe.cipher<[2]>
}

// -----

// Nothing bounds a quotient by values around 0: no attribute (its values
// are taken to lie in [-1, 1]).
// CHECK-LABEL: func.func @main
// CHECK: fhe.div
// CHECK-NOT: fhe.bound
func.func @main(%z: !fhe.cipher<[2]>) -> !fhe.cipher<[2]> {
  %d = fhe.constant [-1.0, 1.0] : tensor<2xf64>
  %y = fhe.div %z, %d : (!fhe.cipher<[2]>, tensor<2xf64>) -> !fhe.cipher<[2]>
  return %y : !fhe.cipher<[2]>
}

// -----

// An `assume` of a computed value (fhe.assumed) narrows it: 3 x would reach
// 3. A square is not negative: h h - 0.5 lies in [-0.5, 0.5] (as a product
// of two values in [-1, 1], [-1.5, 0.5]).
// CHECK-LABEL: func.func @main
// CHECK: fhe.mul %{{.*}} {fhe.assumed = array<f64: -1.000000e+00, 1.000000e+00>, fhe.bound = 1.000000e+00 : f64}
// CHECK: fhe.mul %{{.*}}, %{{.*}} {fhe.bound = 1.000000e+00 : f64}
// CHECK: fhe.sub %{{.*}} {fhe.bound = 5.000000e-01 : f64}
func.func @main(%x: !fhe.cipher<[2]> {fhe.range = array<f64: -1.0, 1.0>}) -> !fhe.cipher<[2]> {
  %three = fhe.constant [3.0] : tensor<1xf64>
  %half = fhe.constant [0.5] : tensor<1xf64>
  %h = fhe.mul %x, %three {fhe.assumed = array<f64: -1.0, 1.0>} : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  %s = fhe.mul %h, %h : (!fhe.cipher<[2]>, !fhe.cipher<[2]>) -> !fhe.cipher<[2]>
  %t = fhe.sub %s, %half : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  return %t : !fhe.cipher<[2]>
}
