// RUN: cerium-opt %s --fhe-assign-precision=precision=0.01 | FileCheck %s
// An approximation that already carries fhe.precision (the source's
// `precision = e` on the call) keeps it and takes no share: the tanh after
// it is the only one left to reach the output, 0.01 / (2 * 1) = 5e-3.

// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = {{[^,]*}}, fhe.precision = 1.0{{0*}}e-01 : f64, function = "relu"
// CHECK: fhe.nonlinear %{{.*}} {fhe.bound = {{[^,]*}}, fhe.precision = 5.0{{0*}}e-03 : f64, function = "tanh"
func.func @main(%x: !fhe.cipher<[2]>) -> !fhe.cipher<[2]> {
  %r = fhe.nonlinear %x {fhe.precision = 0.1 : f64, function = "relu", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  %t = fhe.nonlinear %r {function = "tanh", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[2]> -> !fhe.cipher<[2]>
  return %t : !fhe.cipher<[2]>
}
