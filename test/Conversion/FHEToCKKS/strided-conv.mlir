// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | grep -c ckks.mul_plain | FileCheck %s --check-prefix=COUNT
// A stride-2 convolution keeps its output in its input's grid (Lee et al.,
// ICML 2022) where the layout assignment prices that lowest: y[o, i, j]
// sits where x[o, 2i, 2j] does (strides 256, 32, 2), so an output element
// and the input pixels it reads are the same distance apart for every
// (i, j) and the map has a diagonal per tap and channel offset: 9 x 4 = 36
// here, not one per distance (24 i + j + ...) that compact outputs move by.
// The square works in that grid; the result is compacted on its way out,
// one axis at a time (8, 8 and 4 diagonals): main's results stay compact.

// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {{.}}fhe.shape = array<i64: 4, 8, 8>{{.}})
// CHECK-COUNT-36: ckks.mul_plain {{.*}} : <level = 5,
// CHECK-NOT: ckks.mul_plain {{.*}} : <level = 5,
// CHECK: ckks.mul {{.*}} : <level = 4,
// CHECK-COUNT-8: ckks.mul_plain {{.*}} : <level = 3,
// CHECK-COUNT-8: ckks.mul_plain {{.*}} : <level = 2,
// CHECK-COUNT-4: ckks.mul_plain {{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
func.func @main(%x: !fhe.cipher<[4, 16, 16]>) -> !fhe.cipher<[4, 8, 8]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<4x4x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[4, 16, 16]>, tensor<4x4x3x3xf64> -> !fhe.cipher<[4, 8, 8]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[4, 8, 8]>, !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]>
  return %s : !fhe.cipher<[4, 8, 8]>
}

// -----

// Returned directly, a convolution whose map to compact positions weighs
// less than the grid's map plus the compaction (planRelayout) maps to
// compact positions at once: one level.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {{.}}fhe.shape = array<i64: 2, 4, 4>{{.}})
// CHECK-COUNT-58: ckks.mul_plain {{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
// The mul_plain of both: 36 + 8 + 8 + 4 + 58.
// COUNT: 114
func.func @main(%x: !fhe.cipher<[1, 8, 8]>) -> !fhe.cipher<[2, 4, 4]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0] : tensor<2x1x2x2xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 0, groups = 1} : !fhe.cipher<[1, 8, 8]>, tensor<2x1x2x2xf64> -> !fhe.cipher<[2, 4, 4]>
  return %c : !fhe.cipher<[2, 4, 4]>
}
