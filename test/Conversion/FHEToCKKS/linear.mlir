// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// A linear layer [3, 4] on a cipher [4]: 4 slots, so D = 4 is the slot
// count and rotations wrap by themselves (no doubled copy). Diagonals 0..3,
// baby steps {0, 1} (g = 2) and giant steps {0, 2}: two rotations. Products
// are summed at degree 2 and rescaled once; the bias is added after.

// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 4 : i64}
// CHECK: %[[B1:.*]] = ckks.rotate %[[X:.*]] by 1
// Diagonal 0: W[j][j] for j < 3.
// CHECK: ckks.encode f32 [1.000000e+00, 6.000000e+00, 1.100000e+01] :
// CHECK: ckks.mul_plain %[[X]]
// Diagonal 1: W[j][(j + 1) mod 4].
// CHECK: ckks.encode f32 [2.000000e+00, 7.000000e+00, 1.200000e+01] :
// CHECK: ckks.mul_plain %[[B1]]
// Diagonals 2 and 3, pre-rotated by the giant step 2 (cyclically).
// CHECK: ckks.encode f32 [9.000000e+00, 0.000000e+00, 3.000000e+00, 8.000000e+00] :
// CHECK: ckks.encode f32 [1.000000e+01, 0.000000e+00, 4.000000e+00, 5.000000e+00] :
// CHECK: ckks.rotate %{{.*}} by 2 : <level = 1, degree = 2>
// CHECK: %[[S:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
// CHECK: ckks.add_plain %[[S]]
func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[3]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0] : tensor<3x4xf64>
  %b = fhe.constant [0.5, -0.5, 1.0] : tensor<3xf64>
  %y = fhe.linear %x, %w, %b : !fhe.cipher<[4]>, tensor<3x4xf64>, tensor<3xf64> -> !fhe.cipher<[3]>
  return %y : !fhe.cipher<[3]>
}

// -----

// A batch of 3 rows [3, 2] -> [3, 4]: the input's rows are padded to the
// row stride 4 (its layout [3, 4], which the client encodes by), so input
// and output rows share the stride and the map has the five diagonals
// j - i = -3..1 only. The output [3, 4] is then compact.
// CHECK-LABEL: module attributes {ckks.levels = 1 : i64, ckks.slots = 16 : i64}
// CHECK: func.func @main(%{{.*}}: !ckks.ct<level = 1, degree = 1> {fhe.layout = array<i64: 3, 4>, fhe.shape = array<i64: 3, 2>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 3, 4>})
// CHECK-COUNT-5: ckks.mul_plain
// CHECK-NOT: ckks.mul_plain
// CHECK: ckks.rescale
func.func @main(%x: !fhe.cipher<[3, 2]>) -> !fhe.cipher<[3, 4]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0] : tensor<4x2xf64>
  %y = fhe.linear %x, %w : !fhe.cipher<[3, 2]>, tensor<4x2xf64> -> !fhe.cipher<[3, 4]>
  return %y : !fhe.cipher<[3, 4]>
}
