// RUN: cerium-opt %s --ckks-to-poly | FileCheck %s
// RUN: cerium-opt %s --ckks-to-poly --cse | FileCheck %s --check-prefix=HOIST
// Ciphertexts become their polynomials; key switching, rescaling and
// constants become ring operations. Layout: N = 16, one base prime, two
// primes per level, one special prime, digits of two primes.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @mul_relin_rescale
// CHECK-SAME: (%[[A0:.*]]: !poly.poly<Q2, ntt>, %[[A1:.*]]: !poly.poly<Q2, ntt>, %[[B0:.*]]: !poly.poly<Q2, ntt>, %[[B1:.*]]: !poly.poly<Q2, ntt>)
// CHECK-SAME: -> (!poly.poly<Q1, ntt>, !poly.poly<Q1, ntt>)
// CHECK-SAME: ckks.signature = (!ckks.ct<level = 2, degree = 1>, !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 1, degree = 1>
func.func @mul_relin_rescale(%a: !ckks.ct<level = 2, degree = 1>, %b: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // Tensor product.
  // CHECK-DAG: %[[D0:.*]] = poly.mul %[[A0]], %[[B0]]
  // CHECK-DAG: %[[X:.*]] = poly.mul %[[A0]], %[[B1]]
  // CHECK-DAG: %[[Y:.*]] = poly.mul %[[A1]], %[[B0]]
  // CHECK-DAG: %[[D1:.*]] = poly.add %[[X]], %[[Y]]
  // CHECK-DAG: %[[D2:.*]] = poly.mul %[[A1]], %[[B1]]
  // One inverse NTT, a ModUp per digit (5 primes, digits of 2: 3 digits).
  // CHECK: %[[C:.*]] = poly.intt %[[D2]] : <Q2, ntt> -> <Q2, coeff>
  // CHECK: %[[U0:.*]] = poly.mod_up %[[D2]], %[[C]] digit 0
  // CHECK: %[[U1:.*]] = poly.mod_up %[[D2]], %[[C]] digit 1
  // CHECK: %[[U2:.*]] = poly.mod_up %[[D2]], %[[C]] digit 2
  // CHECK: %[[KB:.*]], %[[KA:.*]] = poly.key_switch %[[U0]], %[[U1]], %[[U2]] :
  // CHECK-NOT: galois
  // CHECK: %[[MB:.*]] = poly.mod_down %[[KB]]
  // CHECK: %[[MA:.*]] = poly.mod_down %[[KA]]
  // CHECK: %[[R0:.*]] = poly.add %[[D0]], %[[MB]]
  // CHECK: %[[R1:.*]] = poly.add %[[D1]], %[[MA]]
  // CHECK: %[[S0:.*]] = poly.rescale %[[R0]] : <Q2, ntt> -> <Q1, ntt>
  // CHECK: %[[S1:.*]] = poly.rescale %[[R1]]
  // CHECK: return %[[S0]], %[[S1]]
  %m = ckks.mul %a, %b : !ckks.ct<level = 2, degree = 1>, !ckks.ct<level = 2, degree = 1>
  %r = ckks.relinearize %m : !ckks.ct<level = 2, degree = 2, size = 3>
  %s = ckks.rescale %r : !ckks.ct<level = 2, degree = 2>
  return %s : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @rotate_conjugate
func.func @rotate_conjugate(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // Rotation by 1 on N = 16: Galois element 5. c0 and c1 are permuted, c1
  // raised (3 primes, 2 digits) and key-switched.
  // CHECK: %[[P0:.*]] = poly.automorph %{{.*}} by 5 : <Q1, ntt>
  // CHECK: %[[P1:.*]] = poly.automorph %{{.*}} by 5 : <Q1, ntt>
  // CHECK: poly.intt %[[P1]]
  // CHECK: %[[U0:.*]] = poly.mod_up %[[P1]]
  // CHECK: %[[U1:.*]] = poly.mod_up %[[P1]]
  // CHECK: poly.key_switch %[[U0]], %[[U1]] {galois = 5 : i64}
  // CHECK: %[[K0:.*]] = poly.mod_down
  // CHECK: poly.add %[[P0]], %[[K0]]
  %0 = ckks.rotate %a by 1 : !ckks.ct<level = 1, degree = 1>
  // Conjugation: X -> X^(2N-1).
  // CHECK: poly.automorph %{{.*}} by 31
  // CHECK: poly.key_switch {{.*}} {galois = 31 : i64}
  %1 = ckks.conjugate %0 : !ckks.ct<level = 1, degree = 1>
  // A rotation by N/2 is the identity: nothing is emitted.
  // CHECK-NOT: poly.automorph
  %2 = ckks.rotate %1 by 8 : !ckks.ct<level = 1, degree = 1>
  return %2 : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @constants
func.func @constants(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 2, degree = 2> {
  // mul_const multiplies by round(0.5 * Delta_2) = 2048.
  // CHECK: poly.mul_int %{{.*}} by 2048
  // CHECK: poly.mul_int %{{.*}} by 2048
  %0 = ckks.mul_const %a by 0.5 : !ckks.ct<level = 2, degree = 1>
  // 1e18 Delta_2 = 4.096e21 is past 62 bits: k = ceil(4.096e21 / 2^61) =
  // 1777 times round(4.096e21 / 1777), two integer products per polynomial.
  // CHECK: %[[B0:.*]] = poly.mul_int %{{.*}} by 2305008441193021952
  // CHECK-NEXT: poly.mul_int %[[B0]] by 1777
  %big = ckks.mul_const %a by 1.0e18 : !ckks.ct<level = 2, degree = 1>
  // CHECK: %[[W:.*]] = poly.encode [1.000000e+00, 2.000000e+00] degree 1 : <Q2, ntt>
  // CHECK: poly.mul %{{.*}}, %[[W]]
  // CHECK: poly.mul %{{.*}}, %[[W]]
  %w = ckks.encode [1.0, 2.0] : !ckks.pt<level = 2, degree = 1>
  %1 = ckks.mul_plain %a, %w : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 2, degree = 1>
  // add_plain touches c0 only; sub negates nothing when sizes agree.
  // CHECK: poly.encode [3.000000e+00] degree 2
  // CHECK: poly.add
  // CHECK: poly.sub
  // CHECK: poly.sub
  %v = ckks.encode [3.0] : !ckks.pt<level = 2, degree = 2>
  %2 = ckks.add_plain %1, %v : !ckks.ct<level = 2, degree = 2>, !ckks.pt<level = 2, degree = 2>
  %3 = ckks.sub %2, %0 : !ckks.ct<level = 2, degree = 2>, !ckks.ct<level = 2, degree = 2>
  return %3 : !ckks.ct<level = 2, degree = 2>
}

// CHECK-LABEL: func @level_down
func.func @level_down(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // To level 0: drop to level 1, multiply by round(Delta_0 q_1 q_2 /
  // Delta_2) = round(1024 * 193 * 257 / 4096) = 12400, rescale.
  // CHECK: poly.drop %{{.*}} : <Q2, ntt> -> <Q1, ntt>
  // CHECK: poly.mul_int %{{.*}} by 12400 : <Q1, ntt>
  // CHECK: poly.rescale %{{.*}} : <Q1, ntt> -> <Q0, ntt>
  %0 = ckks.level_down %a to 0 : !ckks.ct<level = 2, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}

// Two rotations of one ciphertext share its inverse NTT and ModUp; each
// permutes the raised digits.
// HOIST-LABEL: func @hoisted
// HOIST: poly.intt
// HOIST-NOT: poly.intt
// HOIST-COUNT-2: poly.mod_up
// HOIST-NOT: poly.mod_up
// HOIST: poly.automorph %{{.*}} by 5 : <PQ1, ntt>
// HOIST: poly.automorph %{{.*}} by 25 : <PQ1, ntt>
// HOIST: return
func.func @hoisted(%a: !ckks.ct<level = 1, degree = 1>) -> (!ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>) {
  %0 = ckks.rotate %a by 1 : !ckks.ct<level = 1, degree = 1>
  %1 = ckks.rotate %a by 2 : !ckks.ct<level = 1, degree = 1>
  return %0, %1 : !ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>
}
}
