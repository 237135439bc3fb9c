// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap | FileCheck %s --implicit-check-not="= ckks.bootstrap"
// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap --ckks-to-poly | FileCheck %s --check-prefix=POLY
// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap --ckks-to-poly --poly-to-rns | FileCheck %s --check-prefix=RNS
//
// A sparse bootstrap (4 of the N/2 = 16 slots) expanded into ordinary ckks
// ops. Layout: N = 32, one prime per level, levels 0..9 (Q primes 0..9, P
// prime 10). Config: one DFT level each way, a degree-3 cosine
// (ceil(log2 4) = 2 levels), one double angle, the arcsine correction (2):
// depth 1 + 2 + 1 + 2 + 1 = 7, so a result at level 1 is raised to level 8
// (the chain's top, 9, is not needed) and no level_down is left at the end.

module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @sparse
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1>
func.func @sparse(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // 1. Down to level 0, then raised to the top of the chain.
  // CHECK: %[[Z:.*]] = ckks.level_down %[[A]] to 0 : <level = 3, degree = 1>
  // CHECK-NEXT: %[[R:.*]] = ckks.mod_raise %[[Z]] : <level = 0, degree = 1> -> <level = 8, degree = 1>
  // 2. The trace onto the subring of 4 slots: rotations by 4 and 8 (all
  // n 2^j below N/2), each added to what it rotated.
  // CHECK-NEXT: %[[T1:.*]] = ckks.rotate %[[R]] by 4 : <level = 8, degree = 1>
  // CHECK-NEXT: %[[S1:.*]] = ckks.add %[[R]], %[[T1]] : <level = 8, degree = 1>, <level = 8, degree = 1>
  // CHECK-NEXT: %[[T2:.*]] = ckks.rotate %[[S1]] by 8 : <level = 8, degree = 1>
  // CHECK-NEXT: %[[S2:.*]] = ckks.add %[[S1]], %[[T2]] : <level = 8, degree = 1>, <level = 8, degree = 1>
  // CHECK-NOT: ckks.rotate %{{.*}} by 16
  // 3. CoeffToSlot in one factor: complex diagonals at the top level and
  // a single rescale. 2n = 8 slots fit N/2 = 16, so the real and
  // imaginary parts share one ciphertext, [re, im] with period 8: the
  // factor's diagonals have period 8 (8 complex values; its output comes
  // out times [1, -i]), and one conjugation and one addition before the
  // factor's rescale give re on slots 0-3 and im on 4-7 of every 8.
  // Rotations by 4 and more turn the 8-slot period (7 is -1 here). Its four
  // diagonals (offsets 0, 1, 2, -1) are all baby steps, hoisted rotations
  // of the input: a giant step (a key switch of its own) costs about two.
  // The baby steps come first, then every diagonal, then the products (so
  // the giant steps' sums sit together and fuse into one kernel).
  // CHECK: ckks.rotate %[[X:.*]] by 1 : <level = 8, degree = 1>
  // CHECK-NEXT: ckks.rotate %[[X]] by 2 : <level = 8, degree = 1>
  // CHECK-NEXT: ckks.rotate %[[X]] by 7 : <level = 8, degree = 1>
  // CHECK-NEXT: %[[D:.*]] = ckks.encode complex [{{([^,]*, ){15}[^,]*}}] : <level = 8, degree = 1>
  // CHECK-COUNT-3: ckks.encode complex
  // CHECK-NEXT: ckks.mul_plain %[[X]], %[[D]] : <level = 8, degree = 1>, <level = 8, degree = 1>
  // CHECK-NOT: ckks.rotate {{.*}}<level = 8, degree = 2>
  // CHECK-NOT: ckks.rescale
  // CHECK: %[[WC:.*]] = ckks.conjugate %[[W:.*]] : <level = 8, degree = 2>
  // CHECK-NEXT: %[[PARTS:.*]] = ckks.add %[[W]], %[[WC]] : <level = 8, degree = 2>, <level = 8, degree = 2>
  // CHECK-NEXT: ckks.rescale %[[PARTS]] : <level = 8, degree = 2>
  // 4. EvalMod once, on both parts (products, relinearized and rescaled):
  // no second conjugation, no plaintext i.
  // CHECK-NOT: ckks.conjugate
  // CHECK-NOT: ckks.encode complex [0.000000e+00
  // CHECK: ckks.mul %{{.*}}, %{{.*}} : <level = 7, degree = 1>, <level = 7, degree = 1>
  // CHECK: ckks.relinearize
  // 5. SlotToCoeff in one factor that reads re + i im from both halves:
  // each diagonal r of the 4-slot map is one at r and one at r + 4 of 8
  // slots (baby steps 1 to 3, one giant step 4 for the r + 4 halves: 4 and
  // -4 are one rotation of 8 slots), ending at the declared level 1. Both
  // giant steps' sums come before the giant rotation.
  // CHECK: ckks.rotate %{{.*}} by 3 : <level = 2, degree = 1>
  // CHECK-NEXT: ckks.encode complex [{{([^,]*, ){15}[^,]*}}] : <level = 2, degree = 1>
  // CHECK-COUNT-8: ckks.mul_plain
  // CHECK-NOT: ckks.mul_plain
  // CHECK: ckks.rotate %{{.*}} by 4 : <level = 2, degree = 2>
  // CHECK-NOT: ckks.rotate
  // CHECK: %[[END:.*]] = ckks.rescale %{{.*}} : <level = 2, degree = 2>
  // CHECK-NEXT: return %[[END]] : !ckks.ct<level = 1, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 3, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  return %0 : !ckks.ct<level = 1, degree = 1>
}
}

