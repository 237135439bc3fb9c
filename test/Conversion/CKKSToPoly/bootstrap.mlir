// RUN: cerium-opt %s --ckks-to-poly | FileCheck %s
// RUN: cerium-opt %s --ckks-to-poly --poly-to-rns | FileCheck %s --check-prefix=RNS
// The ops an expanded bootstrap leaves behind: mod_raise becomes a
// poly.mod_raise of each component, complex and degree-0 encodes keep
// their attributes down to rns.encode. Layout: N = 16, two base primes,
// one prime per level (Q3 = primes 0..4), one special prime (5).

module attributes {ckks.rns = {log_n = 4, base = 2, per_level = 1, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0, 8192.0>}} {
// CHECK-LABEL: func @mod_raise
// CHECK-SAME: (%[[C0:.*]]: !poly.poly<Q0, ntt>, %[[C1:.*]]: !poly.poly<Q0, ntt>)
// CHECK-SAME: -> (!poly.poly<Q3, ntt>, !poly.poly<Q3, ntt>)
// CHECK-SAME: ckks.signature = (!ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 3, degree = 1>
// RNS-LABEL: func @mod_raise
// RNS-SAME: (%[[C0:.*]]: !rns.limbs<0 to 1>, %[[C1:.*]]: !rns.limbs<0 to 1>)
// RNS-SAME: -> (!rns.limbs<0 to 4>, !rns.limbs<0 to 4>)
func.func @mod_raise(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
  // CHECK: %[[R0:.*]] = poly.mod_raise %[[C0]] : <Q0, ntt> -> <Q3, ntt>
  // CHECK: %[[R1:.*]] = poly.mod_raise %[[C1]] : <Q0, ntt> -> <Q3, ntt>
  // CHECK: return %[[R0]], %[[R1]]
  // Each component: the two base limbs stay, the other three are
  // converted from the coefficients and transformed back.
  // RNS: %[[I0:.*]] = rns.intt %[[C0]] : <0 to 1>
  // RNS: %[[B0:.*]] = rns.base_convert %[[I0]] : <0 to 1> -> <2 to 4>
  // RNS: %[[N0:.*]] = rns.ntt %[[B0]] : <2 to 4>
  // RNS: %[[R0:.*]] = rns.concat %[[C0]], %[[N0]] : !rns.limbs<0 to 1>, !rns.limbs<2 to 4> -> <0 to 4>
  // RNS: %[[I1:.*]] = rns.intt %[[C1]] : <0 to 1>
  // RNS: %[[B1:.*]] = rns.base_convert %[[I1]] : <0 to 1> -> <2 to 4>
  // RNS: %[[N1:.*]] = rns.ntt %[[B1]] : <2 to 4>
  // RNS: %[[R1:.*]] = rns.concat %[[C1]], %[[N1]] : !rns.limbs<0 to 1>, !rns.limbs<2 to 4> -> <0 to 4>
  // RNS: return %[[R0]], %[[R1]]
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 3, degree = 1>
  return %0 : !ckks.ct<level = 3, degree = 1>
}

// CHECK-LABEL: func @mod_raise_one_level
// RNS-LABEL: func @mod_raise_one_level
func.func @mod_raise_one_level(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // CHECK-COUNT-2: poly.mod_raise %{{.*}} : <Q0, ntt> -> <Q1, ntt>
  // CHECK-NOT: poly.mod_raise
  // A single converted prime.
  // RNS: rns.base_convert %{{.*}} : <0 to 1> -> <2>
  // RNS: rns.concat %{{.*}}, %{{.*}} : !rns.limbs<0 to 1>, !rns.limbs<2> -> <0 to 2>
  // RNS: rns.base_convert %{{.*}} : <0 to 1> -> <2>
  // RNS: rns.concat %{{.*}}, %{{.*}} : !rns.limbs<0 to 1>, !rns.limbs<2> -> <0 to 2>
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
  return %0 : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @times_i
// CHECK-SAME: (%[[X0:.*]]: !poly.poly<Q3, ntt>, %[[X1:.*]]: !poly.poly<Q3, ntt>)
// RNS-LABEL: func @times_i
func.func @times_i(%x: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
  // A degree-0 complex encode multiplies both components; no rescale.
  // CHECK: %[[I:.*]] = poly.encode complex [0.000000e+00, 1.000000e+00] count 8 degree 0 : <Q3, ntt>
  // CHECK: %[[P0:.*]] = poly.mul %[[X0]], %[[I]] : <Q3, ntt>
  // CHECK: %[[P1:.*]] = poly.mul %[[X1]], %[[I]] : <Q3, ntt>
  // CHECK-NOT: poly.rescale
  // CHECK: return %[[P0]], %[[P1]]
  // RNS: %[[I:.*]] = rns.encode complex [0.000000e+00, 1.000000e+00] count 8 level 3 degree 0 : <0 to 4>
  // RNS: rns.mul %{{.*}}, %[[I]] : !rns.limbs<0 to 4>
  // RNS: rns.mul %{{.*}}, %[[I]] : !rns.limbs<0 to 4>
  %i = ckks.encode complex [0.0, 1.0] count 8 : !ckks.pt<level = 3, degree = 0>
  %0 = ckks.mul_plain %x, %i : !ckks.ct<level = 3, degree = 1>, !ckks.pt<level = 3, degree = 0>
  return %0 : !ckks.ct<level = 3, degree = 1>
}

// CHECK-LABEL: func @complex_diagonal
// RNS-LABEL: func @complex_diagonal
func.func @complex_diagonal(%x: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
  // A degree-1 complex encode (a DFT diagonal) keeps offset and count.
  // CHECK: %[[D:.*]] = poly.encode complex f32 [5.000000e-01, -5.000000e-01, 2.500000e-01, 0.000000e+00] offset 2 count 4 degree 1 : <Q2, ntt>
  // CHECK: poly.mul %{{.*}}, %[[D]] : <Q2, ntt>
  // CHECK: poly.mul %{{.*}}, %[[D]] : <Q2, ntt>
  // CHECK: poly.rescale %{{.*}} : <Q2, ntt> -> <Q1, ntt>
  // RNS: rns.encode complex f32 [5.000000e-01, -5.000000e-01, 2.500000e-01, 0.000000e+00] offset 2 count 4 level 2 degree 1 : <0 to 3>
  %d = ckks.encode complex f32 [0.5, -0.5, 0.25, 0.0] offset 2 count 4 : !ckks.pt<level = 2, degree = 1>
  %0 = ckks.mul_plain %x, %d : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 2, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 2, degree = 2>
  return %1 : !ckks.ct<level = 1, degree = 1>
}
}
