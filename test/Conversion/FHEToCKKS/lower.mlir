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
  // A plaintext constant is folded and encoded at the ciphertext's level.
  // CHECK: ckks.encode [2.000000e+00, 2.000000e+00, {{.*}}] : <level = 1, degree = 1>
  // CHECK: ckks.mul_plain
  // CHECK: ckks.rescale {{.*}} : <level = 1, degree = 2>
  %c = fhe.constant [2.0] : tensor<1xf64>
  %t = fhe.mul %s, %c : (!fhe.cipher<[8]>, tensor<1xf64>) -> !fhe.cipher<[8]>
  // CHECK: return {{.*}} : !ckks.ct<level = 0, degree = 1>
  return %t : !fhe.cipher<[8]>
}
