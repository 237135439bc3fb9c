// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-key-bytes=20971520 | FileCheck %s
// RUN: cerium-opt %s --ckks-limit-rotation-keys=max-key-bytes=27262976 | FileCheck %s --check-prefix=FITS
// RUN: not cerium-opt %s --ckks-limit-rotation-keys=max-key-bytes=17825792 2>&1 | FileCheck %s --check-prefix=SMALL
// A byte budget prices each key by the highest level its rotations run
// at: N = 2^16, one prime per level and one P prime, digits of one prime,
// so a key over [P, Q_l] is (l + 1) digits x 2 halves x (l + 2) limbs of
// 256 KiB: 1 MiB at level 0, 6 MiB at level 2. As written the program needs
// 26 MiB: 1, 2, 5, 7 at level 2 and 3, 6 at level 0. The powers 1, 2, 4
// compose every rotation (18 MiB, each at level 2). Then by work saved per
// byte: 7 (two key switches at level 2 per 6 MiB), then 3, 5, 6 (one key
// switch per key's worth). 20 MiB has no room for 7 or 5 but has for 3 and
// 6 (1 MiB each): 5 becomes 1 then 4, 7 becomes 1, 2, 4 from the same 1
// (the chains share it). 17 MiB does not hold the powers.

!ct2 = !ckks.ct<level = 2, degree = 1>
!ct0 = !ckks.ct<level = 0, degree = 1>

// CHECK-LABEL: func @main
// CHECK: %[[A:.*]] = ckks.rotate %arg0 by 1 :
// CHECK: ckks.rotate %arg0 by 2 :
// CHECK: ckks.rotate %[[A]] by 4 :
// CHECK: %[[C:.*]] = ckks.rotate %[[A]] by 2 :
// CHECK: ckks.rotate %[[C]] by 4 :
// CHECK: ckks.rotate %arg1 by 3 :
// CHECK: ckks.rotate %arg1 by 6 :
// CHECK-NOT: by 5
// CHECK-NOT: by 7
// FITS: ckks.rotate %arg0 by 5 :
// FITS: ckks.rotate %arg0 by 7 :
// SMALL: a budget of 17.0 MiB of rotation keys cannot compose every rotation of 16 slots: it needs at least 18.0 MiB
module attributes {ckks.slots = 16 : i64,
    ckks.rns = {base = 1 : i64, digit = 1 : i64, log_n = 16 : i64,
                moduli = array<i64: 1, 2, 3, 4>, per_level = 1 : i64,
                scales = array<f64: 1.0, 1.0, 1.0>, special = 1 : i64}} {
  func.func @main(%x: !ct2, %y: !ct0) -> (!ct2, !ct2, !ct2, !ct2, !ct0, !ct0) {
    %a = ckks.rotate %x by 1 : !ct2
    %b = ckks.rotate %x by 2 : !ct2
    %c = ckks.rotate %x by 5 : !ct2
    %f = ckks.rotate %x by 7 : !ct2
    %d = ckks.rotate %y by 3 : !ct0
    %e = ckks.rotate %y by 6 : !ct0
    return %a, %b, %c, %f, %d, %e : !ct2, !ct2, !ct2, !ct2, !ct0, !ct0
  }
}

