// RUN: cerium-opt %s --poly-to-rns | FileCheck %s
// Polynomials become limb arrays over prime ids (Q: 0..4, P: 5); ModUp,
// ModDown and rescale become their limb-level steps with (inverse) NTTs
// only where the domain changes.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @mod_up
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<0 to 2>, %[[C:.*]]: !rns.limbs<0 to 2>) -> !rns.limbs<5, 0 to 2>
func.func @mod_up(%x: !poly.poly<Q1, ntt>, %c: !poly.poly<Q1, coeff>) -> !poly.poly<PQ1, ntt> {
  // Digit 1 of level 1 is prime 2: convert it to P and q0, q1, NTT those,
  // and put the digit's own NTT limb in its place.
  // CHECK: %[[D:.*]] = rns.slice %[[C]] at 2 : <0 to 2> -> <2>
  // CHECK: %[[V:.*]] = rns.base_convert %[[D]] : <2> -> <5, 0 to 1>
  // CHECK: %[[N:.*]] = rns.ntt %[[V]] : <5, 0 to 1>
  // CHECK: %[[OWN:.*]] = rns.slice %[[X]] at 2 : <0 to 2> -> <2>
  // CHECK: rns.concat %[[N]], %[[OWN]] : !rns.limbs<5, 0 to 1>, !rns.limbs<2> -> <5, 0 to 2>
  %0 = poly.mod_up %x, %c digit 1 : !poly.poly<Q1, ntt>, !poly.poly<Q1, coeff> -> !poly.poly<PQ1, ntt>
  return %0 : !poly.poly<PQ1, ntt>
}

// CHECK-LABEL: func @mod_up_middle
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<0 to 2>, %[[C:.*]]: !rns.limbs<0 to 2>)
func.func @mod_up_middle(%x: !poly.poly<Q1, ntt>, %c: !poly.poly<Q1, coeff>) -> !poly.poly<PQ1, ntt> {
  // Digit 0 (primes 0, 1) sits between P and prime 2: each side is
  // converted on its own, so each is a whole array.
  // CHECK: %[[D:.*]] = rns.slice %[[C]] at 0 : <0 to 2> -> <0 to 1>
  // CHECK: %[[B:.*]] = rns.base_convert %[[D]] : <0 to 1> -> <5>
  // CHECK: %[[NB:.*]] = rns.ntt %[[B]] : <5>
  // CHECK: %[[OWN:.*]] = rns.slice %[[X]] at 0 : <0 to 2> -> <0 to 1>
  // CHECK: %[[A:.*]] = rns.base_convert %[[D]] : <0 to 1> -> <2>
  // CHECK: %[[NA:.*]] = rns.ntt %[[A]] : <2>
  // CHECK: rns.concat %[[NB]], %[[OWN]], %[[NA]] : !rns.limbs<5>, !rns.limbs<0 to 1>, !rns.limbs<2> -> <5, 0 to 2>
  %0 = poly.mod_up %x, %c digit 0 : !poly.poly<Q1, ntt>, !poly.poly<Q1, coeff> -> !poly.poly<PQ1, ntt>
  return %0 : !poly.poly<PQ1, ntt>
}

