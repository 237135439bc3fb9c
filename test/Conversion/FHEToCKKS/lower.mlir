// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// Elementwise ops, roll, mean and poly lowered with their level management.

// CHECK: module attributes {ckks.levels = 2 : i64, ckks.slots = 8 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 2, degree = 1> {fhe.shape = array<i64: 8>}, %[[Y:.*]]: !ckks.ct<level = 2, degree = 1> {fhe.shape = array<i64: 8>})
func.func @main(%x: !fhe.cipher<[8]>, %y: !fhe.cipher<[8]>) -> !fhe.cipher<[8]> {
  // A product is relinearized and rescaled at once.
  // CHECK: %[[P:.*]] = ckks.mul %[[X]], %[[Y]]
  // CHECK-NEXT: %[[R:.*]] = ckks.relinearize %[[P]]
  // CHECK-NEXT: %[[Q:.*]] = ckks.rescale %[[R]] : <level = 2, degree = 2>
  %p = fhe.mul %x, %y : (!fhe.cipher<[8]>, !fhe.cipher<[8]>) -> !fhe.cipher<[8]>
  // roll of a vector that fills the slots is one rotation (right by 3 = left by 5).
  // CHECK: %[[ROT:.*]] = ckks.rotate %[[X]] by 5
  %r = fhe.roll %x {shift = 3, axis = 0} : !fhe.cipher<[8]> -> !fhe.cipher<[8]>
  // Additions align levels.
  // CHECK: %[[DOWN:.*]] = ckks.level_down %[[ROT]] to 1
  // CHECK: ckks.add %[[Q]], %[[DOWN]] : <level = 1, degree = 1>, <level = 1, degree = 1>
  %s = fhe.add %p, %r : (!fhe.cipher<[8]>, !fhe.cipher<[8]>) -> !fhe.cipher<[8]>
  // A uniform constant needs no plaintext: mul_const.
  // CHECK: ckks.mul_const %{{.*}} by 2.000000e+00 : <level = 1, degree = 1>
  // CHECK: ckks.rescale {{.*}} : <level = 1, degree = 2>
  %c = fhe.constant [2.0] : tensor<1xf64>
  %t = fhe.mul %s, %c : (!fhe.cipher<[8]>, tensor<1xf64>) -> !fhe.cipher<[8]>
  // A varying plaintext is folded and encoded at the ciphertext's level.
  // CHECK: ckks.encode f32 [1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00] : <level = 0, degree = 1>
  // CHECK: ckks.add_plain
  %v = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0] : tensor<8xf64>
  %u = fhe.add %t, %v : (!fhe.cipher<[8]>, tensor<8xf64>) -> !fhe.cipher<[8]>
  // CHECK: return {{.*}} : !ckks.ct<level = 0, degree = 1>
  return %u : !fhe.cipher<[8]>
}
