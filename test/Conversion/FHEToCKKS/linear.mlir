// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// A linear layer [3, 4] on a cipher [4]: D = 4, baby steps 1 (g = 2) and a
// giant step by 2; a doubled copy of x (rotation by -4) lets rotations wrap
// within D; products are summed at degree 2 and rescaled once; the bias is
// added after.

// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 8 : i64}
// CHECK: %[[R:.*]] = ckks.rotate %[[X:.*]] by 4
// CHECK: %[[X2:.*]] = ckks.add %[[X]], %[[R]]
// CHECK: %[[B1:.*]] = ckks.rotate %[[X2]] by 1
// Diagonal 0: W[j][j] for j < 3.
// CHECK: ckks.encode f32 [1.000000e+00, 6.000000e+00, 1.100000e+01] :
// CHECK: ckks.mul_plain %[[X2]]
// Diagonal 1: W[j][(j + 1) mod 4].
// CHECK: ckks.encode f32 [2.000000e+00, 7.000000e+00, 1.200000e+01] :
// CHECK: ckks.mul_plain %[[B1]]
// Diagonals 2 and 3, pre-rotated by the giant step 2.
// CHECK: ckks.encode f32 [3.000000e+00, 8.000000e+00, 9.000000e+00] offset 2 :
// CHECK: ckks.encode f32 [4.000000e+00, 5.000000e+00, 1.000000e+01] offset 2 :
// CHECK: ckks.rotate %{{.*}} by 2 : <level = 1, degree = 2>
// CHECK: %[[S:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
// CHECK: ckks.add_plain %[[S]]
func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[3]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0] : tensor<3x4xf64>
  %b = fhe.constant [0.5, -0.5, 1.0] : tensor<3xf64>
  %y = fhe.linear %x, %w, %b : !fhe.cipher<[4]>, tensor<3x4xf64>, tensor<3xf64> -> !fhe.cipher<[3]>
  return %y : !fhe.cipher<[3]>
}
