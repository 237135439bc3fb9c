// RUN: cerium-opt %s -split-input-file --ckks-place-bootstraps=levels=4 | FileCheck %s
// RUN: cerium-opt %s -split-input-file --ckks-place-bootstraps=levels=2 | FileCheck %s --check-prefix=TWO
// RUN: cerium-opt %s -split-input-file --ckks-place-bootstraps | FileCheck %s --check-prefix=ANY
// Cost-based placement on programs lowered with as many levels as they
// need: each bootstrap goes where it costs least and raises to the level the
// code after it needs, and the deepest value ends at level 0.

// Six levels in segments of at most 4: one bootstrap, as late as the chain
// allows (its result needs 2 levels, cheaper than 3 or 4). With no limit,
// none.
// CHECK: module attributes {ckks.levels = 4 : i64}
// CHECK-LABEL: func.func @chain(%arg0: !ckks.ct<level = 4, degree = 1>)
// CHECK-COUNT-4: ckks.rescale
// CHECK: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// CHECK-COUNT-2: ckks.rescale
// CHECK-NOT: ckks.bootstrap
// CHECK: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
// TWO-LABEL: func.func @chain(%arg0: !ckks.ct<level = 2, degree = 1>)
// TWO-COUNT-2: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// TWO-NOT: ckks.bootstrap
// ANY-LABEL: func.func @chain(%arg0: !ckks.ct<level = 6, degree = 1>)
// ANY-NOT: ckks.bootstrap
func.func @chain(%x: !ckks.ct<level = 6, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 6, degree = 2>
  %2 = ckks.mul_const %1 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %3 = ckks.rescale %2 : !ckks.ct<level = 5, degree = 2>
  %4 = ckks.mul_const %3 by 5.000000e-01 : !ckks.ct<level = 4, degree = 1>
  %5 = ckks.rescale %4 : !ckks.ct<level = 4, degree = 2>
  %6 = ckks.mul_const %5 by 5.000000e-01 : !ckks.ct<level = 3, degree = 1>
  %7 = ckks.rescale %6 : !ckks.ct<level = 3, degree = 2>
  %8 = ckks.mul_const %7 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %9 = ckks.rescale %8 : !ckks.ct<level = 2, degree = 2>
  %10 = ckks.mul_const %9 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %11 = ckks.rescale %10 : !ckks.ct<level = 1, degree = 2>
  return %11 : !ckks.ct<level = 0, degree = 1>
}

// -----

// Three rotations of the depth-2 value are multiplied at depth 2: a cut
// there would bootstrap all three. With segments of at most 2 the cuts go
// at depths 1, 3 and 5, one live value each: three bootstraps, not four.
// The last one raises to the one level the code after it needs. The input,
// used again at the end, is still above the level needed there and only
// moves down. With segments of 4, one cut at depth 4, past the rotations.
// TWO-LABEL: func.func @fanout(%arg0: !ckks.ct<level = 1, degree = 1>)
// TWO: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// TWO-COUNT-3: ckks.rotate %{{.*}} : <level = 1, degree = 1>
// TWO: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// TWO: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 1, degree = 1>
// TWO-NOT: ckks.bootstrap
// TWO: ckks.level_down %arg0 to 0 : <level = 1, degree = 1>
// TWO: return
// CHECK-LABEL: func.func @fanout(%arg0: !ckks.ct<level = 4, degree = 1>)
// CHECK-NOT: ckks.bootstrap
// CHECK: ckks.rescale %{{.*}} : <level = 1, degree = 2>
// CHECK-NEXT: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 2, degree = 1>
// CHECK-NOT: ckks.bootstrap
// CHECK: return
func.func @fanout(%x: !ckks.ct<level = 6, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  %0 = ckks.mul_const %x by 5.000000e-01 : !ckks.ct<level = 6, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 6, degree = 2>
  %2 = ckks.mul_const %1 by 5.000000e-01 : !ckks.ct<level = 5, degree = 1>
  %3 = ckks.rescale %2 : !ckks.ct<level = 5, degree = 2>
  %r1 = ckks.rotate %3 by 1 : !ckks.ct<level = 4, degree = 1>
  %r2 = ckks.rotate %3 by 2 : !ckks.ct<level = 4, degree = 1>
  %r3 = ckks.rotate %3 by 3 : !ckks.ct<level = 4, degree = 1>
  %m1 = ckks.mul_const %r1 by 2.500000e-01 : !ckks.ct<level = 4, degree = 1>
  %m2 = ckks.mul_const %r2 by 2.500000e-01 : !ckks.ct<level = 4, degree = 1>
  %m3 = ckks.mul_const %r3 by 2.500000e-01 : !ckks.ct<level = 4, degree = 1>
  %s1 = ckks.add %m1, %m2 : !ckks.ct<level = 4, degree = 2>, !ckks.ct<level = 4, degree = 2>
  %s2 = ckks.add %s1, %m3 : !ckks.ct<level = 4, degree = 2>, !ckks.ct<level = 4, degree = 2>
  %4 = ckks.rescale %s2 : !ckks.ct<level = 4, degree = 2>
  %5 = ckks.mul %4, %4 : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 3, degree = 1>
  %6 = ckks.relinearize %5 : !ckks.ct<level = 3, degree = 2, size = 3>
  %7 = ckks.rescale %6 : !ckks.ct<level = 3, degree = 2>
  %8 = ckks.mul_const %7 by 5.000000e-01 : !ckks.ct<level = 2, degree = 1>
  %9 = ckks.rescale %8 : !ckks.ct<level = 2, degree = 2>
  %10 = ckks.mul_const %9 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %11 = ckks.rescale %10 : !ckks.ct<level = 1, degree = 2>
  %xd = ckks.level_down %x to 0 : !ckks.ct<level = 6, degree = 1>
  %12 = ckks.add %11, %xd : !ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 0, degree = 1>
  return %12 : !ckks.ct<level = 0, degree = 1>
}

// -----

// A bootstrap of the program (bootstrap(x) in the source) is lowered to a
// fresh top; placement gives it the one level the code after it uses, and
// its plaintext follows its ciphertext down.
// ANY: module attributes {ckks.levels = 2 : i64}
// ANY-LABEL: func.func @retarget(%arg0: !ckks.ct<level = 2, degree = 1>)
// ANY: ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 1, degree = 1>
// ANY: ckks.encode [2.000000e+00] : <level = 1, degree = 1>
// ANY: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @retarget(%x: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  %0 = ckks.mul %x, %x : !ckks.ct<level = 2, degree = 1>, !ckks.ct<level = 2, degree = 1>
  %1 = ckks.relinearize %0 : !ckks.ct<level = 2, degree = 2, size = 3>
  %2 = ckks.rescale %1 : !ckks.ct<level = 2, degree = 2>
  %3 = ckks.mul_const %2 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1>
  %4 = ckks.rescale %3 : !ckks.ct<level = 1, degree = 2>
  %b = ckks.bootstrap %4 : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 2, degree = 1>
  %p = ckks.encode [2.0] : !ckks.pt<level = 2, degree = 1>
  %5 = ckks.mul_plain %b, %p : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 2, degree = 1>
  %6 = ckks.rescale %5 : !ckks.ct<level = 2, degree = 2>
  return %6 : !ckks.ct<level = 1, degree = 1>
}
