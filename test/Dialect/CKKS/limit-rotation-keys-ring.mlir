// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-keys=6 | FileCheck %s
// RUN: not cerium-opt %s --ckks-limit-rotation-keys=max-keys=5 2>&1 | FileCheck %s --check-prefix=SMALL
// Rotations by the slot count or more turn the whole ring (a sparse
// bootstrap's trace onto the subring of 16 slots: by 16, 32, ...). Taken
// modulo the slots they vanished, every trace step the identity (128-bit
// programs that bootstrap under a key budget decrypted to garbage); they
// keep their own keys, and the 16 slots' five amounts share what is
// left: four powers of two compose 3 = 1 + 2.

!ct = !ckks.ct<level = 1, degree = 1>

// CHECK-LABEL: func @trace
// CHECK: ckks.rotate %arg0 by 16 :
// CHECK: ckks.rotate %arg0 by 32 :
// CHECK: %[[A:.*]] = ckks.rotate %arg0 by 1
// CHECK: ckks.rotate %[[A]] by 2
// CHECK-NOT: by 3
// SMALL: a budget of 5 rotation keys cannot compose every rotation of 16 slots: it needs at least 6
module attributes {ckks.slots = 16 : i64} {
  func.func @trace(%x: !ct) -> (!ct, !ct, !ct, !ct, !ct, !ct, !ct) {
    %a = ckks.rotate %x by 16 : !ct
    %b = ckks.rotate %x by 32 : !ct
    %c = ckks.rotate %x by 3 : !ct
    %d = ckks.rotate %x by 5 : !ct
    %e = ckks.rotate %x by 6 : !ct
    %f = ckks.rotate %x by 7 : !ct
    %g = ckks.rotate %x by 9 : !ct
    return %a, %b, %c, %d, %e, %f, %g : !ct, !ct, !ct, !ct, !ct, !ct, !ct
  }
}
