// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap | FileCheck %s --implicit-check-not="= ckks.bootstrap"
// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap --ckks-to-poly | FileCheck %s --check-prefix=POLY
//
// Meta-bootstrapping: a bootstrap with iterations = 2 refreshes its input,
// subtracts the result from the input at level 0, multiplies that error by
// 2^k exactly and refreshes it too, with 2^-k in the second SlotToCoeff,
// and adds the two. Layout: N = 32, base q_0 ~ 2^60 (two primes), levels of
// two primes at scale 2^52 (q_0 / Delta_0 = 2^8, as the compiler chooses),
// levels 0..9. Config as in expand-bootstrap.mlir (depth 7, 4 slots): one
// bootstrap's error bound is ~2^-26.7 here (the arcsine correction's at a
// coefficient of Delta_0), so k = 26 - 2 = 24.

module attributes {ckks.rns = {log_n = 5, base = 2, per_level = 2, special = 1, digit = 2, moduli = array<i64: 1073741441, 1073740609, 67108289, 67108033, 67107713, 67107457, 67106561, 67106113, 67105729, 67104833, 67104769, 67104449, 67103297, 67102913, 67102657, 67101569, 67100801, 67100353, 67099457, 67098433, 1073739649>, scales = array<f64: 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @twice
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1>
func.func @twice(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // The first iteration, as with one: from level 0 to level 1.
  // CHECK: %[[X:.*]] = ckks.level_down %[[A]] to 0 : <level = 3, degree = 1>
  // CHECK-NEXT: ckks.mod_raise %[[X]] : <level = 0, degree = 1> -> <level = 8, degree = 1>
  // Its SlotToCoeff constant: q_0 / (2 pi Delta_0) = 40.74 in one factor.
  // CHECK: ckks.encode complex [4.074361e+01, {{.*}}] : <level = 2, degree = 1>
  // CHECK: %[[Y:.*]] = ckks.rescale %{{.*}} : <level = 2, degree = 2>
  // The error at level 0, where the input is: both at scale Delta_0, so
  // the subtraction is exact; times 2^24 without a rescale.
  // CHECK-NEXT: %[[Y0:.*]] = ckks.level_down %[[Y]] to 0 : <level = 1, degree = 1>
  // CHECK-NEXT: %[[D:.*]] = ckks.sub %[[X]], %[[Y0]] : <level = 0, degree = 1>, <level = 0, degree = 1>
  // CHECK-NEXT: %[[K:.*]] = ckks.mul_int %[[D]] by 16777216 : <level = 0, degree = 1>
  // The second iteration: the same raise, to the same target level.
  // CHECK-NEXT: ckks.mod_raise %[[K]] : <level = 0, degree = 1> -> <level = 8, degree = 1>
  // CHECK: ckks.conjugate %{{.*}} : <level = 8, degree = 2>
  // CHECK: ckks.mul %{{.*}}, %{{.*}} : <level = 7, degree = 1>, <level = 7, degree = 1>
  // Its SlotToCoeff constant carries 2^-24: 40.74 / 2^24.
  // CHECK: ckks.encode complex [2.428508e-06, {{.*}}] : <level = 2, degree = 1>
  // CHECK: %[[C:.*]] = ckks.rescale %{{.*}} : <level = 2, degree = 2>
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[Y]], %[[C]] : <level = 1, degree = 1>, <level = 1, degree = 1>
  // CHECK-NEXT: return %[[S]] : !ckks.ct<level = 1, degree = 1>
  %0 = ckks.bootstrap %a {iterations = 2} : !ckks.ct<level = 3, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  return %0 : !ckks.ct<level = 1, degree = 1>
}

// iterations = 1 is one bootstrap: a single raise, no mul_int.
// CHECK-LABEL: func @once
// CHECK-COUNT-1: ckks.mod_raise
// CHECK-NOT: ckks.mod_raise
// CHECK-NOT: ckks.mul_int
// CHECK: return
func.func @once(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %0 = ckks.bootstrap %a {iterations = 1} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}

// The integer product lowers to poly.mul_int on both components, before
// the second ModRaise.
// POLY-LABEL: func @twice
// POLY: %[[K0:.*]] = poly.mul_int %{{.*}} by 16777216 : <Q0, ntt>
// POLY-NEXT: %[[K1:.*]] = poly.mul_int %{{.*}} by 16777216 : <Q0, ntt>
// POLY-NEXT: poly.mod_raise %[[K0]] : <Q0, ntt> -> <Q8, ntt>
// POLY-NEXT: poly.mod_raise %[[K1]] : <Q0, ntt> -> <Q8, ntt>
// POLY: return %{{.*}}, %{{.*}} : !poly.poly<Q1, ntt>, !poly.poly<Q1, ntt>

// -----

// With target level 0 the first result is at level 0 already: no
// level_down before the subtraction, and the second iteration also ends
// at level 0.
module attributes {ckks.rns = {log_n = 5, base = 2, per_level = 2, special = 1, digit = 2, moduli = array<i64: 1073741441, 1073740609, 67108289, 67108033, 67107713, 67107457, 67106561, 67106113, 67105729, 67104833, 67104769, 67104449, 67103297, 67102913, 67102657, 67101569, 67100801, 67100353, 67099457, 67098433, 1073739649>, scales = array<f64: 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @at_zero
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 0, degree = 1>)
func.func @at_zero(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // CHECK: ckks.mod_raise %[[A]] : <level = 0, degree = 1> -> <level = 7, degree = 1>
  // CHECK: %[[Y:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
  // CHECK-NEXT: %[[D:.*]] = ckks.sub %[[A]], %[[Y]] : <level = 0, degree = 1>, <level = 0, degree = 1>
  // CHECK-NEXT: %[[K:.*]] = ckks.mul_int %[[D]] by 16777216 : <level = 0, degree = 1>
  // CHECK-NEXT: ckks.mod_raise %[[K]] : <level = 0, degree = 1> -> <level = 7, degree = 1>
  // CHECK: %[[C:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[Y]], %[[C]] : <level = 0, degree = 1>, <level = 0, degree = 1>
  // CHECK-NEXT: return %[[S]]
  %0 = ckks.bootstrap %a {iterations = 2} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}
