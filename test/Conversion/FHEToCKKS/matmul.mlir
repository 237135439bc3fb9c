// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// numpy.matmul with one plain operand in the forms other than cipher @ plain
// matrix (which goes by rows, linear.mlir): a linear map of the cipher
// operand whose diagonals are the plain values, the result compact.

// A dot product, cipher [4] @ plain [4] -> [1]: out[0] = sum_l x[l] w[l],
// baby steps 0 and 1, a giant step of 2.
// CHECK-LABEL: func.func @main
// CHECK-SAME: fhe.shape = array<i64: 4>
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 1>})
// CHECK: %[[R1:.*]] = ckks.rotate %arg0 by 1
// CHECK: %[[W0:.*]] = ckks.encode f32 [1.000000e+00] :
// CHECK: %[[P0:.*]] = ckks.mul_plain %arg0, %[[W0]]
// CHECK: %[[W1:.*]] = ckks.encode f32 [2.000000e+00] :
// CHECK: %[[P1:.*]] = ckks.mul_plain %[[R1]], %[[W1]]
// CHECK: %[[S0:.*]] = ckks.add %[[P0]], %[[P1]]
// CHECK: ckks.encode f32 [3.000000e+00] offset 2
// CHECK: ckks.encode f32 [4.000000e+00] offset 2
// CHECK: %[[G:.*]] = ckks.add
// CHECK: %[[GR:.*]] = ckks.rotate %[[G]] by 2
// CHECK: %[[SUM:.*]] = ckks.add %[[S0]], %[[GR]]
// CHECK: ckks.rescale %[[SUM]]
func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[1]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<4xf64>
  %z = fhe.matmul %x, %w : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[1]>
  return %z : !fhe.cipher<[1]>
}

// -----

// plain [2] @ cipher [2, 2] -> [2]: out[j] = x[0, j] - x[1, j], the second
// row's diagonal rotated onto the first.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 2>})
// CHECK: %[[A:.*]] = ckks.encode f32 [1.000000e+00] count 2
// CHECK: %[[PA:.*]] = ckks.mul_plain %arg0, %[[A]]
// CHECK: %[[B:.*]] = ckks.encode f32 [-1.000000e+00] offset 2 count 2
// CHECK: %[[PB:.*]] = ckks.mul_plain %arg0, %[[B]]
// CHECK: %[[RB:.*]] = ckks.rotate %[[PB]] by 2
// CHECK: ckks.add %[[PA]], %[[RB]]
func.func @main(%x: !fhe.cipher<[2, 2]>) -> !fhe.cipher<[2]> {
  %u = fhe.constant [1.0, -1.0] : tensor<2xf64>
  %z = fhe.matmul %u, %x : (tensor<2xf64>, !fhe.cipher<[2, 2]>) -> !fhe.cipher<[2]>
  return %z : !fhe.cipher<[2]>
}

// -----

// cipher [2, 4] @ a batch of two plain [4, 3] matrices -> [2, 2, 3].
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 2, 2, 3>})
// CHECK: ckks.mul_plain
func.func @main(%x: !fhe.cipher<[2, 4]>) -> !fhe.cipher<[2, 2, 3]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0] : tensor<2x4x3xf64>
  %z = fhe.matmul %x, %w : (!fhe.cipher<[2, 4]>, tensor<2x4x3xf64>) -> !fhe.cipher<[2, 2, 3]>
  return %z : !fhe.cipher<[2, 2, 3]>
}

// -----

// A batch of plain matrices @ a cipher batch; the result read by a sum,
// which the layout assignment prices from the product's compact layout.
// CHECK-LABEL: func.func @main
// CHECK-SAME: fhe.shape = array<i64: 2, 3, 2>
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 1>})
func.func @main(%x: !fhe.cipher<[2, 3, 2]>) -> !fhe.cipher<[1]> {
  %w = fhe.constant [1.0, 0.0, -1.0, 2.0, 1.0, 0.5, 0.0, 1.0, 1.0, 1.0, -2.0, 0.25] : tensor<2x2x3xf64>
  %z = fhe.matmul %w, %x : (tensor<2x2x3xf64>, !fhe.cipher<[2, 3, 2]>) -> !fhe.cipher<[2, 2, 2]>
  %s = fhe.sum %z : !fhe.cipher<[2, 2, 2]> -> !fhe.cipher<[1]>
  return %s : !fhe.cipher<[1]>
}
