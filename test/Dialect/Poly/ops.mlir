// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// Every poly op parses, verifies and prints back.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @ring_ops
func.func @ring_ops(%a: !poly.poly<Q2, ntt>, %b: !poly.poly<Q2, ntt>) -> !poly.poly<Q1, ntt> {
  // CHECK: poly.add %{{.*}}, %{{.*}} : <Q2, ntt>
  %0 = poly.add %a, %b : !poly.poly<Q2, ntt>
  // CHECK: poly.sub
  %1 = poly.sub %0, %b : !poly.poly<Q2, ntt>
  // CHECK: poly.mul
  %2 = poly.mul %1, %a : !poly.poly<Q2, ntt>
  // CHECK: poly.neg
  %3 = poly.neg %2 : !poly.poly<Q2, ntt>
  // CHECK: poly.mul_int %{{.*}} by -7 : <Q2, ntt>
  %4 = poly.mul_int %3 by -7 : !poly.poly<Q2, ntt>
  // CHECK: poly.intt %{{.*}} : <Q2, ntt> -> <Q2, coeff>
  %c = poly.intt %4 : !poly.poly<Q2, ntt> -> !poly.poly<Q2, coeff>
  // CHECK: poly.ntt %{{.*}} : <Q2, coeff> -> <Q2, ntt>
  %n = poly.ntt %c : !poly.poly<Q2, coeff> -> !poly.poly<Q2, ntt>
  // CHECK: poly.mod_up %{{.*}}, %{{.*}} digit 1 : <Q2, ntt>, <Q2, coeff> -> <PQ2, ntt>
  %u0 = poly.mod_up %n, %c digit 0 : !poly.poly<Q2, ntt>, !poly.poly<Q2, coeff> -> !poly.poly<PQ2, ntt>
  %u1 = poly.mod_up %n, %c digit 1 : !poly.poly<Q2, ntt>, !poly.poly<Q2, coeff> -> !poly.poly<PQ2, ntt>
  %u2 = poly.mod_up %n, %c digit 2 : !poly.poly<Q2, ntt>, !poly.poly<Q2, coeff> -> !poly.poly<PQ2, ntt>
  // CHECK: poly.key_switch {{.*}} {galois = 5 : i64}
  %kb, %ka = poly.key_switch %u0, %u1, %u2 {galois = 5} : !poly.poly<PQ2, ntt>, !poly.poly<PQ2, ntt>, !poly.poly<PQ2, ntt> -> !poly.poly<PQ2, ntt>
  // CHECK: poly.mod_down %{{.*}} : <PQ2, ntt> -> <Q2, ntt>
  %d = poly.mod_down %kb : !poly.poly<PQ2, ntt> -> !poly.poly<Q2, ntt>
  // CHECK: poly.automorph %{{.*}} by 5 : <Q2, ntt>
  %r = poly.automorph %d by 5 : !poly.poly<Q2, ntt>
  // CHECK: poly.rescale %{{.*}} : <Q2, ntt> -> <Q1, ntt>
  %s = poly.rescale %r : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  // CHECK: poly.encode [1.000000e+00, -2.000000e+00] degree 1 : <Q1, ntt>
  %e = poly.encode [1.0, -2.0] degree 1 : !poly.poly<Q1, ntt>
  // CHECK: poly.encode f32 [1.000000e+00, -2.000000e+00] offset 1 count 4 degree 2 : <Q1, ntt>
  %e2 = poly.encode f32 [1.0, -2.0] offset 1 count 4 degree 2 : !poly.poly<Q1, ntt>
  %t = poly.add %s, %e : !poly.poly<Q1, ntt>
  // CHECK: poly.drop %{{.*}} : <Q1, ntt> -> <Q0, ntt>
  %x = poly.drop %t : !poly.poly<Q1, ntt> -> !poly.poly<Q0, ntt>
  return %t : !poly.poly<Q1, ntt>
}
}
