// RUN: cerium-opt %s --rns-fuse-elementwise | FileCheck %s
// Elementwise limb arithmetic moves into kernels: chains fuse vertically,
// adjacent independent kernels over the same limbs fuse horizontally.

// The tensor product of (a0, a1) and (b0, b1): one kernel, four operands
// read once, three results.
// CHECK-LABEL: func @tensor_product
// CHECK-SAME: (%[[A0:.*]]: !rns.limbs<0 to 2>, %[[A1:.*]]: !rns.limbs<0 to 2>, %[[B0:.*]]: !rns.limbs<0 to 2>, %[[B1:.*]]: !rns.limbs<0 to 2>)
func.func @tensor_product(%a0: !rns.limbs<0 to 2>, %a1: !rns.limbs<0 to 2>, %b0: !rns.limbs<0 to 2>, %b1: !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>) {
  // CHECK: %[[K:.*]]:3 = rns.kernel(%[[A0]], %[[B0]], %[[A1]], %[[B1]])
  // CHECK-COUNT-3: rns.mul
  // CHECK: rns.add
  // CHECK: rns.mul
  // CHECK: rns.yield
  // CHECK-NOT: rns.kernel
  // CHECK: return %[[K]]#0, %[[K]]#1, %[[K]]#2
  %d0 = rns.mul %a0, %b0 : !rns.limbs<0 to 2>
  %x = rns.mul %a0, %b1 : !rns.limbs<0 to 2>
  %y = rns.mul %a1, %b0 : !rns.limbs<0 to 2>
  %d1 = rns.add %x, %y : !rns.limbs<0 to 2>
  %d2 = rns.mul %a1, %b1 : !rns.limbs<0 to 2>
  return %d0, %d1, %d2 : !rns.limbs<0 to 2>, !rns.limbs<0 to 2>, !rns.limbs<0 to 2>
}

// A value used twice stays a kernel result; a kernel on other limbs or an
// NTT between kernels stops fusion.
// CHECK-LABEL: func @boundaries
func.func @boundaries(%a: !rns.limbs<0 to 2>, %b: !rns.limbs<0 to 1>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 1>) {
  // CHECK: %[[S:.*]] = rns.kernel(%{{[a-z0-9]+}}) :
  // CHECK: rns.sub
  // CHECK: %[[N:.*]] = rns.ntt %[[S]]
  // CHECK: rns.kernel(%[[N]], %[[S]])
  // CHECK: rns.kernel(%{{.*}}) : (!rns.limbs<0 to 1>)
  %s = rns.sub %a, %a : !rns.limbs<0 to 2>
  %n = rns.ntt %s : !rns.limbs<0 to 2>
  %t = rns.mul %n, %s : !rns.limbs<0 to 2>
  %u = rns.neg %b : !rns.limbs<0 to 1>
  return %t, %u : !rns.limbs<0 to 2>, !rns.limbs<0 to 1>
}
