// RUN: split-file %s %t
// RUN: cerium-opt %t/ops.mlir | cerium-opt | FileCheck %t/ops.mlir
// RUN: cerium-opt %t/invalid.mlir -split-input-file -verify-diagnostics
// RUN: cerium-opt %t/relin.mlir --ckks-lazy-relinearize | FileCheck %t/relin.mlir
// RUN: cerium-opt %t/lower.mlir --ckks-to-poly | FileCheck %t/lower.mlir
// RUN: cerium-opt %t/lower.mlir --ckks-to-poly --poly-to-rns | FileCheck %t/lower.mlir --check-prefix=RNS
// Sparse-secret encapsulation: ckks.switch_secret key-switches to the
// ephemeral sparse secret (to_sparse, level 0 only) or back (to_dense), and
// lowers like a rotation without the permutation; poly.key_switch and
// rns.key_switch name the key with `secret`.

//--- ops.mlir
// The poly verifiers read the prime layout (as in lower.mlir).
module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @round_trip
func.func @round_trip(%a: !ckks.ct<level = 0, degree = 1>, %b: !ckks.ct<level = 2, degree = 1>) -> (!ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 2, degree = 1>) {
  // CHECK: ckks.switch_secret %{{.*}} to_sparse : <level = 0, degree = 1>
  %0 = ckks.switch_secret %a to_sparse : !ckks.ct<level = 0, degree = 1>
  // CHECK: ckks.switch_secret %{{.*}} to_dense : <level = 2, degree = 1>
  %1 = ckks.switch_secret %b to_dense : !ckks.ct<level = 2, degree = 1>
  return %0, %1 : !ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @ring_level
func.func @ring_level(%d: !poly.poly<PQ0, ntt>, %e: !rns.limbs<5, 0 to 4>) -> (!poly.poly<PQ0, ntt>, !rns.limbs<5, 0 to 4>) {
  // CHECK: poly.key_switch %{{.*}} secret to_sparse : !poly.poly<PQ0, ntt> -> <PQ0, ntt>
  %b, %a = poly.key_switch %d secret to_sparse : !poly.poly<PQ0, ntt> -> <PQ0, ntt>
  // CHECK: rns.key_switch %{{.*}} secret to_dense : !rns.limbs<5, 0 to 4> -> <5, 0 to 4>
  %c, %f = rns.key_switch %e secret to_dense : !rns.limbs<5, 0 to 4> -> <5, 0 to 4>
  return %b, %c : !poly.poly<PQ0, ntt>, !rns.limbs<5, 0 to 4>
}
}

//--- invalid.mlir
func.func @to_sparse_above_zero(%a: !ckks.ct<level = 1, degree = 1>) {
  // expected-error@+1 {{switch_secret to_sparse needs a level-0 operand (its key exists over [P, Q_0] only), got level 1}}
  %0 = ckks.switch_secret %a to_sparse : !ckks.ct<level = 1, degree = 1>
  return
}

// -----

func.func @unrelinearized(%a: !ckks.ct<level = 3, degree = 2, size = 3>) {
  // expected-error@+1 {{operand must be relinearized (size 2), got size 3}}
  %0 = ckks.switch_secret %a to_dense : !ckks.ct<level = 3, degree = 2, size = 3>
  return
}

// -----

func.func @unknown_key(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{expected string or keyword containing one of the following enum values for attribute 'direction' [to_sparse, to_dense]}}
  %0 = ckks.switch_secret %a to_nowhere : !ckks.ct<level = 0, degree = 1>
  return
}

// -----

func.func @poly_two_keys(%d: !poly.poly<PQ2, ntt>) {
  // expected-error@+1 {{names one key: a Galois element or an encapsulation key, not both}}
  %b, %a = poly.key_switch %d secret to_dense {galois = 5 : i64} : !poly.poly<PQ2, ntt> -> <PQ2, ntt>
  return
}

// -----

func.func @poly_to_sparse_above_zero(%d: !poly.poly<PQ1, ntt>) {
  // expected-error@+1 {{switches to the sparse secret at level 0 only, got level 1}}
  %b, %a = poly.key_switch %d secret to_sparse : !poly.poly<PQ1, ntt> -> <PQ1, ntt>
  return
}

// -----

func.func @rns_two_keys(%d: !rns.limbs<5, 0>) {
  // expected-error@+1 {{names one key: a Galois element or an encapsulation key, not both}}
  %b, %a = rns.key_switch %d secret to_sparse {galois = 5 : i64} : !rns.limbs<5, 0> -> <5, 0>
  return
}

