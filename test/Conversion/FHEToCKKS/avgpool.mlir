// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// RUN: cerium-opt %s --fhe-to-ckks="layout-search=false" -split-input-file | FileCheck %s --check-prefix=GRID
// avgpool2d with a kernel other than its stride (PoolLowering): one linear
// map with weight 1 / k^2 per window element. Its output goes compact (the
// layout assignment's choice for a returned value here) or, under the rule
// of thumb (layout-search=false), in its input's grid: y[c, i, j] where
// x[c, s i, s j] is, so that every output reads the same offsets (one
// diagonal per window element), and is compacted on the way out.

// x [1, 5, 5] -> [1, 2, 2], kernel 3, stride 2 (32 slots). Compact: y[i, j]
// at 2 i + j reads x at 5 (2 i + di) + 2 j + dj, distances 8 i + j + 5 di + dj
// for i, j < 2 and di, dj < 3: 20 distinct. Grid: distances 5 di + dj, 9
// diagonals, then 10 i + 2 j -> 2 i + j: 4 more, a level later.
// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 32 : i64, fhe.layout_summary = "{{[^"]*}}", fhe.layouts = ["line {{[0-9]+}}: avgpool2d -> compact, 1 ciphertext"]}
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.shape = array<i64: 1, 2, 2>})
// CHECK: ckks.encode [1.111111e-01] :
// CHECK-COUNT-20: ckks.mul_plain %{{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
// GRID: module attributes {ckks.levels = 2 : i64, ckks.slots = 32 : i64, fhe.layout_summary = "{{[^"]*}}", fhe.layouts = ["line {{[0-9]+}}: avgpool2d -> in its input's grid, 1 ciphertext"]}
// GRID-LABEL: func.func @main
// GRID-COUNT-9: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-NOT: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-COUNT-4: ckks.mul_plain %{{.*}} : <level = 1,
// GRID-NOT: ckks.mul_plain
// GRID: return
func.func @main(%x: !fhe.cipher<[1, 5, 5]>) -> !fhe.cipher<[1, 2, 2]> {
  %y = fhe.avgpool2d %x {kernel = 3, stride = 2} : !fhe.cipher<[1, 5, 5]> -> !fhe.cipher<[1, 2, 2]>
  return %y : !fhe.cipher<[1, 2, 2]>
}

// -----

// x [2, 4, 4] -> [2, 3, 3], kernel 2, stride 1 (overlapping windows, 32
// slots). Compact: y[c, i, j] at 9 c + 3 i + j reads 16 c + 4 (i + di) + j +
// dj: distances 7 c + i + 4 di + dj, 15 distinct. Grid (the input's own
// strides): 4 diagonals, then 16 c + 4 i + j -> 9 c + 3 i + j, 6 distances.
// CHECK: fhe.layouts = ["line {{[0-9]+}}: avgpool2d -> compact, 1 ciphertext"]
// CHECK-LABEL: func.func @main
// CHECK: ckks.encode f32 [2.500000e-01]
// CHECK-COUNT-15: ckks.mul_plain %{{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
// GRID: fhe.layouts = ["line {{[0-9]+}}: avgpool2d -> in its input's grid, 1 ciphertext"]
// GRID-LABEL: func.func @main
// GRID-COUNT-4: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-NOT: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-COUNT-6: ckks.mul_plain %{{.*}} : <level = 1,
// GRID-NOT: ckks.mul_plain
// GRID: return
func.func @main(%x: !fhe.cipher<[2, 4, 4]>) -> !fhe.cipher<[2, 3, 3]> {
  %y = fhe.avgpool2d %x {kernel = 2, stride = 1} : !fhe.cipher<[2, 4, 4]> -> !fhe.cipher<[2, 3, 3]>
  return %y : !fhe.cipher<[2, 3, 3]>
}

// -----

// x [1, 6, 6] -> [1, 2, 2], kernel 3, stride 2: the last row and column
// are in no window. Compact: distances 10 i + j + 6 di + dj, 22 distinct;
// grid: 9, then 4.
// CHECK-LABEL: func.func @main
// CHECK-COUNT-22: ckks.mul_plain %{{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
// GRID-LABEL: func.func @main
// GRID-COUNT-9: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-NOT: ckks.mul_plain %{{.*}} : <level = 2,
// GRID-COUNT-4: ckks.mul_plain %{{.*}} : <level = 1,
// GRID-NOT: ckks.mul_plain
// GRID: return
func.func @main(%x: !fhe.cipher<[1, 6, 6]>) -> !fhe.cipher<[1, 2, 2]> {
  %y = fhe.avgpool2d %x {kernel = 3, stride = 2} : !fhe.cipher<[1, 6, 6]> -> !fhe.cipher<[1, 2, 2]>
  return %y : !fhe.cipher<[1, 2, 2]>
}

// -----

// A plaintext pools at compile time: p[r, c] = 5 r + c on [1, 5, 5], kernel
// 3, stride 2: window means 5 * 1 + 1 = 6, 5 + 3 = 8, 15 + 1 = 16, 18.
// CHECK-LABEL: func.func @main
// CHECK-NOT: ckks.rotate
// CHECK: ckks.encode f32 [6.000000e+00, 8.000000e+00, 1.600000e+01, 1.800000e+01]
// CHECK-NEXT: ckks.mul_plain
// CHECK-NOT: ckks.rotate
// CHECK: return
// GRID-LABEL: func.func @main
func.func @main(%x: !fhe.cipher<[1, 2, 2]>) -> !fhe.cipher<[1, 2, 2]> {
  %p = fhe.constant [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0] : tensor<1x5x5xf64>
  %q = fhe.avgpool2d %p {kernel = 3, stride = 2} : tensor<1x5x5xf64> -> tensor<1x2x2xf64>
  %y = fhe.mul %x, %q : (!fhe.cipher<[1, 2, 2]>, tensor<1x2x2xf64>) -> !fhe.cipher<[1, 2, 2]>
  return %y : !fhe.cipher<[1, 2, 2]>
}
