// RUN: cerium-opt %s -canonicalize | FileCheck %s
// Folders: identity rotations and level_downs disappear.

// CHECK-LABEL: func @identities
// CHECK-SAME: (%[[A:.*]]: !ckks.ct
func.func @identities(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
  // CHECK-NOT: ckks.rotate
  // CHECK-NOT: ckks.level_down
  // CHECK: return %[[A]]
  %0 = ckks.rotate %a by 0 : !ckks.ct<level = 2, degree = 1>
  %1 = ckks.level_down %0 to 2 : !ckks.ct<level = 2, degree = 1>
  return %1 : !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @kept
func.func @kept(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // CHECK: ckks.rotate %{{.*}} by 3
  // CHECK: ckks.level_down %{{.*}} to 1
  %0 = ckks.rotate %a by 3 : !ckks.ct<level = 2, degree = 1>
  %1 = ckks.level_down %0 to 1 : !ckks.ct<level = 2, degree = 1>
  return %1 : !ckks.ct<level = 1, degree = 1>
}
