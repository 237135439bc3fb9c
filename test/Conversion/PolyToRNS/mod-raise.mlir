// RUN: cerium-opt %s --poly-to-rns | FileCheck %s
// RUN: cerium-opt %s --poly-to-rns | cerium-opt | FileCheck %s
// ModRaise keeps the base limbs and fills the others from the centered
// coefficients: intt of the base limbs, base_convert to the other primes,
// ntt, concat. Complex and degree-0 encodes keep their attributes.
// Layout: one base prime, two primes per level (Q: 0..4), P: 5.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @mod_raise
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<0>) -> !rns.limbs<0 to 4>
func.func @mod_raise(%x: !poly.poly<Q0, ntt>) -> !poly.poly<Q2, ntt> {
  // CHECK: %[[C:.*]] = rns.intt %[[X]] : <0>
  // CHECK: %[[V:.*]] = rns.base_convert %[[C]] : <0> -> <1 to 4>
  // CHECK: %[[N:.*]] = rns.ntt %[[V]] : <1 to 4>
  // CHECK: %[[R:.*]] = rns.concat %[[X]], %[[N]] : !rns.limbs<0>, !rns.limbs<1 to 4> -> <0 to 4>
  // CHECK: return %[[R]] : !rns.limbs<0 to 4>
  %0 = poly.mod_raise %x : !poly.poly<Q0, ntt> -> !poly.poly<Q2, ntt>
  return %0 : !poly.poly<Q2, ntt>
}

// CHECK-LABEL: func @mod_raise_level1
// CHECK-SAME: (%[[X:.*]]: !rns.limbs<0>) -> !rns.limbs<0 to 2>
func.func @mod_raise_level1(%x: !poly.poly<Q0, ntt>) -> !poly.poly<Q1, ntt> {
  // Only Q primes are targets: the special prime 5 is not.
  // CHECK: %[[C:.*]] = rns.intt %[[X]] : <0>
  // CHECK: %[[V:.*]] = rns.base_convert %[[C]] : <0> -> <1 to 2>
  // CHECK: %[[N:.*]] = rns.ntt %[[V]] : <1 to 2>
  // CHECK: rns.concat %[[X]], %[[N]] : !rns.limbs<0>, !rns.limbs<1 to 2> -> <0 to 2>
  // CHECK: return
  %0 = poly.mod_raise %x : !poly.poly<Q0, ntt> -> !poly.poly<Q1, ntt>
  return %0 : !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @raise_and_multiply_by_i
func.func @raise_and_multiply_by_i(%x: !poly.poly<Q0, ntt>) -> !poly.poly<Q2, ntt> {
  // CHECK: %[[R:.*]] = rns.concat
  // CHECK: %[[I:.*]] = rns.encode complex [0.000000e+00, 1.000000e+00] count 8 level 2 degree 0 : <0 to 4>
  // CHECK: rns.mul %[[R]], %[[I]] : !rns.limbs<0 to 4>
  // CHECK: %[[D:.*]] = rns.encode complex f32 [1.000000e+00, 2.000000e+00] offset 3 count 2 level 2 degree 1 : <0 to 4>
  // CHECK: rns.mul %{{.*}}, %[[D]] : !rns.limbs<0 to 4>
  %r = poly.mod_raise %x : !poly.poly<Q0, ntt> -> !poly.poly<Q2, ntt>
  %i = poly.encode complex [0.0, 1.0] count 8 degree 0 : !poly.poly<Q2, ntt>
  %m = poly.mul %r, %i : !poly.poly<Q2, ntt>
  %d = poly.encode complex f32 [1.0, 2.0] offset 3 count 2 degree 1 : !poly.poly<Q2, ntt>
  %n = poly.mul %m, %d : !poly.poly<Q2, ntt>
  return %n : !poly.poly<Q2, ntt>
}
}
