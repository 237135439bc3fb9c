// RUN: cerium-opt %s --fhe-assign-precision=precision=0.01 | FileCheck %s
// Each output splits half the precision among the approximations reaching
// it, divided by how much an error at the op's result can move the output.

// relu -> linear with row sums |W| of 3 and 1.5: an error at relu's
// result reaches output 1 times 3, and relu is the only approximation
// reaching it: 0.01 / (2 * 3) = 1.67e-3.
// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = {{[^,]*}}, fhe.precision = 0.001666{{[0-9]*}} : f64, function = "relu"
// tanh and sigmoid reach output 2 (two approximations): tanh with gain 1,
// 0.01 / (2 * 2) = 2.5e-3.
// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = {{[^,]*}}, fhe.precision = 2.5{{0*}}e-03 : f64, function = "tanh"
// The sigmoid's error is scaled by 2 (x * 2) and reaches output 2 only.
// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = {{[^,]*}}, fhe.precision = 1.25{{0*}}e-03 : f64, function = "sigmoid"
func.func @main(%x: !fhe.cipher<[2]>) -> (!fhe.cipher<[2]>, !fhe.cipher<[2]>) {
  %w = fhe.constant [1.0, -2.0, 0.5, 1.0] : tensor<2x2xf64>
  %r = fhe.nonlinear %x {function = "relu", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  %y = fhe.linear %r, %w : !fhe.cipher<[2]>, tensor<2x2xf64> -> !fhe.cipher<[2]>
  %t = fhe.nonlinear %x {function = "tanh", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  %s = fhe.nonlinear %x {function = "sigmoid", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  %two = fhe.constant [2.0] : tensor<1xf64>
  %s2 = fhe.mul %s, %two : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  %z = fhe.add %t, %s2 : (!fhe.cipher<[2]>, !fhe.cipher<[2]>) -> !fhe.cipher<[2]>
  return %y, %z : !fhe.cipher<[2]>, !fhe.cipher<[2]>
}
