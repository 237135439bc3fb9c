// RUN: cerium-opt %s --rns-fold-digit-automorph | FileCheck %s
// A key switch whose digits are all rotated by one element, each copy used
// by it alone, reads the unrotated digits through that element instead.

// CHECK-LABEL: func @hoisted
// CHECK-NOT: rns.automorph
// CHECK: rns.key_switch %arg0, %arg1 {galois = 5 : i64, permute = 5 : i64}
func.func @hoisted(%d0: !rns.limbs<0 to 2>, %d1: !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) {
  %r0 = rns.automorph %d0 by 5 : !rns.limbs<0 to 2>
  %r1 = rns.automorph %d1 by 5 : !rns.limbs<0 to 2>
  %b, %a = rns.key_switch %r0, %r1 {galois = 5 : i64} : !rns.limbs<0 to 2>, !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  return %b, %a : !rns.limbs<0 to 2>, !rns.limbs<0 to 2>
}

// A rotated digit used elsewhere too, or digits rotated by different
// elements, keep their automorphisms.
// CHECK-LABEL: func @kept
// CHECK: rns.automorph %arg0 by 5
// CHECK: rns.key_switch {{.*}}{galois = 5 : i64}
// CHECK-NOT: permute
// CHECK: rns.automorph %arg0 by 25
// CHECK: rns.automorph %arg1 by 5
// CHECK: rns.key_switch {{.*}}{galois = 5 : i64}
// CHECK-NOT: permute
func.func @kept(%d0: !rns.limbs<0 to 2>, %d1: !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>) {
  %r0 = rns.automorph %d0 by 5 : !rns.limbs<0 to 2>
  %b, %a = rns.key_switch %r0 {galois = 5 : i64} : !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  %s0 = rns.automorph %d0 by 25 : !rns.limbs<0 to 2>
  %s1 = rns.automorph %d1 by 5 : !rns.limbs<0 to 2>
  %b2, %a2 = rns.key_switch %s0, %s1 {galois = 5 : i64} : !rns.limbs<0 to 2>, !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  return %b, %a, %r0, %b2, %a2 : !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>
}

// Digits only partly rotated, an already permuted key switch, and an even
// element (not an automorphism) stay as they are.
// CHECK-LABEL: func @partial
// CHECK: rns.automorph %arg0 by 5
// CHECK: rns.key_switch %{{.*}}, %arg1 {galois = 5 : i64}
// CHECK: rns.automorph %arg0 by 4
// CHECK: rns.key_switch %{{.*}} {galois = 5 : i64}
// CHECK: rns.key_switch %arg1 {galois = 5 : i64, permute = 5 : i64}
func.func @partial(%d0: !rns.limbs<0 to 2>, %d1: !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>) {
  %r0 = rns.automorph %d0 by 5 : !rns.limbs<0 to 2>
  %b, %a = rns.key_switch %r0, %d1 {galois = 5 : i64} : !rns.limbs<0 to 2>, !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  %e = rns.automorph %d0 by 4 : !rns.limbs<0 to 2>
  %b2, %a2 = rns.key_switch %e {galois = 5 : i64} : !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  %b3, %a3 = rns.key_switch %d1 {galois = 5 : i64, permute = 5 : i64} : !rns.limbs<0 to 2> -> !rns.limbs<0 to 2>
  return %b, %b2, %b3 : !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>
}
