// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | grep -c ckks.mul_plain | FileCheck %s --check-prefix=COUNT
// A stride-2 convolution keeps its output in its input's grid (Lee et al.,
// ICML 2022): y[o, i, j] sits where x[o, 2i, 2j] does (strides 64, 16, 2),
// so an output element and the input pixels it reads are the same
// distance apart for every (i, j) and the map has a diagonal per tap and
// channel offset: 18 here (offsets -1, 0, 1 channels meet mod 128 slots),
// not one per distance (12 i + j + ...) that compact outputs move by. The
// square works in that grid; the result is compacted on its way out (one
// map of 32 diagonals): main's results stay compact.

// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {{.}}fhe.shape = array<i64: 2, 4, 4>{{.}})
// CHECK-COUNT-18: ckks.mul_plain {{.*}} : <level = 3,
// CHECK: ckks.mul {{.*}} : <level = 2,
// CHECK-COUNT-32: ckks.mul_plain {{.*}} : <level = 1,
// CHECK-NOT: ckks.mul_plain
// CHECK: return
func.func @main(%x: !fhe.cipher<[2, 8, 8]>) -> !fhe.cipher<[2, 4, 4]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<2x2x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[2, 8, 8]>, tensor<2x2x3x3xf64> -> !fhe.cipher<[2, 4, 4]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[2, 4, 4]>, !fhe.cipher<[2, 4, 4]>) -> !fhe.cipher<[2, 4, 4]>
  return %s : !fhe.cipher<[2, 4, 4]>
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
// The mul_plain of both: 18 + 32 + 58.
// COUNT: 108
func.func @main(%x: !fhe.cipher<[1, 8, 8]>) -> !fhe.cipher<[2, 4, 4]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0] : tensor<2x1x2x2xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 0, groups = 1} : !fhe.cipher<[1, 8, 8]>, tensor<2x1x2x2xf64> -> !fhe.cipher<[2, 4, 4]>
  return %c : !fhe.cipher<[2, 4, 4]>
}
