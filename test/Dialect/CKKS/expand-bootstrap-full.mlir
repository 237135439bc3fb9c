// RUN: cerium-opt %s --ckks-expand-bootstrap | FileCheck %s --implicit-check-not="= ckks.bootstrap"
//
// Bootstraps over all N/2 = 16 slots: no subring trace. Layout: N = 32,
// one prime per level, levels 0..11. Config depth 7 (see
// expand-bootstrap.mlir), so a bootstrap to level l raises to level l + 7
// (not to the chain's top) and ends its SlotToCoeff at level l.

module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113, 2689, 2753>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 16 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @full
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 2, degree = 1>
func.func @full(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
  // Already at level 0: raised directly.
  // CHECK-NOT: ckks.level_down
  // CHECK: %[[R:.*]] = ckks.mod_raise %[[A]] : <level = 0, degree = 1> -> <level = 9, degree = 1>
  // No trace: nothing at level 9 is summed before CoeffToSlot's products
  // (its sums are of degree-2 terms), and no rotation by N/2 or more.
  // CHECK-NOT: ckks.add {{.*}} : <level = 9, degree = 1>, <level = 9, degree = 1>
  // CHECK-NOT: by 16
  // CHECK: ckks.encode complex [{{.*}}] : <level = 9, degree = 1>
  // CHECK-NOT: ckks.add {{.*}} : <level = 9, degree = 1>, <level = 9, degree = 1>
  // CHECK: ckks.conjugate %{{.*}} : <level = 9, degree = 2>
  // CHECK: ckks.encode complex [0.000000e+00, -1.000000e+00] count 16 : <level = 9, degree = 0>
  // CHECK: ckks.encode complex [0.000000e+00, 1.000000e+00] count 16 : <level = 3, degree = 0>
  // SlotToCoeff ends exactly at the declared level 2.
  // CHECK: %[[S:.*]] = ckks.rescale %{{.*}} : <level = 3, degree = 2>
  // CHECK-NEXT: return %[[S]] : !ckks.ct<level = 2, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 2, degree = 1>
  return %0 : !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @twice
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 1, degree = 1>)
func.func @twice(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
  // Each bootstrap is expanded where it stands; the product between them
  // uses the first one's result.
  // CHECK: %[[Z:.*]] = ckks.level_down %[[A]] to 0 : <level = 1, degree = 1>
  // CHECK-NEXT: ckks.mod_raise %[[Z]] : <level = 0, degree = 1> -> <level = 10, degree = 1>
  // CHECK-NOT: ckks.add {{.*}} : <level = 10, degree = 1>, <level = 10, degree = 1>
  // CHECK: ckks.rescale %{{.*}} : <level = 10, degree = 2>
  // CHECK: %[[B1:.*]] = ckks.rescale %{{.*}} : <level = 4, degree = 2>
  // CHECK-NEXT: %[[M:.*]] = ckks.mul %[[B1]], %[[B1]] : <level = 3, degree = 1>, <level = 3, degree = 1>
  // CHECK-NEXT: %[[L:.*]] = ckks.relinearize %[[M]]
  // CHECK-NEXT: %[[Q:.*]] = ckks.rescale %[[L]] : <level = 3, degree = 2>
  // CHECK-NEXT: %[[Z2:.*]] = ckks.level_down %[[Q]] to 0 : <level = 2, degree = 1>
  // CHECK-NEXT: ckks.mod_raise %[[Z2]] : <level = 0, degree = 1> -> <level = 10, degree = 1>
  // CHECK-NOT: ckks.add {{.*}} : <level = 10, degree = 1>, <level = 10, degree = 1>
  // CHECK: ckks.rescale %{{.*}} : <level = 10, degree = 2>
  // The second one ends exactly at its declared level 3 = 10 - 7.
  // CHECK: %[[B2:.*]] = ckks.rescale %{{.*}} : <level = 4, degree = 2>
  // CHECK-NEXT: return %[[B2]] : !ckks.ct<level = 3, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 3, degree = 1>
  %1 = ckks.mul %0, %0 : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 3, degree = 1>
  %2 = ckks.relinearize %1 : !ckks.ct<level = 3, degree = 2, size = 3>
  %3 = ckks.rescale %2 : !ckks.ct<level = 3, degree = 2>
  %4 = ckks.bootstrap %3 : !ckks.ct<level = 2, degree = 1> -> !ckks.ct<level = 3, degree = 1>
  return %4 : !ckks.ct<level = 3, degree = 1>
}

// CHECK-LABEL: func @no_bootstrap
func.func @no_bootstrap(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
  // Other ops are left alone.
  // CHECK-NEXT: ckks.rotate %{{.*}} by 3 : <level = 2, degree = 1>
  // CHECK-NEXT: return
  %0 = ckks.rotate %a by 3 : !ckks.ct<level = 2, degree = 1>
  return %0 : !ckks.ct<level = 2, degree = 1>
}
}
