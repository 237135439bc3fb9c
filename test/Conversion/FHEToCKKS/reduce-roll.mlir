// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// A 2-D roll in a zero-padded layout (two masked rotations) and a mean by
// rotate-and-add over all 16 slots.

// CHECK: module attributes {ckks.levels = 2 : i64, ckks.slots = 16 : i64}
func.func @main(%x: !fhe.cipher<[3, 4]>) -> !fhe.cipher<[1]> {
  // Along axis 1 by 1: out[i] = x[i - 1] where the column is >= 1, else x[i + 3].
  // CHECK: %[[A:.*]] = ckks.rotate %{{.*}} by 15
  // CHECK: %[[KEEP:.*]] = ckks.encode f32 [0.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00] count 12 :
  // CHECK: ckks.mul_plain %[[A]], %[[KEEP]]
  // CHECK: %[[B:.*]] = ckks.rotate %{{.*}} by 3
  // CHECK: %[[WRAP:.*]] = ckks.encode f32 [1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00] count 12 :
  // CHECK: ckks.mul_plain %[[B]], %[[WRAP]]
  %r = fhe.roll %x {shift = 1, axis = 1} : !fhe.cipher<[3, 4]> -> !fhe.cipher<[3, 4]>
  // CHECK-COUNT-4: ckks.rotate %{{.*}} by {{1|2|4|8}} :
  // The mean keeps slot 0 only, scaled by 1/12.
  // CHECK: ckks.encode [8.33{{[0-9]*}}e-02] : <level = 1, degree = 1>
  %m = fhe.mean %r : !fhe.cipher<[3, 4]> -> !fhe.cipher<[1]>
  return %m : !fhe.cipher<[1]>
}
