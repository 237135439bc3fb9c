// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// RUN: cerium-opt %s -mlir-print-op-generic | cerium-opt | FileCheck %s
// The poly side of bootstrapping round-trips: mod_raise (the centered lift
// from Q_0 to Q_l) and complex encodes (pairs; offset and count count
// complex slots), including scale-1 (degree 0) ones.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
// CHECK-LABEL: func @mod_raise
// CHECK-SAME: (%[[A:.*]]: !poly.poly<Q0, ntt>) -> (!poly.poly<Q2, ntt>, !poly.poly<Q1, ntt>)
func.func @mod_raise(%a: !poly.poly<Q0, ntt>) -> (!poly.poly<Q2, ntt>, !poly.poly<Q1, ntt>) {
  // CHECK: %[[R2:.*]] = poly.mod_raise %[[A]] : <Q0, ntt> -> <Q2, ntt>
  // CHECK: %[[R1:.*]] = poly.mod_raise %[[A]] : <Q0, ntt> -> <Q1, ntt>
  // CHECK: return %[[R2]], %[[R1]]
  %0 = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<Q2, ntt>
  %1 = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<Q1, ntt>
  return %0, %1 : !poly.poly<Q2, ntt>, !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @raise_then_rescale
func.func @raise_then_rescale(%a: !poly.poly<Q0, ntt>) -> !poly.poly<Q1, ntt> {
  // The raised polynomial is an ordinary Q2 operand.
  // CHECK: %[[R:.*]] = poly.mod_raise %{{.*}} : <Q0, ntt> -> <Q2, ntt>
  // CHECK: %[[M:.*]] = poly.mul %[[R]], %[[R]] : <Q2, ntt>
  // CHECK: poly.rescale %[[M]] : <Q2, ntt> -> <Q1, ntt>
  %r = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<Q2, ntt>
  %m = poly.mul %r, %r : !poly.poly<Q2, ntt>
  %s = poly.rescale %m : !poly.poly<Q2, ntt> -> !poly.poly<Q1, ntt>
  return %s : !poly.poly<Q1, ntt>
}

// CHECK-LABEL: func @complex_encodes
func.func @complex_encodes() {
  // CHECK: poly.encode complex [0.000000e+00, 1.000000e+00] count 8 degree 0 : <Q2, ntt>
  %0 = poly.encode complex [0.0, 1.0] count 8 degree 0 : !poly.poly<Q2, ntt>
  // CHECK: poly.encode complex f32 [5.000000e-01, -2.500000e-01, 1.000000e+00, 0.000000e+00] offset 2 count 4 degree 1 : <Q1, ntt>
  %1 = poly.encode complex f32 [0.5, -0.25, 1.0, 0.0] offset 2 count 4 degree 1 : !poly.poly<Q1, ntt>
  // CHECK: poly.encode complex [1.000000e-01, 2.000000e-01] degree 2 : <Q0, ntt>
  %2 = poly.encode complex [0.1, 0.2] degree 2 : !poly.poly<Q0, ntt>
  // A real degree-0 encode.
  // CHECK: poly.encode f32 [2.000000e+00] degree 0 : <Q2, ntt>
  %3 = poly.encode f32 [2.0] degree 0 : !poly.poly<Q2, ntt>
  return
}
}
