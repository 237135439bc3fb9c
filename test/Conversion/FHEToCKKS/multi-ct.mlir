// RUN: cerium-opt %s --fhe-to-ckks="slots=4" -split-input-file | FileCheck %s
// Tensors larger than the slots span several ciphertexts: with 4 slots, x
// [6] is two (positions 0-3 and 4-5), and so is y [5] (0-3 and 4). Each
// becomes consecutive arguments or results of main, numbered by fhe.part.
// The linear map is one slot-level map per (output, input) ciphertext pair
// (each rescaled once), summed per output ciphertext; the baby steps of an
// input ciphertext are shared between the output ciphertexts.

// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 4 : i64}
// CHECK: func.func @main(%[[X0:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 6>}, %[[X1:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 6>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 5>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 5>})
// Output part 0 from input part 0: W[0:4][0:4] (diagonal 0 first).
// CHECK: %[[B:.*]] = ckks.rotate %[[X0]] by 1
// CHECK: ckks.encode f32 [1.000000e+00, 8.000000e+00, 1.500000e+01, 2.200000e+01]
// CHECK: %[[S00:.*]] = ckks.rescale
// Output part 0 from input part 1: W[0:4][4:6].
// CHECK: ckks.rotate %[[X1]] by 1
// CHECK: ckks.encode f32 [5.000000e+00, 1.200000e+01]
// CHECK: %[[S01:.*]] = ckks.rescale
// CHECK: %[[Y0:.*]] = ckks.add %[[S00]], %[[S01]] : <level = 0, degree = 1>
// Output part 1 from input part 0 reuses the baby step %[[B]].
// CHECK-NOT: ckks.rotate %[[X0]]
// CHECK: ckks.encode f32 [2.500000e+01]
// CHECK: ckks.mul_plain %[[B]]
// CHECK: %[[S10:.*]] = ckks.rescale
// CHECK: %[[S11:.*]] = ckks.rescale
// CHECK: %[[Y1:.*]] = ckks.add %[[S10]], %[[S11]] : <level = 0, degree = 1>
// CHECK: return %[[Y0]], %[[Y1]]
func.func @main(%x: !fhe.cipher<[6]>) -> !fhe.cipher<[5]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0] : tensor<5x6xf64>
  %y = fhe.linear %x, %w : !fhe.cipher<[6]>, tensor<5x6xf64> -> !fhe.cipher<[5]>
  return %y : !fhe.cipher<[5]>
}

// -----

// Elementwise ops apply per ciphertext, constants split by part; a sum
// over everything adds the parts first, then rotates and adds in one.
// CHECK-LABEL: module attributes {ckks.levels = 2 : i64, ckks.slots = 4 : i64}
// CHECK: func.func @main(%[[A:.*]]: {{.*}}fhe.part = 0{{.*}}, %[[B:.*]]: {{.*}}fhe.part = 1{{.*}}, %[[C:.*]]: {{.*}}fhe.part = 2{{.*}}) -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 1>})
// CHECK: ckks.encode f32 [1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]
// CHECK: ckks.add_plain %[[A]]
// CHECK: ckks.encode f32 [5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00]
// CHECK: ckks.add_plain %[[B]]
// CHECK: ckks.encode f32 [9.000000e+00, 1.000000e+01]
// CHECK: ckks.add_plain %[[C]]
// CHECK-COUNT-3: ckks.mul
// CHECK: %[[S0:.*]] = ckks.add
// CHECK: %[[S1:.*]] = ckks.add %[[S0]], %{{.*}} :
// CHECK: ckks.rotate %[[S1]] by 1
func.func @main(%x: !fhe.cipher<[10]>) -> !fhe.cipher<[1]> {
  %c = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0] : tensor<10xf64>
  %y = fhe.add %x, %c : (!fhe.cipher<[10]>, tensor<10xf64>) -> !fhe.cipher<[10]>
  %z = fhe.mul %y, %y : (!fhe.cipher<[10]>, !fhe.cipher<[10]>) -> !fhe.cipher<[10]>
  %s = fhe.sum %z : !fhe.cipher<[10]> -> !fhe.cipher<[1]>
  return %s : !fhe.cipher<[1]>
}
