// RUN: cerium-opt %s --fhe-to-ckks="slots=4" -split-input-file | FileCheck %s
// Tensors over several ciphertexts of 4 slots: position p of a tensor is
// slot p mod 4 of part p / 4. A layout op's map (slices, transposes,
// concats, pooling) is split into one slot map per (output part, input
// part) pair with entries, in that order, summed per output part (linear
// maps, see layout-ops.mlir for the diagonals); batchnorm and bootstrap
// work part by part.

// x [10] (parts 0..3, 4..7, 8..9) sliced to x[3:8] (parts 0..3, 4):
// output part 0 reads input position 3 (part 0, diagonal 3) and 4..6
// (part 1, diagonal 3); output part 1 reads 7 (part 1, diagonal 3).
// Input part 2 is not read.
// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 4 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 10>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 10>}, %[[X2:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 2 : i64, fhe.shape = array<i64: 10>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 5>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 5>})
// CHECK-NOT: %[[X2]]
// CHECK: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK-NEXT: %[[A:.*]] = ckks.rescale
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] count 3 :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK-NEXT: %[[B:.*]] = ckks.rescale
// CHECK-NEXT: %[[Y0:.*]] = ckks.add %[[A]], %[[B]]
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK-NEXT: %[[Y1:.*]] = ckks.rescale
// CHECK-NOT: %[[X2]]
// CHECK: return %[[Y0]], %[[Y1]]
func.func @main(%x: !fhe.cipher<[10]>) -> !fhe.cipher<[5]> {
  %s = fhe.slice %x {lo = 3, hi = 8} : !fhe.cipher<[10]> -> !fhe.cipher<[5]>
  return %s : !fhe.cipher<[5]>
}

// -----

// x [3, 4], one row per part: x[1:3] is parts 1 and 2 and x[2] is part 2,
// each a whole ciphertext, so taken as it is (no mask, no level).
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 3, 4>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 3, 4>}, %[[X2:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 2 : i64, fhe.shape = array<i64: 3, 4>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 2, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 2, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 4>})
// CHECK-NEXT: return %[[X1]], %[[X2]], %[[X2]]
func.func @main(%x: !fhe.cipher<[3, 4]>) -> (!fhe.cipher<[2, 4]>, !fhe.cipher<[4]>) {
  %s = fhe.slice %x {lo = 1, hi = 3} : !fhe.cipher<[3, 4]> -> !fhe.cipher<[2, 4]>
  %i = fhe.index %x {index = 2} : !fhe.cipher<[3, 4]> -> !fhe.cipher<[4]>
  return %s, %i : !fhe.cipher<[2, 4]>, !fhe.cipher<[4]>
}

// -----

// x [4, 2] -> x.T [2, 4]: out (i, j) at 4 i + j reads x at 2 j + i. Output
// part 0 (row 0) reads local 0, 2 of input part 0 (diagonals 0, 1) and of
// part 1 (diagonals 2, 3); output part 1 (row 1) reads local 1, 3 of part 0
// (diagonals 1, 2) and of part 1 (diagonals 3, 0).
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 4, 2>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 4, 2>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 2, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 2, 4>})
// Output part 0 from part 0: diagonal 0 at output 0, diagonal 1 at output 1 (slot 2).
// CHECK: ckks.encode f32 [1.000000e+00] :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK: ckks.encode f32 [1.000000e+00] offset 2 :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 1 :
// CHECK: %[[A:.*]] = ckks.rescale
// From part 1: diagonal 2 at output 2 (slot 0), diagonal 3 at output 3 (slot 2).
// CHECK: ckks.encode f32 [1.000000e+00] :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 2 :
// CHECK: ckks.encode f32 [1.000000e+00] offset 2 :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK: %[[B:.*]] = ckks.rescale
// CHECK-NEXT: %[[Y0:.*]] = ckks.add %[[A]], %[[B]]
// Output part 1 from part 0: diagonal 1 at output 0 (slot 1), diagonal 2 at output 1 (slot 3).
// CHECK: ckks.encode f32 [1.000000e+00] offset 1 :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 1 :
// CHECK: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 2 :
// CHECK: %[[C:.*]] = ckks.rescale
// From part 1: diagonal 0 at output 3, diagonal 3 at output 2 (slot 1).
// CHECK: ckks.encode f32 [1.000000e+00] offset 3 :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK: ckks.encode f32 [1.000000e+00] offset 1 :
// CHECK-NEXT: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK: %[[D:.*]] = ckks.rescale
// CHECK-NEXT: %[[Y1:.*]] = ckks.add %[[C]], %[[D]]
// CHECK-NEXT: return %[[Y0]], %[[Y1]]
func.func @main(%x: !fhe.cipher<[4, 2]>) -> !fhe.cipher<[2, 4]> {
  %t = fhe.transpose %x {perm = array<i64: 1, 0>} : !fhe.cipher<[4, 2]> -> !fhe.cipher<[2, 4]>
  return %t : !fhe.cipher<[2, 4]>
}

