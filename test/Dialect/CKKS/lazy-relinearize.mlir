// RUN: cerium-opt %s --pass-pipeline='builtin.module(func.func(ckks-lazy-relinearize))' | FileCheck %s
// A sum of products taken before the rescale pays one relinearization; a
// relinearized value is shared by its later uses.

!ct = !ckks.ct<level = 2, degree = 1>

// CHECK-LABEL: func @sum_of_products
func.func @sum_of_products(%a: !ct, %b: !ct, %c: !ct) -> !ckks.ct<level = 1, degree = 1> {
  // CHECK: %[[P:.*]] = ckks.mul
  // CHECK-NEXT: %[[Q:.*]] = ckks.mul
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[P]], %[[Q]] : <level = 2, degree = 2, size = 3>, <level = 2, degree = 2, size = 3>
  // CHECK-NEXT: %[[R:.*]] = ckks.relinearize %[[S]]
  // CHECK-NEXT: %[[D:.*]] = ckks.rescale %[[R]] : <level = 2, degree = 2>
  %p = ckks.mul %a, %b : !ct, !ct
  %p2 = ckks.relinearize %p : !ckks.ct<level = 2, degree = 2, size = 3>
  %q = ckks.mul %b, %c : !ct, !ct
  %q2 = ckks.relinearize %q : !ckks.ct<level = 2, degree = 2, size = 3>
  %s = ckks.add %p2, %q2 : !ckks.ct<level = 2, degree = 2>, !ckks.ct<level = 2, degree = 2>
  %d = ckks.rescale %s : !ckks.ct<level = 2, degree = 2>
  // CHECK-NEXT: ckks.rotate %[[D]] by 1
  // CHECK-NOT: ckks.relinearize
  %t = ckks.rotate %d by 1 : !ckks.ct<level = 1, degree = 1>
  %u = ckks.add %t, %d : !ckks.ct<level = 1, degree = 1>, !ckks.ct<level = 1, degree = 1>
  return %u : !ckks.ct<level = 1, degree = 1>
}

// CHECK-LABEL: func @shared
func.func @shared(%a: !ct) -> !ckks.ct<level = 2, degree = 2> {
  // The rotation needs the relinearized product; the later add reuses it.
  // CHECK: %[[P:.*]] = ckks.mul
  // CHECK-NEXT: %[[R:.*]] = ckks.relinearize %[[P]]
  // CHECK-NEXT: %[[T:.*]] = ckks.rotate %[[R]] by 2
  // CHECK-NEXT: %[[S:.*]] = ckks.add %[[T]], %[[R]] : <level = 2, degree = 2>, <level = 2, degree = 2>
  // CHECK-NEXT: return %[[S]]
  %p = ckks.mul %a, %a : !ct, !ct
  %r = ckks.relinearize %p : !ckks.ct<level = 2, degree = 2, size = 3>
  %t = ckks.rotate %r by 2 : !ckks.ct<level = 2, degree = 2>
  %s = ckks.add %t, %r : !ckks.ct<level = 2, degree = 2>, !ckks.ct<level = 2, degree = 2>
  return %s : !ckks.ct<level = 2, degree = 2>
}