// CHECK-LABEL: func @mod_down
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<5, 0 to 2>)
func.func @mod_down(%x: !poly.poly<PQ1, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: %[[P:.*]] = rns.slice %[[X]] at 0 : <5, 0 to 2> -> <5>
  // CHECK: %[[Q:.*]] = rns.slice %[[X]] at 1 : <5, 0 to 2> -> <0 to 2>
  // CHECK: %[[PC:.*]] = rns.intt %[[P]] : <5>
  // CHECK: %[[V:.*]] = rns.base_convert %[[PC]] : <5> -> <0 to 2>
  // CHECK: %[[N:.*]] = rns.ntt %[[V]]
  // CHECK: %[[S:.*]] = rns.sub %[[Q]], %[[N]]
  // CHECK: rns.mul_inv %[[S]] by [5] : !rns.limbs<0 to 2>
  %0 = poly.mod_down %x : !poly.poly<PQ1, ntt> -> !poly.poly<Q1, ntt>
  return %0 : !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @double_rescale
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<0 to 4>)
func.func @double_rescale(%x: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // Both primes of level 2 at once: one conversion, one NTT per kept limb.
  // CHECK: %[[D:.*]] = rns.slice %[[X]] at 3 : <0 to 4> -> <3 to 4>
  // CHECK: %[[K:.*]] = rns.slice %[[X]] at 0 : <0 to 4> -> <0 to 2>
  // CHECK: %[[DC:.*]] = rns.intt %[[D]] : <3 to 4>
  // CHECK: %[[V:.*]] = rns.base_convert %[[DC]] : <3 to 4> -> <0 to 2>
  // CHECK: %[[N:.*]] = rns.ntt %[[V]]
  // CHECK: %[[S:.*]] = rns.sub %[[K]], %[[N]]
  // CHECK: rns.mul_inv %[[S]] by [3, 4]
  // CHECK-NOT: rns.ntt
  %0 = poly.rescale %x : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %0 : !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: !poly.poly<Q2, ntt>) -> !poly.poly<Q0, ntt> {
  // CHECK: rns.mul %{{.*}}, %{{.*}} : !rns.limbs<0 to 4>
  // CHECK: rns.mul_int %{{.*}} by 3 : !rns.limbs<0 to 4>
  // CHECK: rns.encode [2.000000e+00] level 2 degree 1 : <0 to 4>
  // CHECK: rns.automorph %{{.*}} by 9 : <0 to 4>
  // CHECK: rns.slice %{{.*}} at 0 : <0 to 4> -> <0>
  %0 = poly.mul %a, %a : !poly.poly<Q2, ntt>
  %1 = poly.mul_int %0 by 3 : !poly.poly<Q2, ntt>
  %e = poly.encode [2.0] degree 1 : !poly.poly<Q2, ntt>
  %2 = poly.add %1, %e : !poly.poly<Q2, ntt>
  %3 = poly.automorph %2 by 9 : !poly.poly<Q2, ntt>
  %4 = poly.drop %3 : !poly.poly<Q2, ntt> -> !poly.poly<Q0, ntt>
  return %4 : !poly.poly<Q0, ntt>
}

// CHECK-LABEL: func @mod_down_rescale
// CHECK-SAME: (%[[E:.*]]: !rns.limbs<5, 0 to 4>, %[[X:.*]]: !rns.limbs<0 to 4>)
func.func @mod_down_rescale(%e: !poly.poly<PQ2, ntt>, %x: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // z = e_Q + P x; divide [e_P, z_top] out of z_kept at once.
  // CHECK: %[[EP:.*]] = rns.slice %[[E]] at 0 : <5, 0 to 4> -> <5>
  // CHECK: %[[EQ:.*]] = rns.slice %[[E]] at 1
  // CHECK: %[[L:.*]] = rns.mul_prod %[[X]] by [5] : !rns.limbs<0 to 4>
  // CHECK: %[[Z:.*]] = rns.add %[[EQ]], %[[L]]
  // CHECK: %[[TOP:.*]] = rns.slice %[[Z]] at 3 : <0 to 4> -> <3 to 4>
  // CHECK: %[[D:.*]] = rns.concat %[[EP]], %[[TOP]] : !rns.limbs<5>, !rns.limbs<3 to 4> -> <5, 3 to 4>
  // CHECK: %[[K:.*]] = rns.slice %[[Z]] at 0 : <0 to 4> -> <0 to 2>
  // CHECK: %[[DC:.*]] = rns.intt %[[D]]
  // CHECK: rns.base_convert %[[DC]] : <5, 3 to 4> -> <0 to 2>
  // CHECK: rns.ntt
  // CHECK: rns.sub %[[K]]
  // CHECK: rns.mul_inv %{{.*}} by [5, 3, 4]
  %0 = poly.mod_down_rescale %e, %x : !poly.poly<PQ2, ntt>, !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %0 : !poly.poly<Q1, ntt>
}

// Without an addend: z is e's Q part itself.
// CHECK-LABEL: func @mod_down_rescale_alone
// CHECK-SAME: (%[[E:.*]]: !rns.limbs<5, 0 to 4>)
func.func @mod_down_rescale_alone(%e: !poly.poly<PQ2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: %[[EP:.*]] = rns.slice %[[E]] at 0 : <5, 0 to 4> -> <5>
  // CHECK: %[[EQ:.*]] = rns.slice %[[E]] at 1 : <5, 0 to 4> -> <0 to 4>
  // CHECK-NOT: rns.mul_prod
  // CHECK: %[[TOP:.*]] = rns.slice %[[EQ]] at 3 : <0 to 4> -> <3 to 4>
  // CHECK: rns.concat %[[EP]], %[[TOP]]
  // CHECK: %[[K:.*]] = rns.slice %[[EQ]] at 0 : <0 to 4> -> <0 to 2>
  // CHECK: rns.sub %[[K]]
  %0 = poly.mod_down_rescale %e : !poly.poly<PQ2, ntt> -> !poly.poly<Q1, ntt>
  return %0 : !poly.poly<Q1, ntt>
}
}
