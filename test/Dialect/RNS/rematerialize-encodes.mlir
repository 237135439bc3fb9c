// RUN: cerium-opt %s --rns-rematerialize-encodes=distance=3 | FileCheck %s
// RUN: cerium-opt %s --rns-rematerialize-encodes=distance=3 --rns-plan-memory | FileCheck %s --check-prefix=PLAN
// RUN: cerium-opt %s --rns-plan-memory | FileCheck %s --check-prefix=SHARED
// One constant read by two runs of code far apart (as two bootstraps at one
// level read the same DFT diagonals after CSE): the second run gets an
// encode of its own, made right before it; uses near each other keep
// sharing one.

// CHECK-LABEL: func @far
// CHECK: %[[E:.*]] = rns.encode [5.000000e-01] level 2 degree 1
// CHECK: rns.kernel(%arg0, %[[E]])
// CHECK: rns.kernel(%{{.*}}, %[[E]])
// CHECK: rns.base_convert
// CHECK: rns.base_convert
// CHECK: rns.ntt
// CHECK-NEXT: rns.ntt
// CHECK-NEXT: %[[F:.*]] = rns.encode [5.000000e-01] level 2 degree 1
// CHECK-NEXT: rns.kernel(%{{.*}}, %[[F]])
// CHECK-NOT: rns.encode
// Without the copy the encode (3 limbs) stays live through the two base
// conversions, which write new arrays: 9 limbs at the peak, 6 with it.
// PLAN-LABEL: func @far
// PLAN-SAME: rns.arena_limbs = 6
// SHARED-LABEL: func @far
// SHARED-SAME: rns.arena_limbs = 9
func.func @far(%a: !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  %e = rns.encode [0.5] level 2 degree 1 : !rns.limbs<0 to 2>
  %k0 = rns.kernel(%a, %e) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  ^bb0(%x: i32, %y: i32):
    %0 = rns.add %x, %y : i32
    rns.yield %0 : i32
  }
  %k1 = rns.kernel(%k0, %e) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  ^bb0(%x: i32, %y: i32):
    %0 = rns.add %x, %y : i32
    rns.yield %0 : i32
  }
  %b = rns.base_convert %k1 : !rns.limbs<0 to 2> -> !rns.limbs<3 to 5>
  %c = rns.base_convert %b : !rns.limbs<3 to 5> -> !rns.limbs<0 to 2>
  %n0 = rns.ntt %c : !rns.limbs<0 to 2>
  %n1 = rns.ntt %n0 : !rns.limbs<0 to 2>
  %k2 = rns.kernel(%n1, %e) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  ^bb0(%x: i32, %y: i32):
    %0 = rns.add %x, %y : i32
    rns.yield %0 : i32
  }
  return %k2 : !rns.limbs<0 to 2>
}
