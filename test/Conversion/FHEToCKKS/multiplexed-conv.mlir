// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// A stride-2 convolution can multiplex its channels into the cells the
// stride empties (Lee et al., ICML 2022): x [1, 16, 16] takes 256 slots; y [4, 8,
// 8] in x's grid with gaps would take 4 x 256, one ciphertext per channel,
// but channel c at sub-position (c / 2, c % 2) of each 2 x 2 cell fills
// exactly the 256 slots: one ciphertext, so the square after it is one
// product (four in the gapped grid). Output (c, y, x) sits at 16 (c / 2) +
// c % 2 + 32 y + 2 x and reads x[0, 2y + dy - 1, 2x + dx - 1] at 32 y + 2 x
// + 16 (dy - 1) + dx - 1: distances 16 (c / 2 - dy + 1) + (c % 2 - dx + 1),
// 4 x 4 = 16 diagonals. The layout assignment prices it below the grid and
// compact outputs; the pooling reads the multiplexed layout where it is.

// CHECK: fhe.layouts = ["line {{[0-9]+}}: conv2d -> multiplexed (g = 2), 1 ciphertext"]
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {{.}}fhe.shape = array<i64: 4>{{.}})
// CHECK-COUNT-16: ckks.mul_plain {{.*}} : <level = 3,
// CHECK-NOT: ckks.mul_plain {{.*}} : <level = 3,
// CHECK: ckks.mul {{.*}} : <level = 2,
// CHECK-NOT: ckks.mul {{.*}}<level = 2,
// CHECK: return
func.func @main(%x: !fhe.cipher<[1, 16, 16]>) -> !fhe.cipher<[4]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<4x1x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[1, 16, 16]>, tensor<4x1x3x3xf64> -> !fhe.cipher<[4, 8, 8]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[4, 8, 8]>, !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]>
  %g = fhe.global_avgpool %s : !fhe.cipher<[4, 8, 8]> -> !fhe.cipher<[4]>
  return %g : !fhe.cipher<[4]>
}
