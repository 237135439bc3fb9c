// RUN: cerium-opt %s --pass-pipeline='builtin.module(func.func(ckks-lazy-relinearize))' | FileCheck %s
// A sum of two products pays one relinearization, after the rescales, just
// before the rotation that needs it; a returned product is relinearized.

!ct = !ckks.ct<level = 2, degree = 1>

// CHECK-LABEL: func @sum_of_products
func.func @sum_of_products(%a: !ct, %b: !ct, %c: !ct) -> !ckks.ct<level = 1, degree = 1> {
  // CHECK: %[[P:.*]] = ckks.mul
  // CHECK-NEXT: %[[RP:.*]] = ckks.rescale %[[P]] : <level = 2, degree = 2, size = 3>
  %p = ckks.mul %a, %b : !ct, !ct
  %p2 = ckks.relinearize %p : !ckks.ct<level = 2, degree = 2, size = 3>
  %rp = ckks.rescale %p2 : !ckks.ct<level = 2, degree = 2>
  // CHECK: %[[Q:.*]] = ckks.mul
  // CHECK-NEXT: %[[RQ:.*]] = ckks.rescale %[[Q]]
  %q = ckks.mul %b, %c : !ct, !ct
  %q2 = ckks.relinearize %q : !ckks.ct<level = 2, degree = 2, size = 3>
  %rq = ckks.rescale %q2 : !ckks.ct<level = 2, degree = 2>
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[RP]], %[[RQ]] : <level = 1, degree = 1, size = 3>, <level = 1, degree = 1, size = 3>
  %s = ckks.add %rp, %rq : !ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>
  // CHECK-NEXT: %[[R:.*]] = ckks.relinearize %[[S]]
  // CHECK-NEXT: ckks.rotate %[[R]] by 1
  // CHECK-NOT: ckks.relinearize
  %t = ckks.rotate %s by 1 : !ckks.ct<level = 1, degree = 1>
  %u = ckks.add %t, %s : !ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>
  return %u : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @returned
func.func @returned(%a: !ct) -> !ckks.ct<level = 2, degree = 2> {
  // CHECK: %[[P:.*]] = ckks.mul
  // CHECK-NEXT: %[[R:.*]] = ckks.relinearize %[[P]]
  // CHECK-NEXT: return %[[R]]
  %p = ckks.mul %a, %a : !ct, !ct
  %r = ckks.relinearize %p : !ckks.ct<level = 2, degree = 2, size = 3>
  return %r : !ckks.ct<level = 2, degree = 2>
}
