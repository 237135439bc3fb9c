// RUN: cerium-opt %s --rns-plan-memory | FileCheck %s
// Offsets are in limbs. Arguments are placed first; a kernel, ntt or intt
// writes over an operand that dies there; slices are views; space freed by
// dead arrays is reused; an array used only by a concat is computed in
// place inside the concat's result.

// CHECK-LABEL: func @plan
// CHECK-SAME: rns.arena_limbs = 9
// CHECK-SAME: rns.arg_offsets = array<i64: 0, 3>
func.func @plan(%a: !rns.limbs<0 to 2>, %b: !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  // %a stays alive (used below), so the NTT gets new space after both
  // arguments.
  // CHECK: rns.ntt %{{.*}} {rns.offsets = array<i64: 6>}
  %n = rns.ntt %a : !rns.limbs<0 to 2>
  // %n and %b die here: the kernel writes in place over the first, and
  // the space of %b is free afterwards.
  // CHECK: rns.kernel{{.*}}rns.offsets = array<i64: 6>
  %k = rns.kernel(%n, %b) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  ^bb0(%x: i32, %y: i32):
    %0 = rns.add %x, %y : i32
    rns.yield %0 : i32
  }
  // A slice views limb 1 of %a.
  // CHECK: rns.slice %{{.*}} at 1 {rns.offsets = array<i64: 1>}
  %s = rns.slice %a at 1 : !rns.limbs<0 to 2> -> !rns.limbs<1 to 2>
  // A base conversion never writes over its operand. Its result is used
  // only by the concat below, so it is computed inside the concat's result:
  // that space (3 limbs) is taken now, first fit (where %b was).
  // CHECK: rns.base_convert %{{.*}} {rns.offsets = array<i64: 3>}
  %v = rns.base_convert %s : !rns.limbs<1 to 2> -> !rns.limbs<5, 0>
  // The concat's result is that space; only the slice of %k is copied.
  // CHECK: rns.concat {{.*}} {rns.offsets = array<i64: 3>}
  %t = rns.slice %k at 1 : !rns.limbs<0 to 2> -> !rns.limbs<1>
  %c = rns.concat %v, %t : !rns.limbs<5, 0>, !rns.limbs<1> -> !rns.limbs<5, 0, 1>
  return %k : !rns.limbs<0 to 2>
}

// Placement follows in-place chains: the conversion and the NTT over it
// both land inside the concat's result, at the operand's position.
// CHECK-LABEL: func @chain
// CHECK-SAME: rns.arg_offsets = array<i64: 0, 2>
func.func @chain(%c: !rns.limbs<0 to 1>, %x: !rns.limbs<0 to 1>) -> !rns.limbs<0 to 1, 5 to 6> {
  // CHECK: rns.base_convert {{.*}}rns.offsets = array<i64: 6>
  // CHECK: rns.ntt {{.*}}rns.offsets = array<i64: 6>
  // CHECK: rns.concat {{.*}}rns.offsets = array<i64: 4>
  %v = rns.base_convert %c : !rns.limbs<0 to 1> -> !rns.limbs<5 to 6>
  %n = rns.ntt %v : !rns.limbs<5 to 6>
  %r = rns.concat %x, %n : !rns.limbs<0 to 1>, !rns.limbs<5 to 6> -> !rns.limbs<0 to 1, 5 to 6>
  return %r : !rns.limbs<0 to 1, 5 to 6>
}
