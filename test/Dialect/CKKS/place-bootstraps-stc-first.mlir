// RUN: cerium-opt %s --ckks-place-bootstraps=levels=4 | FileCheck %s
// With SlotToCoeff first (`stc_first`, 2 levels), a bootstrap takes its
// input at level 2: the values before it end there, not at 0, while values
// that go to the return still end at 0. The segments that end in a
// bootstrap span at most 4 levels of the program's own ops, the last one
// 4 + 2.

// CHECK: module attributes {ckks.bootstrap = {{.*}}, ckks.levels = 6 : i64}
module attributes {ckks.bootstrap = {coeffs_to_slots = 2, slots_to_coeffs = 2, degree = 3, double_angles = 1, overflow = 2, stc_first}} {
// Eight levels in segments of at most 4: one bootstrap, whose input sits
// at level 2; the code after it needs 4 levels, and the first segment runs
// at levels 6 to 2.
// CHECK-LABEL: func.func @chain(%arg0: !ckks.ct<level = 6, degree = 1>)
// CHECK-COUNT-4: ckks.rescale
// CHECK: ckks.bootstrap %{{.*}} : <level = 2, degree = 1> -> <level = 4, degree = 1>
// CHECK-COUNT-4: ckks.rescale
// CHECK-NOT: ckks.bootstrap
// CHECK: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @chain(%x: !ckks.ct<level = 8, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %m0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 8, degree = 1>
  %r0 = ckks.rescale %m0 : !ckks.ct<level = 8, degree = 2>
  %m1 = ckks.mul_const %r0 by 5.000000e-01 : !ckks.ct<level = 7, degree = 1>
  %r1 = ckks.rescale %m1 : !ckks.ct<level = 7, degree = 2>
  %m2 = ckks.mul_const %r1 by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %r2 = ckks.rescale %m2 : !ckks.ct<level = 6, degree = 2>
  %m3 = ckks.mul_const %r2 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %r3 = ckks.rescale %m3 : !ckks.ct<level = 5, degree = 2>
  %m4 = ckks.mul_const %r3 by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %r4 = ckks.rescale %m4 : !ckks.ct<level = 4, degree = 2>
  %m5 = ckks.mul_const %r4 by 5.000000e-01 : !ckks.ct<level = 3, degree = 1>
  %r5 = ckks.rescale %m5 : !ckks.ct<level = 3, degree = 2>
  %m6 = ckks.mul_const %r5 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %r6 = ckks.rescale %m6 : !ckks.ct<level = 2, degree = 2>
  %m7 = ckks.mul_const %r6 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %r7 = ckks.rescale %m7 : !ckks.ct<level = 1, degree = 2>
  return %r7 : !ckks.ct<level = 0, degree = 1>
}

// Six levels in segments of 4 need no bootstrap: the last segment keeps the
// 2 levels a bootstrap's input would take, and the chain holds 4 + 2.
// CHECK-LABEL: func.func @short(%arg0: !ckks.ct<level = 6, degree = 1>)
// CHECK-NOT: ckks.bootstrap
// CHECK: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @short(%x: !ckks.ct<level = 6, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %m0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %r0 = ckks.rescale %m0 : !ckks.ct<level = 6, degree = 2>
  %m1 = ckks.mul_const %r0 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %r1 = ckks.rescale %m1 : !ckks.ct<level = 5, degree = 2>
  %m2 = ckks.mul_const %r1 by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %r2 = ckks.rescale %m2 : !ckks.ct<level = 4, degree = 2>
  %m3 = ckks.mul_const %r2 by 5.000000e-01 : !ckks.ct<level = 3, degree = 1>
  %r3 = ckks.rescale %m3 : !ckks.ct<level = 3, degree = 2>
  %m4 = ckks.mul_const %r3 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %r4 = ckks.rescale %m4 : !ckks.ct<level = 2, degree = 2>
  %m5 = ckks.mul_const %r4 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %r5 = ckks.rescale %m5 : !ckks.ct<level = 1, degree = 2>
  return %r5 : !ckks.ct<level = 0, degree = 1>
}