//--- relin.mlir
// The key switch needs a size-2 operand: lazy relinearization keeps the
// relinearization in front of it.
// CHECK-LABEL: func @square_then_switch
func.func @square_then_switch(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 0, degree = 2> {
  // CHECK: %[[M:.*]] = ckks.mul
  // CHECK: %[[R:.*]] = ckks.relinearize %[[M]]
  // CHECK: ckks.switch_secret %[[R]] to_sparse
  %0 = ckks.mul %a, %a : !ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 0, degree = 1>
  %1 = ckks.relinearize %0 : !ckks.ct<level = 0, degree = 2, size = 3>
  %2 = ckks.switch_secret %1 to_sparse : !ckks.ct<level = 0, degree = 2>
  return %2 : !ckks.ct<level = 0, degree = 2>
}

//--- lower.mlir
// Layout: N = 16, one base prime (id 0), two primes per level (Q2 = ids 0
// to 4), one special prime (id 5), digits of two primes: one digit at
// level 0, three at level 2.
module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @to_sparse
// CHECK-SAME: (%[[C0:.*]]: !poly.poly<Q0, ntt>, %[[C1:.*]]: !poly.poly<Q0, ntt>)
// RNS-LABEL: func @to_sparse
func.func @to_sparse(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
  // No automorphism: raise c1, switch with the s -> s' key, add c0.
  // CHECK-NOT: poly.automorph
  // CHECK: %[[I:.*]] = poly.intt %[[C1]] : <Q0, ntt> -> <Q0, coeff>
  // CHECK: %[[U:.*]] = poly.mod_up %[[C1]], %[[I]] digit 0 : <Q0, ntt>, <Q0, coeff> -> <PQ0, ntt>
  // CHECK: %[[KB:.*]], %[[KA:.*]] = poly.key_switch %[[U]] secret to_sparse : !poly.poly<PQ0, ntt> -> <PQ0, ntt>
  // CHECK: %[[MB:.*]] = poly.mod_down %[[KB]] : <PQ0, ntt> -> <Q0, ntt>
  // CHECK: %[[MA:.*]] = poly.mod_down %[[KA]] : <PQ0, ntt> -> <Q0, ntt>
  // CHECK: %[[R0:.*]] = poly.add %[[C0]], %[[MB]]
  // CHECK: return %[[R0]], %[[MA]]
  // The key switch runs over [P, Q_0]: the special prime, then q_0.
  // RNS-NOT: rns.automorph
  // RNS: rns.key_switch %{{.*}} secret to_sparse : !rns.limbs<5, 0> -> <5, 0>
  %0 = ckks.switch_secret %a to_sparse : !ckks.ct<level = 0, degree = 1>
  return %0 : !ckks.ct<level = 0, degree = 1>
}

// CHECK-LABEL: func @to_dense
// CHECK-SAME: (%[[C0:.*]]: !poly.poly<Q2, ntt>, %[[C1:.*]]: !poly.poly<Q2, ntt>)
// RNS-LABEL: func @to_dense
func.func @to_dense(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
  // CHECK-NOT: poly.automorph
  // CHECK: %[[I:.*]] = poly.intt %[[C1]] : <Q2, ntt> -> <Q2, coeff>
  // CHECK: %[[U0:.*]] = poly.mod_up %[[C1]], %[[I]] digit 0
  // CHECK: %[[U1:.*]] = poly.mod_up %[[C1]], %[[I]] digit 1
  // CHECK: %[[U2:.*]] = poly.mod_up %[[C1]], %[[I]] digit 2
  // CHECK: %[[KB:.*]], %[[KA:.*]] = poly.key_switch %[[U0]], %[[U1]], %[[U2]] secret to_dense :
  // CHECK: %[[MB:.*]] = poly.mod_down %[[KB]] : <PQ2, ntt> -> <Q2, ntt>
  // CHECK: %[[MA:.*]] = poly.mod_down %[[KA]] : <PQ2, ntt> -> <Q2, ntt>
  // CHECK: %[[R0:.*]] = poly.add %[[C0]], %[[MB]]
  // CHECK: return %[[R0]], %[[MA]]
  // RNS-NOT: rns.automorph
  // RNS: rns.key_switch %{{.*}}, %{{.*}}, %{{.*}} secret to_dense : !rns.limbs<5, 0 to 4>, !rns.limbs<5, 0 to 4>, !rns.limbs<5, 0 to 4> -> <5, 0 to 4>
  %0 = ckks.switch_secret %a to_dense : !ckks.ct<level = 2, degree = 1>
  return %0 : !ckks.ct<level = 2, degree = 1>
}
}
