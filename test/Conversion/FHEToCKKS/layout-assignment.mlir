// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// The layout assignment prices whole programs: each placement (a
// convolution's output in its input's grid, multiplexed or compact; the
// operand an elementwise op converts) is changed while the estimated work
// falls, from the rule of thumb (the fewest ciphertexts, the grid first,
// the left operand's layout) it starts at.

// A stride-2 convolution whose product is returned: in the grid (18
// diagonals) it would need a compaction on the way out (32 diagonals and a
// level); compact at once it is one map (more diagonals, one level less).
// CHECK: fhe.layout_summary = "estimated work 81 (rule of thumb 86), 0 conversions"
// CHECK-SAME: fhe.layouts = ["line {{[0-9]+}}: conv2d -> compact, 1 ciphertext"]
// CHECK-LABEL: func.func @main
// CHECK-COUNT-122: ckks.mul_plain {{.*}} : <level = 2,
// CHECK-NOT: ckks.mul_plain
// CHECK: ckks.mul {{.*}} : <level = 1,
// CHECK: return
func.func @main(%x: !fhe.cipher<[2, 8, 8]>) -> !fhe.cipher<[2, 4, 4]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<2x2x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[2, 8, 8]>, tensor<2x2x3x3xf64> -> !fhe.cipher<[2, 4, 4]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[2, 4, 4]>, !fhe.cipher<[2, 4, 4]>) -> !fhe.cipher<[2, 4, 4]>
  return %s : !fhe.cipher<[2, 4, 4]>
}


// -----

// A residual-style add of a gridded product and a compact input, both
// returned compact: the left operand's layout (the rule of thumb) would
// convert the input into the grid and compact the sum on the way out; the
// right one's converts the product once.
// CHECK: fhe.layout_summary = "estimated work 134 (rule of thumb 248), 1 conversion"
// CHECK-SAME: fhe.layouts = ["line {{[0-9]+}}: conv2d -> in its input's grid, 1 ciphertext", "line {{[0-9]+}}: add converts its left operand to compact, 1 ciphertext"]
// CHECK-LABEL: func.func @main
// CHECK-COUNT-36: ckks.mul_plain {{.*}} : <level = 5,
// CHECK: ckks.mul {{.*}} : <level = 4,
// CHECK-COUNT-8: ckks.mul_plain {{.*}} : <level = 3,
// CHECK-COUNT-8: ckks.mul_plain {{.*}} : <level = 2,
// CHECK-COUNT-4: ckks.mul_plain {{.*}} : <level = 1,
// CHECK: ckks.add
// CHECK-NOT: ckks.mul_plain
// CHECK: return
func.func @main(%x: !fhe.cipher<[4, 16, 16]>, %y: !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<4x4x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[4, 16, 16]>, tensor<4x4x3x3xf64> -> !fhe.cipher<[4, 8, 8]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[4, 8, 8]>, !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]>
  %t = fhe.add %s, %y : (!fhe.cipher<[4, 8, 8]>, !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]>
  return %t : !fhe.cipher<[4, 8, 8]>
}
