// RUN: cerium-opt %s --fhe-to-ckks | FileCheck %s
// A stride-2 convolution whose output would not fit its input's grid in as
// many ciphertexts multiplexes its channels into the cells the stride
// empties (Lee et al., ICML 2022): x [1, 8, 8] takes 64 slots; y [4, 4, 4]
// in x's grid with gaps would take 4 x 64, one ciphertext per channel, but
// channel c at sub-position (c / 2, c % 2) of each 2 x 2 cell fills exactly
// the 64 slots: one ciphertext, so the square after it is one product (four
// in the gapped grid). Output (c, y, x) sits at 8 (c / 2) + c % 2 + 16 y +
// 2 x and reads x[0, 2y + dy, 2x + dx] at 16 y + 2 x + 8 dy + dx: distances
// 8 (c / 2 - dy) + (c % 2 - dx), 3 x 3 = 9 diagonals. The result is
// compacted on its way out.

// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {{.}}fhe.shape = array<i64: 4, 4, 4>{{.}})
// CHECK-COUNT-9: ckks.mul_plain {{.*}} : <level = 3,
// CHECK-NOT: ckks.mul_plain {{.*}} : <level = 3,
// CHECK: ckks.mul {{.*}} : <level = 2,
// CHECK-NOT: ckks.mul {{.*}}<level = 2,
// CHECK: return
func.func @main(%x: !fhe.cipher<[1, 8, 8]>) -> !fhe.cipher<[4, 4, 4]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0] : tensor<4x1x2x2xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 0, groups = 1} : !fhe.cipher<[1, 8, 8]>, tensor<4x1x2x2xf64> -> !fhe.cipher<[4, 4, 4]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[4, 4, 4]>, !fhe.cipher<[4, 4, 4]>) -> !fhe.cipher<[4, 4, 4]>
  return %s : !fhe.cipher<[4, 4, 4]>
}
