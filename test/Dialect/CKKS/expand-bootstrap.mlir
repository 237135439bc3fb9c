// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap | FileCheck %s --implicit-check-not="= ckks.bootstrap"
// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap --ckks-to-poly | FileCheck %s --check-prefix=POLY
// RUN: cerium-opt %s -split-input-file --ckks-expand-bootstrap --ckks-to-poly --poly-to-rns | FileCheck %s --check-prefix=RNS
//
// A sparse bootstrap (4 of the N/2 = 16 slots) expanded into ordinary ckks
// ops. Layout: N = 32, one prime per level, levels 0..9 (Q primes 0..9, P
// prime 10). Config: one DFT level each way, a degree-3 cosine (a product
// tree of 2 levels plus 1 for the coefficients), one double angle, the
// arcsine correction (2): depth 1 + 3 + 1 + 2 + 1 = 8, so a result at
// level 1 uses the whole chain (level 9 down to level 1) and no level_down
// is left at the end.

module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @sparse
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1>
func.func @sparse(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // 1. Down to level 0, then raised to the top of the chain.
  // CHECK: %[[Z:.*]] = ckks.level_down %[[A]] to 0 : <level = 3, degree = 1>
  // CHECK-NEXT: %[[R:.*]] = ckks.mod_raise %[[Z]] : <level = 0, degree = 1> -> <level = 9, degree = 1>
  // 2. The trace onto the subring of 4 slots: rotations by 4 and 8 (all
  // n 2^j below N/2), each added to what it rotated.
  // CHECK-NEXT: %[[T1:.*]] = ckks.rotate %[[R]] by 4 : <level = 9, degree = 1>
  // CHECK-NEXT: %[[S1:.*]] = ckks.add %[[R]], %[[T1]] : <level = 9, degree = 1>, <level = 9, degree = 1>
  // CHECK-NEXT: %[[T2:.*]] = ckks.rotate %[[S1]] by 8 : <level = 9, degree = 1>
  // CHECK-NEXT: %[[S2:.*]] = ckks.add %[[S1]], %[[T2]] : <level = 9, degree = 1>, <level = 9, degree = 1>
  // CHECK-NOT: ckks.rotate %{{.*}} by 16
  // 3. CoeffToSlot in one factor: complex diagonals at the top level and
  // a single rescale.
  // CHECK: %[[D:.*]] = ckks.encode complex [{{.*}}] : <level = 9, degree = 1>
  // CHECK: ckks.mul_plain %{{.*}}, %[[D]] : <level = 9, degree = 1>, <level = 9, degree = 1>
  // The real and imaginary parts are split before the factor's one
  // rescale, with one conjugation: re = w + conj(w), im = -i (w - conj(w)),
  // -i a degree-0 plaintext (no level used).
  // CHECK-NOT: ckks.rescale
  // CHECK: %[[WC:.*]] = ckks.conjugate %[[W:.*]] : <level = 9, degree = 2>
  // CHECK-NEXT: %[[RE:.*]] = ckks.add %[[W]], %[[WC]] : <level = 9, degree = 2>, <level = 9, degree = 2>
  // CHECK-NEXT: ckks.rescale %[[RE]] : <level = 9, degree = 2>
  // CHECK-NEXT: %[[D2:.*]] = ckks.sub %[[W]], %[[WC]] : <level = 9, degree = 2>, <level = 9, degree = 2>
  // CHECK-NEXT: %[[NI:.*]] = ckks.encode complex [0.000000e+00, -1.000000e+00] count 4 : <level = 9, degree = 0>
  // CHECK-NEXT: %[[V:.*]] = ckks.mul_plain %[[D2]], %[[NI]] : <level = 9, degree = 2>, <level = 9, degree = 0>
  // CHECK-NEXT: ckks.rescale %[[V]] : <level = 9, degree = 2>
  // 4. EvalMod of each part (products, relinearized and rescaled), and
  // 5. re + i im, i again a degree-0 plaintext, at level 2.
  // CHECK: ckks.mul %{{.*}}, %{{.*}} : <level = 8, degree = 1>, <level = 8, degree = 1>
  // CHECK: ckks.relinearize
  // CHECK: %[[I:.*]] = ckks.encode complex [0.000000e+00, 1.000000e+00] count 4 : <level = 2, degree = 0>
  // CHECK-NEXT: ckks.mul_plain %{{.*}}, %[[I]] : <level = 2, degree = 1>, <level = 2, degree = 0>
  // SlotToCoeff in one factor, ending at the declared level 1.
  // CHECK: ckks.add %{{.*}}, %{{.*}} : <level = 2, degree = 1>, <level = 2, degree = 1>
  // CHECK: ckks.encode complex [{{.*}}] : <level = 2, degree = 1>
  // CHECK: %[[END:.*]] = ckks.rescale %{{.*}} : <level = 2, degree = 2>
  // CHECK-NEXT: return %[[END]] : !ckks.ct<level = 1, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 3, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  return %0 : !ckks.ct<level = 1, degree = 1>
}
}

