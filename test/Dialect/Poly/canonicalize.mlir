// RUN: cerium-opt %s -canonicalize | FileCheck %s
// Folders: a product by 1 and an NTT round trip disappear.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @identities
// CHECK-SAME: (%[[A:.*]]: !poly.poly<Q2, ntt>)
func.func @identities(%a: !poly.poly<Q2, ntt>) -> !poly.poly<Q2, ntt> {
  // CHECK-NOT: poly.{{[a-z_]+}} %
  // CHECK: return %[[A]]
  %0 = poly.mul_int %a by 1 : !poly.poly<Q2, ntt>
  %1 = poly.intt %0 : !poly.poly<Q2, ntt> -> !poly.poly<Q2, coeff>
  %2 = poly.ntt %1 : !poly.poly<Q2, coeff> -> !poly.poly<Q2, ntt>
  return %2 : !poly.poly<Q2, ntt>
}

// CHECK-LABEL: func @kept
func.func @kept(%a: !poly.poly<Q2, ntt>) -> !poly.poly<Q2, ntt> {
  // CHECK: poly.mul_int %{{.*}} by 3
  %0 = poly.mul_int %a by 3 : !poly.poly<Q2, ntt>
  return %0 : !poly.poly<Q2, ntt>
}
}
