// RUN: cerium-opt %s --poly-merge-mod-down-rescale | FileCheck %s
// A rescale of (x + mod_down(y)) becomes one division by P and the top
// primes; a ModDown or sum with another use stays as it is.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @merged
// CHECK-SAME: (%[[Y:.*]]: !poly.poly<PQ2, ntt>, %[[X:.*]]: !poly.poly<Q2, ntt>)
func.func @merged(%y: !poly.poly<PQ2, ntt>, %x: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: %[[R:.*]] = poly.mod_down_rescale %[[Y]], %[[X]] : <PQ2, ntt>, <Q2, ntt> -> <Q1, ntt>
  // CHECK-NOT: poly.mod_down %
  // CHECK-NOT: poly.rescale
  // CHECK: return %[[R]]
  %d = poly.mod_down %y : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %s = poly.add %d, %x : !poly.poly<Q2, ntt>
  %r = poly.rescale %s : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %r : !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @shared_sum
func.func @shared_sum(%y: !poly.poly<PQ2, ntt>, %x: !poly.poly<Q2, ntt>) -> (!poly.poly<Q1, ntt>, !poly.poly<Q2, ntt>) {
  // CHECK: poly.mod_down %
  // CHECK: poly.rescale
  // CHECK-NOT: poly.mod_down_rescale
  %d = poly.mod_down %y : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %s = poly.add %x, %d : !poly.poly<Q2, ntt>
  %r = poly.rescale %s : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %r, %s : !poly.poly<Q1, ntt>, !poly.poly<Q2, ntt>
}
}
