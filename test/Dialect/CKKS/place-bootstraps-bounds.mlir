// RUN: cerium-opt %s --ckks-place-bootstraps=levels=2 | FileCheck %s
// A value made by an exact integer product (a ReLU's closing x 8, whose
// result the range analysis bounds by 16) is refreshed before the product,
// which is redone after the bootstrap: the bootstrap sees the operand, whose
// bound (16 / 8) it carries for the compiler, and the original product,
// every use of it refreshed, goes.

// CHECK-LABEL: func.func @main
// CHECK: %[[HALF:.*]] = ckks.rescale
// CHECK-NOT: ckks.mul_int
// CHECK: %[[FRESH:.*]] = ckks.bootstrap %[[HALF]] {ckks.bound = 2.000000e+00 : f64} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// CHECK-NEXT: %[[EIGHT:.*]] = ckks.mul_int %[[FRESH]] by 8 : <level = 2, degree = 1>
// CHECK-NEXT: ckks.mul %[[EIGHT]], %[[EIGHT]]
// CHECK-NOT: ckks.mul_int
func.func @main(%x: !ckks.ct<level = 4, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 4, degree = 2>
  %2 = ckks.mul_int %1 by 8 {ckks.bound = 1.600000e+01 : f64} : !ckks.ct<level = 3, degree = 1>
  %3 = ckks.mul %2, %2 : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 3, degree = 1>
  %4 = ckks.relinearize %3 : !ckks.ct<level = 3, degree = 2, size = 3>
  %5 = ckks.rescale %4 : !ckks.ct<level = 3, degree = 2>
  %6 = ckks.level_down %2 to 2 : !ckks.ct<level = 3, degree = 1>
  %7 = ckks.mul %5, %6 : !ckks.ct<level = 2, degree = 1>, !ckks.ct<level = 2, degree = 1>
  %8 = ckks.relinearize %7 : !ckks.ct<level = 2, degree = 2, size = 3>
  %9 = ckks.rescale %8 : !ckks.ct<level = 2, degree = 2>
  %10 = ckks.mul %9, %9 : !ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>
  %11 = ckks.relinearize %10 : !ckks.ct<level = 1, degree = 2, size = 3>
  %12 = ckks.rescale %11 : !ckks.ct<level = 1, degree = 2>
  return %12 : !ckks.ct<level = 0, degree = 1>
}
