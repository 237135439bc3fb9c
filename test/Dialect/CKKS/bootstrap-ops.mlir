// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// RUN: cerium-opt %s -mlir-print-op-generic | cerium-opt | FileCheck %s
// The bootstrapping IR round-trips: mod_raise, bootstrap (with its
// iterations) and mul_int, complex
// encodes (values are (re, im) pairs, offset and count count complex
// slots) and degree-0 plaintexts (scale 1: exact integer polynomials such
// as the monomial X^(N/2), which is i in every slot).

!ct0 = !ckks.ct<level = 0, degree = 1>
!ct2 = !ckks.ct<level = 2, degree = 1>
!ct3 = !ckks.ct<level = 3, degree = 1>

// CHECK-LABEL: func @mod_raise
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 7, degree = 1>
func.func @mod_raise(%a: !ct0) -> !ckks.ct<level = 7, degree = 1> {
  // CHECK: %[[R:.*]] = ckks.mod_raise %[[A]] : <level = 0, degree = 1> -> <level = 7, degree = 1>
  // CHECK: return %[[R]]
  %0 = ckks.mod_raise %a : !ct0 -> !ckks.ct<level = 7, degree = 1>
  return %0 : !ckks.ct<level = 7, degree = 1>
}

// CHECK-LABEL: func @mod_raise_one_level
func.func @mod_raise_one_level(%a: !ct0) -> !ckks.ct<level = 1, degree = 1> {
  // The smallest raise.
  // CHECK: ckks.mod_raise %{{.*}} : <level = 0, degree = 1> -> <level = 1, degree = 1>
  %0 = ckks.mod_raise %a : !ct0 -> !ckks.ct<level = 1, degree = 1>
  return %0 : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @bootstrap
// CHECK-SAME: (%[[A:.*]]: !ckks.ct<level = 0, degree = 1>, %[[B:.*]]: !ckks.ct<level = 2, degree = 1>)
func.func @bootstrap(%a: !ct0, %b: !ct2) -> (!ckks.ct<level = 5, degree = 1>, !ct2, !ckks.ct<level = 1, degree = 1>) {
  // From level 0, from a level above 0, to the same level and to a lower
  // one: only the ends' degree and size are constrained.
  // CHECK: %[[X:.*]] = ckks.bootstrap %[[A]] : <level = 0, degree = 1> -> <level = 5, degree = 1>
  // CHECK: %[[Y:.*]] = ckks.bootstrap %[[B]] : <level = 2, degree = 1> -> <level = 2, degree = 1>
  // CHECK: %[[Z:.*]] = ckks.bootstrap %[[B]] : <level = 2, degree = 1> -> <level = 1, degree = 1>
  // CHECK: return %[[X]], %[[Y]], %[[Z]]
  %0 = ckks.bootstrap %a : !ct0 -> !ckks.ct<level = 5, degree = 1>
  %1 = ckks.bootstrap %b : !ct2 -> !ct2
  %2 = ckks.bootstrap %b : !ct2 -> !ckks.ct<level = 1, degree = 1>
  return %0, %1, %2 : !ckks.ct<level = 5, degree = 1>, !ct2, !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @meta_bootstrap
func.func @meta_bootstrap(%a: !ct0) -> (!ct3, !ct0) {
  // Two iterations (meta-bootstrapping), and the exact integer product it
  // expands into: the type is unchanged.
  // CHECK: ckks.bootstrap %{{.*}} {iterations = 2 : i64} : <level = 0, degree = 1> -> <level = 3, degree = 1>
  // CHECK: ckks.mul_int %{{.*}} by 1048576 : <level = 0, degree = 1>
  %0 = ckks.bootstrap %a {iterations = 2} : !ct0 -> !ct3
  %1 = ckks.mul_int %a by 1048576 : !ct0
  return %0, %1 : !ct3, !ct0
}

// CHECK-LABEL: func @bootstrap_then_compute
func.func @bootstrap_then_compute(%a: !ct0) -> !ckks.ct<level = 2, degree = 1> {
  // The refreshed ciphertext is an ordinary level-3 operand.
  // CHECK: %[[R:.*]] = ckks.bootstrap %{{.*}} : <level = 0, degree = 1> -> <level = 3, degree = 1>
  // CHECK: %[[M:.*]] = ckks.mul %[[R]], %[[R]] : <level = 3, degree = 1>, <level = 3, degree = 1>
  // CHECK: ckks.relinearize %[[M]] : <level = 3, degree = 2, size = 3>
  // CHECK: ckks.rescale %{{.*}} : <level = 3, degree = 2>
  %r = ckks.bootstrap %a : !ct0 -> !ct3
  %m = ckks.mul %r, %r : !ct3, !ct3
  %l = ckks.relinearize %m : !ckks.ct<level = 3, degree = 2, size = 3>
  %s = ckks.rescale %l : !ckks.ct<level = 3, degree = 2>
  return %s : !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @complex_encodes
func.func @complex_encodes() {
  // One pair: i in one slot.
  // CHECK: ckks.encode complex [0.000000e+00, 1.000000e+00] : <level = 3, degree = 1>
  %0 = ckks.encode complex [0.0, 1.0] : !ckks.pt<level = 3, degree = 1>
  // Two pairs repeated over 8 complex slots after 2 zero complex slots.
  // CHECK: ckks.encode complex [5.000000e-01, -1.000000e+00, 2.000000e+00, 2.500000e-01] offset 2 count 8 : <level = 3, degree = 1>
  %1 = ckks.encode complex [0.5, -1.0, 2.0, 0.25] offset 2 count 8 : !ckks.pt<level = 3, degree = 1>
  // f32 pairs, offset only.
  // CHECK: ckks.encode complex f32 [1.000000e+00, -1.000000e+00] offset 3 : <level = 2, degree = 2>
  %2 = ckks.encode complex f32 [1.0, -1.0] offset 3 : !ckks.pt<level = 2, degree = 2>
  // One pair over count slots: a period of 1 complex slot divides any count.
  // CHECK: ckks.encode complex f32 [0.000000e+00, -1.000000e+00] count 5 : <level = 1, degree = 1>
  %3 = ckks.encode complex f32 [0.0, -1.0] count 5 : !ckks.pt<level = 1, degree = 1>
  // Without `complex` the same two values are two real slots.
  // CHECK: ckks.encode [0.000000e+00, 1.000000e+00] : <level = 3, degree = 1>
  // CHECK-NOT: complex
  %4 = ckks.encode [0.0, 1.0] : !ckks.pt<level = 3, degree = 1>
  return
}

// CHECK-LABEL: func @times_i
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 3, degree = 1>)
func.func @times_i(%x: !ct3) -> (!ct3, !ckks.ct<level = 3, degree = 2>) {
  // i in every slot at scale 1 (degree 0): the product keeps the
  // ciphertext's degree, so multiplying by i costs no level.
  // CHECK: %[[I:.*]] = ckks.encode complex [0.000000e+00, 1.000000e+00] count 16 : <level = 3, degree = 0>
  // CHECK: %[[P:.*]] = ckks.mul_plain %[[X]], %[[I]] : <level = 3, degree = 1>, <level = 3, degree = 0>
  // CHECK: %[[N:.*]] = ckks.encode complex f32 [0.000000e+00, -1.000000e+00] count 16 : <level = 3, degree = 0>
  // CHECK: %[[Q:.*]] = ckks.mul_plain %[[P]], %[[N]] : <level = 3, degree = 1>, <level = 3, degree = 0>
  // CHECK: ckks.add %[[Q]], %[[X]] : <level = 3, degree = 1>, <level = 3, degree = 1>
  %i = ckks.encode complex [0.0, 1.0] count 16 : !ckks.pt<level = 3, degree = 0>
  %p = ckks.mul_plain %x, %i : !ct3, !ckks.pt<level = 3, degree = 0>
  %ni = ckks.encode complex f32 [0.0, -1.0] count 16 : !ckks.pt<level = 3, degree = 0>
  %q = ckks.mul_plain %p, %ni : !ct3, !ckks.pt<level = 3, degree = 0>
  %s = ckks.add %q, %x : !ct3, !ct3
  // A degree-2 ciphertext times a degree-0 plaintext stays at degree 2.
  // CHECK: %[[D:.*]] = ckks.mul_const %[[X]] by 2.000000e+00 : <level = 3, degree = 1>
  // CHECK: ckks.mul_plain %[[D]], %[[I]] : <level = 3, degree = 2>, <level = 3, degree = 0>
  %d = ckks.mul_const %x by 2.0 : !ct3
  %e = ckks.mul_plain %d, %i : !ckks.ct<level = 3, degree = 2>, !ckks.pt<level = 3, degree = 0>
  return %s, %e : !ct3, !ckks.ct<level = 3, degree = 2>
}

// CHECK-LABEL: func @degree_zero_real
func.func @degree_zero_real(%x: !ct3) -> !ct3 {
  // A real degree-0 plaintext (an exact integer in every slot).
  // CHECK: %[[T:.*]] = ckks.encode f32 [3.000000e+00] count 16 : <level = 3, degree = 0>
  // CHECK: ckks.mul_plain %{{.*}}, %[[T]] : <level = 3, degree = 1>, <level = 3, degree = 0>
  %t = ckks.encode f32 [3.0] count 16 : !ckks.pt<level = 3, degree = 0>
  %y = ckks.mul_plain %x, %t : !ct3, !ckks.pt<level = 3, degree = 0>
  return %y : !ct3
}
