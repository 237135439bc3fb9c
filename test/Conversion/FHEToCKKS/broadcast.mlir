// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// RUN: cerium-opt %s --fhe-to-ckks="slots=8" -split-input-file | FileCheck %s --check-prefix=MULTI
// A cipher operand of an elementwise op with fewer elements than the result
// is broadcast (NumPy rules) by a linear map that copies each element to
// the positions it fills (ElementwiseLowering, broadcastCipher): one level,
// before the op. Diagonals as in layout-ops.mlir: k = (in - out) mod D, D
// the power of two past every position when two copies of D fit the slots
// (the input is first doubled by one rotation), else the slot count.

// x [2, 4] + v [4] (8 slots): v's copy 4..7 <- 0..3 is diagonal 4; the
// sum waits for it at the next level.
// CHECK: module attributes {ckks.levels = 2 : i64, ckks.slots = 8 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 2, degree = 1> {fhe.shape = array<i64: 2, 4>}, %[[V:.*]]: !ckks.ct<level = 2, degree = 1> {fhe.shape = array<i64: 4>}, %[[S:.*]]: !ckks.ct<level = 2, degree = 1> {fhe.shape = array<i64: 1>})
// CHECK: ckks.encode f32 [1.000000e+00] count 4 :
// CHECK-NEXT: %[[D0:.*]] = ckks.mul_plain %[[V]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] count 4 :
// CHECK-NEXT: %[[D4:.*]] = ckks.mul_plain %[[V]]
// CHECK-NEXT: %[[G4:.*]] = ckks.rotate %[[D4]] by 4 :
// CHECK-NEXT: %[[W:.*]] = ckks.add %[[D0]], %[[G4]]
// CHECK-NEXT: %[[VB:.*]] = ckks.rescale %[[W]]
// CHECK-NEXT: %[[XD:.*]] = ckks.level_down %[[X]] to 1
// CHECK-NEXT: %[[SUM:.*]] = ckks.add %[[XD]], %[[VB]] : <level = 1, degree = 1>
// v [4] * s [1]: s's copies 0..3 <- 0 are diagonals 0, 3, 2, 1 of period 4
// (s doubled first: 2 * 4 <= 8 slots); width 2: baby step 1, giant step 2.
// CHECK-NEXT: %[[SR:.*]] = ckks.rotate %[[S]] by 4 :
// CHECK-NEXT: %[[S2:.*]] = ckks.add %[[S]], %[[SR]]
// CHECK-NEXT: %[[SB:.*]] = ckks.rotate %[[S2]] by 1 :
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] :
// CHECK-NEXT: ckks.mul_plain %[[S2]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[SB]]
// CHECK-NEXT: ckks.add
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] offset 4 :
// CHECK-NEXT: ckks.mul_plain %[[S2]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[SB]]
// CHECK-NEXT: ckks.add
// CHECK-NEXT: ckks.rotate %{{.*}} by 2 :
// CHECK-NEXT: ckks.add
// CHECK-NEXT: %[[SBC:.*]] = ckks.rescale
// CHECK-NEXT: %[[VD:.*]] = ckks.level_down %[[V]] to 1
// CHECK-NEXT: ckks.mul %[[VD]], %[[SBC]] : <level = 1, degree = 1>
// CHECK-NEXT: ckks.relinearize
// CHECK-NEXT: %[[P:.*]] = ckks.rescale
// CHECK-NEXT: return %[[SUM]], %[[P]]
// With 8 slots forced nothing changes: every tensor fits in one.
// MULTI: module attributes {ckks.levels = 2 : i64, ckks.slots = 8 : i64}
// MULTI-LABEL: func.func @main
func.func @main(%x: !fhe.cipher<[2, 4]>, %v: !fhe.cipher<[4]>, %s: !fhe.cipher<[1]>) -> (!fhe.cipher<[2, 4]>, !fhe.cipher<[4]>) {
  %a = fhe.add %x, %v : (!fhe.cipher<[2, 4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[2, 4]>
  %b = fhe.mul %v, %s : (!fhe.cipher<[4]>, !fhe.cipher<[1]>) -> !fhe.cipher<[4]>
  return %a, %b : !fhe.cipher<[2, 4]>, !fhe.cipher<[4]>
}

// -----

// Both operands broadcast: c [4, 1] * r [1, 4] -> [4, 4] (16 slots). c's
// element i goes to 4 i + j: diagonals -(3 i + j) mod 16 for i, j < 4, 13
// distinct; r's element j goes to 4 i + j: diagonals -4 i, 4 distinct.
// Then one ciphertext product.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 4, 4>})
// CHECK-COUNT-13: ckks.mul_plain %{{.*}} : <level = 2,
// CHECK-NEXT: ckks.add
// CHECK-NEXT: ckks.rotate
// CHECK-NEXT: ckks.add
// CHECK-NEXT: %[[CB:.*]] = ckks.rescale
// CHECK-COUNT-4: ckks.mul_plain %{{.*}} : <level = 2,
// CHECK-NOT: ckks.mul_plain
// CHECK: %[[RB:.*]] = ckks.rescale
// CHECK-NEXT: ckks.mul %[[CB]], %[[RB]] : <level = 1, degree = 1>
// CHECK-NOT: ckks.mul
// CHECK: return
// With 8 slots the product is two ciphertexts: each operand's map has two
// output parts, and there are two products.
// MULTI-LABEL: func.func @main
// MULTI-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 4, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 4, 4>})
// MULTI-COUNT-2: ckks.mul %{{.*}} : <level = 1, degree = 1>
// MULTI-NOT: ckks.mul %
func.func @main(%c: !fhe.cipher<[4, 1]>, %r: !fhe.cipher<[1, 4]>) -> !fhe.cipher<[4, 4]> {
  %a = fhe.mul %c, %r : (!fhe.cipher<[4, 1]>, !fhe.cipher<[1, 4]>) -> !fhe.cipher<[4, 4]>
  return %a : !fhe.cipher<[4, 4]>
}

// -----

// plain [2, 4] - cipher v [4]: v is broadcast (diagonals 0 and 4 of the
// 8 slots), negated, the plain added.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[V:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 4>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 2, 4>})
// MULTI-LABEL: func.func @main
// CHECK-NOT: ckks.rotate
// CHECK: ckks.encode f32 [1.000000e+00] count 4 :
// CHECK-NEXT: ckks.mul_plain %[[V]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] count 4 :
// CHECK-NEXT: ckks.mul_plain %[[V]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 4 :
// CHECK-NEXT: ckks.add
// CHECK-NEXT: %[[B:.*]] = ckks.rescale
// CHECK-NEXT: %[[N:.*]] = ckks.negate %[[B]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00] : <level = 0, degree = 1>
// CHECK-NEXT: %[[R:.*]] = ckks.add_plain %[[N]]
// CHECK-NEXT: return %[[R]]
func.func @main(%v: !fhe.cipher<[4]>) -> !fhe.cipher<[2, 4]> {
  %p = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0] : tensor<2x4xf64>
  %b = fhe.sub %p, %v : (tensor<2x4xf64>, !fhe.cipher<[4]>) -> !fhe.cipher<[2, 4]>
  return %b : !fhe.cipher<[2, 4]>
}

// -----

// Over several ciphertexts (8 slots): x [4, 8] (four parts) + v [8] (one):
// each output part is v's whole ciphertext (diagonal 0 over every slot: no
// mask, no level), added to x's part.
// MULTI-LABEL: func.func @main
// MULTI-SAME: %[[V:arg4]]: !ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 8>})
// MULTI-NOT: ckks.mul_plain
// MULTI-NOT: ckks.rotate
// MULTI-COUNT-4: ckks.add %{{.*}}, %[[V]] : <level = 0, degree = 1>
// MULTI-NEXT: return
// With 32 slots x is one ciphertext and v's map has diagonals 0, 24, 16, 8
// (two copies of 32 positions do not fit: the period is the slot count).
// CHECK-LABEL: func.func @main
// CHECK-COUNT-4: ckks.mul_plain
// CHECK-NOT: ckks.mul_plain
// CHECK: return
func.func @main(%x: !fhe.cipher<[4, 8]>, %v: !fhe.cipher<[8]>) -> !fhe.cipher<[4, 8]> {
  %a = fhe.add %x, %v : (!fhe.cipher<[4, 8]>, !fhe.cipher<[8]>) -> !fhe.cipher<[4, 8]>
  return %a : !fhe.cipher<[4, 8]>
}