// -----

// concat([x, y]) of x [3] and y [3] into [6] (two parts): x fills output
// positions 0..2 in place; y's 0..2 go to positions 3..5: local 3 of part
// 0 and 0..1 of part 1, diagonal 1 (in - out = -3 mod 4) both times. x's
// map has nothing for part 1: y's part alone, no zero added.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:arg[0-9]+]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 3>}, %[[Y:arg[0-9]+]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 3>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 6>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 6>})
// CHECK: ckks.encode f32 [1.000000e+00] count 3 :
// CHECK-NEXT: ckks.mul_plain %[[X]]
// CHECK-NEXT: %[[X0:.*]] = ckks.rescale
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] :
// CHECK-NEXT: ckks.mul_plain %[[Y]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 1 :
// CHECK-NEXT: %[[Y0:.*]] = ckks.rescale
// CHECK-NEXT: ckks.encode f32 [1.000000e+00] offset 1 count 2 :
// CHECK-NEXT: ckks.mul_plain %[[Y]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 1 :
// CHECK-NEXT: %[[Y1:.*]] = ckks.rescale
// CHECK-NEXT: %[[C0:.*]] = ckks.add %[[X0]], %[[Y0]]
// CHECK-NEXT: return %[[C0]], %[[Y1]]
func.func @main(%x: !fhe.cipher<[3]>, %y: !fhe.cipher<[3]>) -> !fhe.cipher<[6]> {
  %c = fhe.concat %x, %y {axis = 0} : (!fhe.cipher<[3]>, !fhe.cipher<[3]>) -> !fhe.cipher<[6]>
  return %c : !fhe.cipher<[6]>
}

// -----

// concat on axis 1 of a [2, 3] cipher (two parts: 0..3, 4..5) and a plain
// [2, 1] column: out [2, 4] is row-major, row i in part i. Output part 0
// reads x positions 0..2 (part 0, diagonal 0); part 1 reads 3 (part 0,
// local 3 into 0: diagonal 3) and 4, 5 (part 1, local 0, 1 into 1, 2:
// diagonal 3). The column [7, 8] is added at position 3 of each part.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 2, 3>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 2, 3>})
// CHECK: ckks.encode f32 [1.000000e+00] count 3 :
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: %[[Y0:.*]] = ckks.rescale
// CHECK: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK-NEXT: %[[A:.*]] = ckks.rescale
// CHECK: ckks.mul_plain %[[X1]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 3 :
// CHECK-NEXT: %[[B:.*]] = ckks.rescale
// CHECK-NEXT: %[[Y1:.*]] = ckks.add %[[A]], %[[B]]
// CHECK-NEXT: ckks.encode f32 [7.000000e+00] offset 3 : <level = 0, degree = 1>
// CHECK-NEXT: %[[Z0:.*]] = ckks.add_plain %[[Y0]]
// CHECK-NEXT: ckks.encode f32 [8.000000e+00] offset 3 : <level = 0, degree = 1>
// CHECK-NEXT: %[[Z1:.*]] = ckks.add_plain %[[Y1]]
// CHECK-NEXT: return %[[Z0]], %[[Z1]]
func.func @main(%x: !fhe.cipher<[2, 3]>) -> !fhe.cipher<[2, 4]> {
  %p = fhe.constant [7.0, 8.0] : tensor<2x1xf64>
  %c = fhe.concat %x, %p {axis = 1} : (!fhe.cipher<[2, 3]>, tensor<2x1xf64>) -> !fhe.cipher<[2, 4]>
  return %c : !fhe.cipher<[2, 4]>
}

// -----

// reshape over several ciphertexts keeps every part as it is.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 2, 6>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 2, 6>}, %[[X2:arg[0-9]+]]: !ckks.ct<level = {{[0-9]}}, degree = 1> {fhe.part = 2 : i64, fhe.shape = array<i64: 2, 6>})
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 3, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 3, 4>}, !ckks.ct<level = 0, degree = 1> {fhe.part = 2 : i64, fhe.shape = array<i64: 3, 4>})
// CHECK-NEXT: return %[[X0]], %[[X1]], %[[X2]]
func.func @main(%x: !fhe.cipher<[2, 6]>) -> !fhe.cipher<[3, 4]> {
  %r = fhe.reshape %x {shape = array<i64: 3, 4>} : !fhe.cipher<[2, 6]> -> !fhe.cipher<[3, 4]>
  return %r : !fhe.cipher<[3, 4]>
}

// -----

