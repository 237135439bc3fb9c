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

// Vertical fusion moves the producer's reads to the consumer, so the
// producer's dying operands (%e, %f: 8 limbs) stay live until the consumer in
// place of its result (%p: 4 limbs). Limbs live op by op, unfused: 20 (the
// arguments and %e), 20, 20, 20 (%w, %p and %n at the NTT of %w), then 16:
// the peak is 20. Fused, the NTT of %w would see 20 - 4 + 8 = 24: the product
// stays a kernel of its own.
// CHECK-LABEL: func @fusion_would_raise_the_peak
func.func @fusion_would_raise_the_peak(%x: !rns.limbs<0 to 3>, %y: !rns.limbs<0 to 3>, %w: !rns.limbs<0 to 7>) -> !rns.limbs<0 to 3> {
  // CHECK: %[[E:.*]] = rns.ntt
  // CHECK: %[[F:.*]] = rns.ntt
  // CHECK: %[[P:.*]] = rns.kernel(%[[E]], %[[F]]) :
  // CHECK: rns.mul
  // CHECK: %[[N:.*]] = rns.ntt
  // CHECK: %[[S:.*]] = rns.slice %[[N]]
  // CHECK: rns.kernel(%[[P]], %[[S]]) :
  // CHECK-NOT: rns.mul
  // CHECK: rns.add
  %e = rns.ntt %x : !rns.limbs<0 to 3>
  %f = rns.ntt %y : !rns.limbs<0 to 3>
  %p = rns.mul %e, %f : !rns.limbs<0 to 3>
  %n = rns.ntt %w : !rns.limbs<0 to 7>
  %s = rns.slice %n at 0 : !rns.limbs<0 to 7> -> !rns.limbs<0 to 3>
  %q = rns.add %p, %s : !rns.limbs<0 to 3>
  return %q : !rns.limbs<0 to 3>
}

// The same with a 4-limb %w: the peak (16) is at the start, and fused, the
// NTT of %w sees 12 - 4 + 8 = 16: one kernel.
// CHECK-LABEL: func @fusion_within_the_peak
func.func @fusion_within_the_peak(%x: !rns.limbs<0 to 3>, %y: !rns.limbs<0 to 3>, %w: !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  // CHECK: %[[E:.*]] = rns.ntt
  // CHECK: %[[F:.*]] = rns.ntt
  // CHECK-NOT: rns.kernel
  // CHECK: %[[N:.*]] = rns.ntt
  // CHECK: rns.kernel(%[[E]], %[[F]], %[[N]]) :
  // CHECK: rns.mul
  // CHECK: rns.add
  %e = rns.ntt %x : !rns.limbs<0 to 3>
  %f = rns.ntt %y : !rns.limbs<0 to 3>
  %p = rns.mul %e, %f : !rns.limbs<0 to 3>
  %n = rns.ntt %w : !rns.limbs<0 to 3>
  %q = rns.add %p, %n : !rns.limbs<0 to 3>
  return %q : !rns.limbs<0 to 3>
}