// Ten levels in segments of 4: the last segment, which ends at level 0
// rather than at a bootstrap's input, may span 4 + 2, so one cut at 4
// serves (three segments of at most 4 took two bootstraps); its bootstrap
// raises to the 6 levels the rest needs.
// CHECK-LABEL: func.func @long(%arg0: !ckks.ct<level = 6, degree = 1>)
// CHECK-COUNT-4: ckks.rescale
// CHECK: ckks.bootstrap %{{.*}} : <level = 2, degree = 1> -> <level = 6, degree = 1>
// CHECK-COUNT-6: ckks.rescale
// CHECK-NOT: ckks.bootstrap
// CHECK: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @long(%x: !ckks.ct<level = 10, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %m0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 10, degree = 1>
  %r0 = ckks.rescale %m0 : !ckks.ct<level = 10, degree = 2>
  %m1 = ckks.mul_const %r0 by 5.000000e-01 : !ckks.ct<level = 9, degree = 1>
  %r1 = ckks.rescale %m1 : !ckks.ct<level = 9, degree = 2>
  %m2 = ckks.mul_const %r1 by 5.000000e-01 : !ckks.ct<level = 8, degree = 1>
  %r2 = ckks.rescale %m2 : !ckks.ct<level = 8, degree = 2>
  %m3 = ckks.mul_const %r2 by 5.000000e-01 : !ckks.ct<level = 7, degree = 1>
  %r3 = ckks.rescale %m3 : !ckks.ct<level = 7, degree = 2>
  %m4 = ckks.mul_const %r3 by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %r4 = ckks.rescale %m4 : !ckks.ct<level = 6, degree = 2>
  %m5 = ckks.mul_const %r4 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %r5 = ckks.rescale %m5 : !ckks.ct<level = 5, degree = 2>
  %m6 = ckks.mul_const %r5 by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %r6 = ckks.rescale %m6 : !ckks.ct<level = 4, degree = 2>
  %m7 = ckks.mul_const %r6 by 5.000000e-01 : !ckks.ct<level = 3, degree = 1>
  %r7 = ckks.rescale %m7 : !ckks.ct<level = 3, degree = 2>
  %m8 = ckks.mul_const %r7 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %r8 = ckks.rescale %m8 : !ckks.ct<level = 2, degree = 2>
  %m9 = ckks.mul_const %r8 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %r9 = ckks.rescale %m9 : !ckks.ct<level = 1, degree = 2>
  return %r9 : !ckks.ct<level = 0, degree = 1>
}

// A written bootstrap near the end: its input sits at level 2, so the last
// segment spans S + s only up to S before it. Cut at 4 (as for @long) the
// copy at 4 would be refreshed to 9 - 4 + 2 = 7 levels, past the chain's
// S + s = 6 (the module's ckks.levels, checked at the top, is the highest
// over the functions).
// CHECK-LABEL: func.func @written_late(%arg0: !ckks.ct<level = 6, degree = 1>)
// CHECK: ckks.bootstrap %{{.*}} : <level = 2, degree = 1> -> <level = 6, degree = 1>
// CHECK: ckks.bootstrap %{{.*}} : <level = 2, degree = 1> -> <level = 3, degree = 1>
// CHECK: ckks.bootstrap %{{.*}} : <level = 2, degree = 1> -> <level = 1, degree = 1>
// CHECK-NOT: ckks.bootstrap
func.func @written_late(%x: !ckks.ct<level = 10, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %m0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 10, degree = 1>
  %r0 = ckks.rescale %m0 : !ckks.ct<level = 10, degree = 2>
  %m1 = ckks.mul_const %r0 by 5.000000e-01 : !ckks.ct<level = 9, degree = 1>
  %r1 = ckks.rescale %m1 : !ckks.ct<level = 9, degree = 2>
  %m2 = ckks.mul_const %r1 by 5.000000e-01 : !ckks.ct<level = 8, degree = 1>
  %r2 = ckks.rescale %m2 : !ckks.ct<level = 8, degree = 2>
  %m3 = ckks.mul_const %r2 by 5.000000e-01 : !ckks.ct<level = 7, degree = 1>
  %r3 = ckks.rescale %m3 : !ckks.ct<level = 7, degree = 2>
  %m4 = ckks.mul_const %r3 by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %r4 = ckks.rescale %m4 : !ckks.ct<level = 6, degree = 2>
  %m5 = ckks.mul_const %r4 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %r5 = ckks.rescale %m5 : !ckks.ct<level = 5, degree = 2>
  %m6 = ckks.mul_const %r5 by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %r6 = ckks.rescale %m6 : !ckks.ct<level = 4, degree = 2>
  %m7 = ckks.mul_const %r6 by 5.000000e-01 : !ckks.ct<level = 3, degree = 1>
  %r7 = ckks.rescale %m7 : !ckks.ct<level = 3, degree = 2>
  %m8 = ckks.mul_const %r7 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %r8 = ckks.rescale %m8 : !ckks.ct<level = 2, degree = 2>
  %b = ckks.bootstrap %r8 : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  %m = ckks.mul_const %b by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %r = ckks.rescale %m : !ckks.ct<level = 1, degree = 2>
  return %r : !ckks.ct<level = 0, degree = 1>
}

// A source bootstrap of a value used again after it: the value sits at
// the input level 2 for the bootstrap and moves down to 0 for its other
// use; the bootstrap raises to the 1 level its uses need.
// CHECK-LABEL: func.func @written(%arg0: !ckks.ct<level = 3, degree = 1>)
// CHECK: %[[V:.*]] = ckks.rescale %{{.*}} : <level = 3, degree = 2>
// CHECK-NEXT: %[[B:.*]] = ckks.bootstrap %[[V]] : <level = 2, degree = 1> -> <level = 1, degree = 1>
// CHECK: ckks.level_down %[[V]] to 0 : <level = 2, degree = 1>
func.func @written(%x: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 2, degree = 2>
  %2 = ckks.bootstrap %1 : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  %3 = ckks.mul_const %2 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %4 = ckks.rescale %3 : !ckks.ct<level = 1, degree = 2>
  %5 = ckks.level_down %1 to 0 : !ckks.ct<level = 1, degree = 1>
  %6 = ckks.add %4, %5 : !ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 0, degree = 1>
  return %6 : !ckks.ct<level = 0, degree = 1>
}
}