// batchnorm of x [2, 3] (parts 0..3 and 4..5): scale gamma / sqrt(var +
// eps) = (1 / 2, 3 / 3) and shift beta - mean scale = (0.25 - 1, 0.5 + 1)
// per channel, placed by position: part 0 holds channel 0 and the first
// element of channel 1, part 1 the rest of channel 1, one scale (a
// constant product, no plaintext) and one shift.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg[0-9]+]]: !ckks.ct<level = 1, degree = 1> {fhe.part = 0 : i64, fhe.shape = array<i64: 2, 3>}, %[[X1:arg[0-9]+]]: !ckks.ct<level = 1, degree = 1> {fhe.part = 1 : i64, fhe.shape = array<i64: 2, 3>})
// CHECK-NEXT: ckks.encode f32 [5.000000e-01, 5.000000e-01, 5.000000e-01, 1.000000e+00] : <level = 1, degree = 1>
// CHECK-NEXT: ckks.mul_plain %[[X0]]
// CHECK-NEXT: ckks.rescale
// CHECK-NEXT: ckks.encode f32 [-7.500000e-01, -7.500000e-01, -7.500000e-01, 1.500000e+00] : <level = 0, degree = 1>
// CHECK-NEXT: %[[Y0:.*]] = ckks.add_plain
// CHECK-NEXT: ckks.mul_const %[[X1]] by 1.000000e+00
// CHECK-NEXT: ckks.rescale
// CHECK-NEXT: ckks.encode f32 [1.500000e+00] count 2 : <level = 0, degree = 1>
// CHECK-NEXT: %[[Y1:.*]] = ckks.add_plain
// CHECK-NEXT: return %[[Y0]], %[[Y1]]
func.func @main(%x: !fhe.cipher<[2, 3]>) -> !fhe.cipher<[2, 3]> {
  %g = fhe.constant [1.0, 3.0] : tensor<2xf64>
  %b = fhe.constant [0.25, 0.5] : tensor<2xf64>
  %m = fhe.constant [2.0, -1.0] : tensor<2xf64>
  %v = fhe.constant [3.0, 8.0] : tensor<2xf64>
  %y = fhe.batchnorm %x, %g, %b, %m, %v {eps = 1.0 : f64} : !fhe.cipher<[2, 3]>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 3]>
  return %y : !fhe.cipher<[2, 3]>
}

// -----

// avgpool2d kernel 3, stride 2 of x [1, 5, 5] (seven parts, the last with
// one element) into [1, 2, 2] (one part, compact): every input part is
// read; the distinct (in - out) mod 4 of the 36 window entries, counted per
// (output part, input part) pair, are 21 diagonals, each weighted 1 / 9.
// CHECK: fhe.layouts = ["line {{[0-9]+}}: avgpool2d -> compact, 1 ciphertext"]
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 1, 2, 2>})
// CHECK-COUNT-21: ckks.mul_plain %{{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
func.func @main(%x: !fhe.cipher<[1, 5, 5]>) -> !fhe.cipher<[1, 2, 2]> {
  %y = fhe.avgpool2d %x {kernel = 3, stride = 2} : !fhe.cipher<[1, 5, 5]> -> !fhe.cipher<[1, 2, 2]>
  return %y : !fhe.cipher<[1, 2, 2]>
}

// -----

// bootstrap of x * x [6] (two parts): one ckks.bootstrap per part, each
// back at the top level, so the product after it needs no more levels than
// the one before.
// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 4 : i64}
// CHECK-LABEL: func.func @main
// CHECK: %[[P0:.*]] = ckks.rescale
// CHECK: %[[P1:.*]] = ckks.rescale
// CHECK-NEXT: %[[B0:.*]] = ckks.bootstrap %[[P0]] : <level = 0, degree = 1> -> <level = 1, degree = 1>
// CHECK-NEXT: %[[B1:.*]] = ckks.bootstrap %[[P1]] : <level = 0, degree = 1> -> <level = 1, degree = 1>
// CHECK-NEXT: ckks.mul %[[B0]], %arg0 : <level = 1, degree = 1>
// CHECK: ckks.mul %[[B1]], %arg1 : <level = 1, degree = 1>
// CHECK-NOT: ckks.bootstrap
// CHECK: return
func.func @main(%x: !fhe.cipher<[6]>) -> !fhe.cipher<[6]> {
  %p = fhe.mul %x, %x : (!fhe.cipher<[6]>, !fhe.cipher<[6]>) -> !fhe.cipher<[6]>
  %b = fhe.bootstrap %p : !fhe.cipher<[6]> -> !fhe.cipher<[6]>
  %q = fhe.mul %b, %x : (!fhe.cipher<[6]>, !fhe.cipher<[6]>) -> !fhe.cipher<[6]>
  return %q : !fhe.cipher<[6]>
}