// Every op of the expansion lowers: mod_raise to poly.mod_raise of both
// components, the unit encodes at scale 1 ...
// POLY-LABEL: func @sparse
// POLY-COUNT-2: poly.mod_raise %{{.*}} : <Q0, ntt> -> <Q9, ntt>
// POLY: poly.encode complex [0.000000e+00, -1.000000e+00] count 4 degree 0 : <Q9, ntt>
// POLY: poly.encode complex [0.000000e+00, 1.000000e+00] count 4 degree 0 : <Q2, ntt>
// POLY: return %{{.*}}, %{{.*}} : !poly.poly<Q1, ntt>, !poly.poly<Q1, ntt>

// ... and down to limbs: the base limb is kept, primes 1..9 converted.
// RNS-LABEL: func @sparse
// RNS-SAME: -> (!rns.limbs<0 to 1>, !rns.limbs<0 to 1>)
// RNS: %[[C:.*]] = rns.intt %[[X:.*]] : <0>
// RNS-NEXT: %[[B:.*]] = rns.base_convert %[[C]] : <0> -> <1 to 9>
// RNS-NEXT: %[[N:.*]] = rns.ntt %[[B]] : <1 to 9>
// RNS-NEXT: rns.concat %[[X]], %[[N]] : !rns.limbs<0>, !rns.limbs<1 to 9> -> <0 to 9>
// RNS: rns.encode complex [0.000000e+00, -1.000000e+00] count 4 level 9 degree 0 : <0 to 9>
// RNS: rns.encode complex [0.000000e+00, 1.000000e+00] count 4 level 2 degree 0 : <0 to 2>

// -----

// One slot: the trace runs over every rotation step below N/2 (1, 2, 4, 8)
// and CoeffToSlot is a single complex constant, with no rotation.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 1 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
// CHECK-LABEL: func @one_slot
func.func @one_slot(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // CHECK: ckks.level_down %{{.*}} to 0 : <level = 2, degree = 1>
  // Raised to level 0 + the depth 8 only (the chain's top is 9).
  // CHECK-NEXT: %[[R:.*]] = ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 8, degree = 1>
  // CHECK-NEXT: %[[T1:.*]] = ckks.rotate %[[R]] by 1
  // CHECK-NEXT: %[[S1:.*]] = ckks.add %[[R]], %[[T1]]
  // CHECK-NEXT: %[[T2:.*]] = ckks.rotate %[[S1]] by 2
  // CHECK-NEXT: %[[S2:.*]] = ckks.add %[[S1]], %[[T2]]
  // CHECK-NEXT: %[[T3:.*]] = ckks.rotate %[[S2]] by 4
  // CHECK-NEXT: %[[S3:.*]] = ckks.add %[[S2]], %[[T3]]
  // CHECK-NEXT: %[[T4:.*]] = ckks.rotate %[[S3]] by 8
  // CHECK-NEXT: %[[S4:.*]] = ckks.add %[[S3]], %[[T4]]
  // CHECK-NEXT: %[[D:.*]] = ckks.encode complex [{{[^,]*}}, {{[^,]*}}] : <level = 8, degree = 1>
  // CHECK-NEXT: %[[P:.*]] = ckks.mul_plain %[[S4]], %[[D]]
  // CHECK-NEXT: %[[C:.*]] = ckks.conjugate %[[P]] : <level = 8, degree = 2>
  // CHECK: ckks.encode complex [0.000000e+00, -1.000000e+00] count 1 : <level = 8, degree = 0>
  // The expansion ends exactly at the declared level 0: no level_down.
  // CHECK: %[[S:.*]] = ckks.rescale %{{.*}} : <level = 1, degree = 2>
  // CHECK-NEXT: return %[[S]] : !ckks.ct<level = 0, degree = 1>
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}
}
