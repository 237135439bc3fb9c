// RUN: cerium-opt %s --fhe-to-ckks=precision=0.01 | FileCheck %s
// A smooth function is one Chebyshev series on its range, evaluated
// baby-step giant-step; relu is a composite of odd sign polynomials and
// x (1 + sign(x)) / 2; an op's own fhe.precision wins over the program's.
// Each approximation is listed on the module for --emit stats.

// CHECK: fhe.approximations = ["line {{[0-9]+}}: sigmoid on [-4, 4]: Chebyshev degree {{[0-9]+}}, depth {{[0-9]+}}, {{.*}} error <= {{.*}}e-03",
// CHECK-SAME: "line {{[0-9]+}}: relu on [-1, 1]: composite sign degrees {{.*}} error <= {{.*}}e-05 outside |x| < {{.*}}e-04
// CHECK: func.func @main
// The affine map onto [-1, 1], then products of the series.
// CHECK: ckks.mul_const %{{.*}} by 2.500000e-01
// CHECK: ckks.mul
// CHECK: ckks.rescale
// CHECK: return
func.func @main(%x: !fhe.cipher<[8]>) -> (!fhe.cipher<[8]>, !fhe.cipher<[8]>) {
  %s = fhe.nonlinear %x {function = "sigmoid", range = array<f64: -4.0, 4.0>} : !fhe.cipher<[8]> -> !fhe.cipher<[8]>
  %r = fhe.nonlinear %x {function = "relu", range = array<f64: -1.0, 1.0>, fhe.precision = 1.0e-4 : f64} : !fhe.cipher<[8]> -> !fhe.cipher<[8]>
  return %s, %r : !fhe.cipher<[8]>, !fhe.cipher<[8]>
}
