// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-keys=4 | FileCheck %s
// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-keys=5 | FileCheck %s --check-prefix=FIVE
// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-keys=6 | FileCheck %s --check-prefix=FITS
// RUN: not cerium-opt %s --ckks-limit-rotation-keys=max-keys=3 2>&1 | FileCheck %s --check-prefix=SMALL
// RUN: not cerium-opt %s --ckks-limit-rotation-keys=max-key-bytes=1 2>&1 | FileCheck %s --check-prefix=NOLAYOUT
// 16 slots and six distinct amounts. The powers of two 1, 2, 4, 8 compose
// any rotation: with four keys every other amount becomes a shortest chain
// of kept amounts, and the rotations of one ciphertext share their chains'
// prefixes (3 = 1 + 2 on the way to 7 = 1 + 2 + 4; 5 = 1 + 4 and 9 = 1 + 8
// from the same 1) and repeated amounts their results (the second 7): 8
// rotations where one chain per rotation took 15. A fifth key goes to the
// amount whose own key saves the most key switches: 7 (two uses, two saved
// each; the two are then one). Six keys fit as written.

!ct = !ckks.ct<level = 1, degree = 1>

// CHECK-LABEL: func @main
// CHECK: %[[A:.*]] = ckks.rotate %arg0 by 1
// CHECK: %[[B:.*]] = ckks.rotate %[[A]] by 2
// CHECK: %[[C:.*]] = ckks.rotate %[[B]] by 4
// CHECK: %[[D:.*]] = ckks.rotate %[[A]] by 4
// CHECK: %[[E:.*]] = ckks.rotate %arg0 by 2
// CHECK: %[[F:.*]] = ckks.rotate %[[E]] by 4
// CHECK: %[[G:.*]] = ckks.rotate %[[A]] by 8
// CHECK: %[[H:.*]] = ckks.rotate %arg0 by 4
// CHECK-NOT: ckks.rotate
// CHECK: return %[[C]], %[[B]], %[[C]], %[[D]], %[[F]], %[[G]], %[[H]]
// FIVE: ckks.rotate %arg0 by 7
// FIVE-NOT: ckks.rotate %arg0 by 7
// FIVE-NOT: by 9
// FITS-COUNT-2: ckks.rotate %arg0 by 7
// FITS: ckks.rotate %arg0 by 9
// NOLAYOUT: ckks-limit-rotation-keys: a byte budget needs the prime layout (ckks.rns)
// SMALL: a budget of 3 rotation keys cannot compose every rotation of 16 slots: it needs at least 4
module attributes {ckks.slots = 16 : i64} {
  func.func @main(%x: !ct) -> (!ct, !ct, !ct, !ct, !ct, !ct, !ct) {
    %a = ckks.rotate %x by 7 : !ct
    %b = ckks.rotate %x by 3 : !ct
    %c = ckks.rotate %x by 7 : !ct
    %d = ckks.rotate %x by 5 : !ct
    %e = ckks.rotate %x by 6 : !ct
    %f = ckks.rotate %x by 9 : !ct
    %g = ckks.rotate %x by 4 : !ct
    return %a, %b, %c, %d, %e, %f, %g : !ct, !ct, !ct, !ct, !ct, !ct, !ct
  }
}
