// RUN: cerium-opt %s --ckks-expand-bootstrap -split-input-file | FileCheck %s --implicit-check-not="= ckks.bootstrap"
//
// SlotToCoeff first (`stc_first`): the bootstrap takes its input at
// SlotToCoeff's level (1 here), makes the slots its coefficients on the way
// down to level 0, raises, and ends with EvalMod, whose arcsine step carries
// the output's scale q_0 / (2 pi Delta_0) = 193 / (2 pi 1024) = 0.029997. Layout
// as in expand-bootstrap-full.mlir: N = 32, 16 slots, one prime per level;
// depth 7, of which 6 lie above the result.

module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113, 2689, 2753>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 16 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2, stc_first}} {
// CHECK-LABEL: func @full
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 2, degree = 1>
func.func @full(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
  // SlotToCoeff at level 1, the input's baby steps hoisted.
  // CHECK: %[[X:.*]] = ckks.level_down %[[A]] to 1 : <level = 3, degree = 1>
  // CHECK-NEXT: ckks.rotate %[[X]] by 1 : <level = 1, degree = 1>
  // CHECK: ckks.mul_plain %[[X]], %{{.*}} : <level = 1, degree = 1>, <level = 1, degree = 1>
  // CHECK: %[[C:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
  // Raised to the result's level 2 plus the 6 levels above it.
  // CHECK-NEXT: %[[R:.*]] = ckks.mod_raise %[[C]] : <level = 0, degree = 1> -> <level = 8, degree = 1>
  // CHECK: ckks.conjugate %{{.*}} : <level = 8, degree = 2>
  // The real part's EvalMod: the arcsine step takes the gain whole,
  // gain s + (s s)(gain c_3 s) (c_3 = 0.2215 here, the span being wide).
  // CHECK: ckks.mul_const %[[S:.*]] by 0.006644
  // CHECK: ckks.mul_const %[[S]] by 0.029996
  // Then the imaginary part's, and re + i im is the result at level 2: no
  // transform after EvalMod.
  // CHECK: ckks.mul_const %[[S2:.*]] by 0.006644
  // CHECK: ckks.mul_const %[[S2]] by 0.029996
  // CHECK: %[[I:.*]] = ckks.encode complex [0.000000e+00, 1.000000e+00] count 16 : <level = 2, degree = 0>
  // CHECK-NEXT: %[[IM:.*]] = ckks.mul_plain %{{.*}}, %[[I]] : <level = 2, degree = 1>, <level = 2, degree = 0>
  // CHECK-NEXT: %[[Z:.*]] = ckks.add %{{.*}}, %[[IM]] : <level = 2, degree = 1>, <level = 2, degree = 1>
  // CHECK-NEXT: return %[[Z]] : !ckks.ct<level = 2, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 3, degree = 1> -> !ckks.ct<level = 2, degree = 1>
  return %0 : !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @twice
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 1, degree = 1>)
func.func @twice(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // Two iterations to level 0: the first refreshes to the input level 1
  // (raised to 7) so that the error d = x - y is taken there; d times 2^k
  // goes through the second, to 0 (raised to 6), and y moves down to 0.
  // CHECK: ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 7, degree = 1>
  // CHECK: %[[D:.*]] = ckks.sub %[[A]], %[[Y:.*]] : <level = 1, degree = 1>, <level = 1, degree = 1>
  // CHECK-NEXT: ckks.mul_int %[[D]] by
  // CHECK: ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 6, degree = 1>
  // CHECK: %[[Y0:.*]] = ckks.level_down %[[Y]] to 0 : <level = 1, degree = 1>
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[Y0]], %{{.*}} : <level = 0, degree = 1>, <level = 0, degree = 1>
  // CHECK-NEXT: return %[[S]]
  %0 = ckks.bootstrap %a {iterations = 2} : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}

// -----

// Without the arcsine step (arcsine = false: a coarse precision), the gain
// is spread over the series and the double angle instead: the series comes
// times gain^(1/2), and the double angle is 2 c^2 - gain.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113, 2689, 2753>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 16 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2, arcsine = false, stc_first}} {
// CHECK-LABEL: func @coarse
func.func @coarse(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // Raised to 0 + 6 - 2 (no arcsine step) = 4.
  // CHECK: ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 4, degree = 1>
  // CHECK-NOT: ckks.mul_const %{{.*}} by 0.029996
  // CHECK: ckks.encode [-2.999698e-02] count 16 : <level = 0, degree = 1>
  // CHECK: ckks.encode [-2.999698e-02] count 16 : <level = 0, degree = 1>
  // CHECK: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}
