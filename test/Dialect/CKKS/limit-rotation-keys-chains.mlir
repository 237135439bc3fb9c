// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-keys=5 | FileCheck %s
// Shortest chains of kept amounts (16 slots, five keys: the powers of two
// 1, 2, 4, 8 and 15, which three rotations use): amounts add modulo the
// slots, so 14 = 15 + 15 and 7 = 8 + 15 wrap around (two steps each, three
// as bits); the rotations of %x share their chains' first steps (3 = 1 + 2
// on the way to 11 = 1 + 2 + 8; 13 = 1 + 4 + 8 from the same 1), the
// repeated 15 of %x is made once, and %y's 15 is its own. Ten rotations
// where power-of-two chains took 26.

!ct = !ckks.ct<level = 1, degree = 1>

// CHECK-LABEL: func @main
// CHECK: %[[X15:.*]] = ckks.rotate %arg0 by 15
// CHECK: %[[X14:.*]] = ckks.rotate %[[X15]] by 15
// CHECK: %[[X1:.*]] = ckks.rotate %arg0 by 1
// CHECK: %[[X5:.*]] = ckks.rotate %[[X1]] by 4
// CHECK: %[[X13:.*]] = ckks.rotate %[[X5]] by 8
// CHECK: %[[X3:.*]] = ckks.rotate %[[X1]] by 2
// CHECK: %[[X11:.*]] = ckks.rotate %[[X3]] by 8
// CHECK: %[[X8:.*]] = ckks.rotate %arg0 by 8
// CHECK: %[[X7:.*]] = ckks.rotate %[[X8]] by 15
// CHECK: %[[Y15:.*]] = ckks.rotate %arg1 by 15
// CHECK-NOT: ckks.rotate
// CHECK: return %[[X15]], %[[X15]], %[[X14]], %[[X13]], %[[X11]], %[[X7]], %[[Y15]], %[[X3]]
module attributes {ckks.slots = 16 : i64} {
  func.func @main(%x: !ct, %y: !ct) -> (!ct, !ct, !ct, !ct, !ct, !ct, !ct, !ct) {
    %a = ckks.rotate %x by 15 : !ct
    %b = ckks.rotate %x by 15 : !ct
    %c = ckks.rotate %x by 14 : !ct
    %d = ckks.rotate %x by 13 : !ct
    %e = ckks.rotate %x by 11 : !ct
    %f = ckks.rotate %x by 7 : !ct
    %g = ckks.rotate %y by 15 : !ct
    %h = ckks.rotate %x by 3 : !ct
    return %a, %b, %c, %d, %e, %f, %g, %h : !ct, !ct, !ct, !ct, !ct, !ct, !ct, !ct
  }
}