// Every op of the expansion lowers: mod_raise to poly.mod_raise of both
// components, the diagonals of period 8 as they are ...
// POLY-LABEL: func @sparse
// POLY-COUNT-2: poly.mod_raise %{{.*}} : <Q0, ntt> -> <Q8, ntt>
// POLY: poly.encode complex [{{([^,]*, ){15}[^,]*}}] degree 1 : <Q8, ntt>
// POLY: poly.encode complex [{{([^,]*, ){15}[^,]*}}] degree 1 : <Q2, ntt>
// POLY: return %{{.*}}, %{{.*}} : !poly.poly<Q1, ntt>, !poly.poly<Q1, ntt>

// ... and down to limbs: the base limb is kept, primes 1..8 converted.
// RNS-LABEL: func @sparse
// RNS-SAME: -> (!rns.limbs<0 to 1>, !rns.limbs<0 to 1>)
// RNS: %[[C:.*]] = rns.intt %[[X:.*]] : <0>
// RNS-NEXT: %[[B:.*]] = rns.base_convert %[[C]] : <0> -> <1 to 8>
// RNS-NEXT: %[[N:.*]] = rns.ntt %[[B]] : <1 to 8>
// RNS-NEXT: rns.concat %[[X]], %[[N]] : !rns.limbs<0>, !rns.limbs<1 to 8> -> <0 to 8>
// RNS: rns.encode complex [{{([^,]*, ){15}[^,]*}}] level 8 degree 1 : <0 to 8>
// RNS: rns.encode complex [{{([^,]*, ){15}[^,]*}}] level 2 degree 1 : <0 to 2>

// -----

// One slot: the trace runs over every rotation step below N/2 (1, 2, 4, 8)
// and CoeffToSlot is a single complex constant of period 2 (c, -i c), with
// no rotation: re and im share the ciphertext.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 1 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @one_slot
func.func @one_slot(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // CHECK: ckks.level_down %{{.*}} to 0 : <level = 2, degree = 1>
  // Raised to level 0 + the depth 7 only (the chain's top is 9).
  // CHECK-NEXT: %[[R:.*]] = ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 7, degree = 1>
  // CHECK-NEXT: %[[T1:.*]] = ckks.rotate %[[R]] by 1
  // CHECK-NEXT: %[[S1:.*]] = ckks.add %[[R]], %[[T1]]
  // CHECK-NEXT: %[[T2:.*]] = ckks.rotate %[[S1]] by 2
  // CHECK-NEXT: %[[S2:.*]] = ckks.add %[[S1]], %[[T2]]
  // CHECK-NEXT: %[[T3:.*]] = ckks.rotate %[[S2]] by 4
  // CHECK-NEXT: %[[S3:.*]] = ckks.add %[[S2]], %[[T3]]
  // CHECK-NEXT: %[[T4:.*]] = ckks.rotate %[[S3]] by 8
  // CHECK-NEXT: %[[S4:.*]] = ckks.add %[[S3]], %[[T4]]
  // CHECK-NEXT: %[[D:.*]] = ckks.encode complex [{{([^,]*, ){3}[^,]*}}] : <level = 7, degree = 1>
  // CHECK-NEXT: %[[P:.*]] = ckks.mul_plain %[[S4]], %[[D]]
  // CHECK-NEXT: %[[C:.*]] = ckks.conjugate %[[P]] : <level = 7, degree = 2>
  // CHECK-NEXT: %[[PARTS:.*]] = ckks.add %[[P]], %[[C]]
  // CHECK-NEXT: ckks.rescale %[[PARTS]] : <level = 7, degree = 2>
  // The expansion ends exactly at the declared level 0: no level_down.
  // CHECK: %[[S:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
  // CHECK-NEXT: return %[[S]] : !ckks.ct<level = 0, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}
