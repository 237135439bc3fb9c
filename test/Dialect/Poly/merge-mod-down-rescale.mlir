// RUN: cerium-opt %s --poly-merge-mod-down-rescale | FileCheck %s
// Sums of key-switch results are summed over PQ and divided by P once; a
// rescale of (x + mod_down(y)) or of mod_down(y) becomes one division by P
// and the top primes; a ModDown or sum with another use stays as it is.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @merged
// CHECK-SAME: (%[[Y:.*]]: !poly.poly<PQ2, ntt>, %[[X:.*]]: !poly.poly<Q2, ntt>)
func.func @merged(%y: !poly.poly<PQ2, ntt>, %x: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: %[[R:.*]] = poly.mod_down_rescale %[[Y]], %[[X]] : <PQ2, ntt>, !poly.poly<Q2, ntt> -> <Q1, ntt>
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

// Three rotations' results (r_i + mod_down(y_i)) summed, as a linear
// transform's giant steps are: one ModDown of y1 + y2 + y3, merged with the
// rescale, with r1 + r2 + r3 as its addend.
// CHECK-LABEL: func @giant_steps
// CHECK-SAME: (%[[Y1:[^:]*]]: !poly.poly<PQ2, ntt>, %[[Y2:[^:]*]]: !poly.poly<PQ2, ntt>, %[[Y3:[^:]*]]: !poly.poly<PQ2, ntt>, %[[R1:[^:]*]]: !poly.poly<Q2, ntt>, %[[R2:[^:]*]]: !poly.poly<Q2, ntt>, %[[R3:[^:]*]]: !poly.poly<Q2, ntt>)
func.func @giant_steps(%y1: !poly.poly<PQ2, ntt>, %y2: !poly.poly<PQ2, ntt>, %y3: !poly.poly<PQ2, ntt>, %r1: !poly.poly<Q2, ntt>, %r2: !poly.poly<Q2, ntt>, %r3: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK-DAG: %[[Y12:.*]] = poly.add %[[Y1]], %[[Y2]] : <PQ2, ntt>
  // CHECK-DAG: %[[R12:.*]] = poly.add %[[R1]], %[[R2]] : <Q2, ntt>
  // CHECK-DAG: %[[Y:.*]] = poly.add %[[Y12]], %[[Y3]] : <PQ2, ntt>
  // CHECK-DAG: %[[R:.*]] = poly.add %[[R12]], %[[R3]] : <Q2, ntt>
  // CHECK: %[[OUT:.*]] = poly.mod_down_rescale %[[Y]], %[[R]]
  // CHECK-NOT: poly.mod_down %
  // CHECK-NOT: poly.rescale
  // CHECK: return %[[OUT]]
  %d1 = poly.mod_down %y1 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %d2 = poly.mod_down %y2 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %d3 = poly.mod_down %y3 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %t1 = poly.add %r1, %d1 : !poly.poly<Q2, ntt>
  %t2 = poly.add %d2, %r2 : !poly.poly<Q2, ntt>
  %t3 = poly.add %r3, %d3 : !poly.poly<Q2, ntt>
  %s12 = poly.add %t1, %t2 : !poly.poly<Q2, ntt>
  %s = poly.add %s12, %t3 : !poly.poly<Q2, ntt>
  %r = poly.rescale %s : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %r : !poly.poly<Q1, ntt>
}

// The second halves of rotations are ModDowns alone: summed, then one
// division without an addend.
// CHECK-LABEL: func @mod_downs_alone
// CHECK-SAME: (%[[Y1:[^:]*]]: !poly.poly<PQ2, ntt>, %[[Y2:[^:]*]]: !poly.poly<PQ2, ntt>)
func.func @mod_downs_alone(%y1: !poly.poly<PQ2, ntt>, %y2: !poly.poly<PQ2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: %[[Y:.*]] = poly.add %[[Y1]], %[[Y2]] : <PQ2, ntt>
  // CHECK: %[[OUT:.*]] = poly.mod_down_rescale %[[Y]] : <PQ2, ntt> -> <Q1, ntt>
  // CHECK-NOT: poly.mod_down %
  // CHECK: return %[[OUT]]
  %d1 = poly.mod_down %y1 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %d2 = poly.mod_down %y2 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %s = poly.add %d1, %d2 : !poly.poly<Q2, ntt>
  %r = poly.rescale %s : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %r : !poly.poly<Q1, ntt>
}

// A ModDown used twice is kept (its sum would cost a second division).
// CHECK-LABEL: func @shared_mod_down
func.func @shared_mod_down(%y1: !poly.poly<PQ2, ntt>, %y2: !poly.poly<PQ2, ntt>) -> (!poly.poly<Q2, ntt>, !poly.poly<Q2, ntt>) {
  // CHECK: %[[D1:.*]] = poly.mod_down %
  // CHECK: %[[D2:.*]] = poly.mod_down %
  // CHECK: poly.add %[[D1]], %[[D2]] : <Q2, ntt>
  %d1 = poly.mod_down %y1 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %d2 = poly.mod_down %y2 : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  %s = poly.add %d1, %d2 : !poly.poly<Q2, ntt>
  return %s, %d1 : !poly.poly<Q2, ntt>, !poly.poly<Q2, ntt>
}
}
