// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// RUN: cerium-opt %s --fhe-to-ckks="layout-search=false" -split-input-file | FileCheck %s --check-prefix=MUX
// Eval-mode batch normalization over axis 0 that no layer before it
// absorbs (BatchNormLowering; cerium-opt runs no fhe-fold-batchnorm): x *
// scale_c + shift_c with scale_c = gamma_c / sqrt(var_c + eps) and shift_c
// = beta_c - mean_c scale_c, both placed where x's elements sit: one
// plaintext product (one level) and one plaintext sum.

// On a cipher input [2, 3]: scale (1 / sqrt(3 + 1), 3 / sqrt(8 + 1)) =
// (0.5, 1), shift (0.25 - 2 * 0.5, 0.5 + 1 * 1) = (-0.75, 1.5).
// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 8 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 2, 3>})
// CHECK-NEXT: ckks.encode f32 [5.000000e-01, 5.000000e-01, 5.000000e-01, 1.000000e+00, 1.000000e+00, 1.000000e+00] : <level = 1, degree = 1>
// CHECK-NEXT: %[[M:.*]] = ckks.mul_plain %[[X]]
// CHECK-NEXT: %[[R:.*]] = ckks.rescale %[[M]]
// CHECK-NEXT: ckks.encode f32 [-7.500000e-01, -7.500000e-01, -7.500000e-01, 1.500000e+00, 1.500000e+00, 1.500000e+00] : <level = 0, degree = 1>
// CHECK-NEXT: %[[Y:.*]] = ckks.add_plain %[[R]]
// CHECK-NEXT: return %[[Y]]
// MUX-LABEL: func.func @main
func.func @main(%x: !fhe.cipher<[2, 3]>) -> !fhe.cipher<[2, 3]> {
  %g = fhe.constant [1.0, 3.0] : tensor<2xf64>
  %b = fhe.constant [0.25, 0.5] : tensor<2xf64>
  %m = fhe.constant [2.0, -1.0] : tensor<2xf64>
  %v = fhe.constant [3.0, 8.0] : tensor<2xf64>
  %y = fhe.batchnorm %x, %g, %b, %m, %v {eps = 1.0 : f64} : !fhe.cipher<[2, 3]>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 3]>
  return %y : !fhe.cipher<[2, 3]>
}

// -----

// The same constant in every slot of the extent is a constant product (no
// plaintext): gamma 2, var 3, eps 1 on a [1, 4] input: scale 1, shift
// beta - mean = 0.5 - 0.25.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 1, 4>})
// CHECK-NEXT: ckks.mul_const %[[X]] by 1.000000e+00
// CHECK-NEXT: ckks.rescale
// CHECK-NEXT: ckks.encode f32 [2.500000e-01] count 4 : <level = 0, degree = 1>
// CHECK-NEXT: ckks.add_plain
// CHECK-NEXT: return
// MUX-LABEL: func.func @main
func.func @main(%x: !fhe.cipher<[1, 4]>) -> !fhe.cipher<[1, 4]> {
  %g = fhe.constant [2.0] : tensor<1xf64>
  %b = fhe.constant [0.5] : tensor<1xf64>
  %m = fhe.constant [0.25] : tensor<1xf64>
  %v = fhe.constant [3.0] : tensor<1xf64>
  %y = fhe.batchnorm %x, %g, %b, %m, %v {eps = 1.0 : f64} : !fhe.cipher<[1, 4]>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64> -> !fhe.cipher<[1, 4]>
  return %y : !fhe.cipher<[1, 4]>
}

// -----

// After a product of a stride-2 convolution, which nothing folds into the
// convolution. Under the rule of thumb (MUX) the convolution's [4, 8, 8]
// output is multiplexed into x's [1, 16, 16] grid (multiplexed-conv.mlir):
// channel c at 16 (c / 2) + c % 2 + 32 y + 2 x, so the scales (gamma, as
// var = 1 and eps = 0) alternate 1, 2 over slots 0..15 and 3, 4 over
// 16..31, a pattern of 32 slots (a grid row) repeated over the 256, and
// so do the shifts (beta, as mean = 0); the product is then
// compacted for main's result, a level later. The layout assignment's own
// choice (compact) places channel c at 64 c.
// CHECK-LABEL: func.func @main
// CHECK: ckks.mul %{{.*}} : <level = 2,
// CHECK: ckks.encode f32 [1.000000e+00, {{(1.000000e\+00, ){63}()}}2.000000e+00, {{(2.000000e\+00, ){63}()}}3.000000e+00,
// CHECK-NEXT: ckks.mul_plain
// CHECK-NEXT: ckks.rescale
// CHECK-NEXT: ckks.encode f32 [5.000000e-01, {{(5.000000e-01, ){63}()}}2.500000e-01,
// CHECK-NEXT: ckks.add_plain
// CHECK-NEXT: return
// MUX: fhe.layouts = ["line {{[0-9]+}}: conv2d -> multiplexed (g = 2), 1 ciphertext"]
// MUX-LABEL: func.func @main
// MUX: ckks.mul %{{.*}} : <level = 3,
// MUX: ckks.encode f32 [1.000000e+00, 2.000000e+00, {{(1.000000e\+00, 2.000000e\+00, ){7}()}}3.000000e+00, 4.000000e+00, {{(3.000000e\+00, 4.000000e\+00, ){6}()}}3.000000e+00, 4.000000e+00] count 256 :
// MUX-NEXT: ckks.mul_plain
// MUX-NEXT: ckks.rescale
// MUX-NEXT: ckks.encode f32 [5.000000e-01, 2.500000e-01, {{(5.000000e-01, 2.500000e-01, ){7}()}}-5.000000e-01, -2.500000e-01, {{(-5.000000e-01, -2.500000e-01, ){6}()}}-5.000000e-01, -2.500000e-01] count 256 :
// MUX-NEXT: ckks.add_plain
// MUX-NEXT: ckks.rotate
// MUX: return %{{.*}} : !ckks.ct<level = 0, degree = 1>
func.func @main(%x: !fhe.cipher<[1, 16, 16]>) -> !fhe.cipher<[4, 8, 8]> {
  %w = fhe.constant [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<4x1x3x3xf64>
  %c = fhe.conv2d %x, %w {stride = 2, padding = 1, groups = 1} : !fhe.cipher<[1, 16, 16]>, tensor<4x1x3x3xf64> -> !fhe.cipher<[4, 8, 8]>
  %s = fhe.mul %c, %c : (!fhe.cipher<[4, 8, 8]>, !fhe.cipher<[4, 8, 8]>) -> !fhe.cipher<[4, 8, 8]>
  %g = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<4xf64>
  %b = fhe.constant [0.5, 0.25, -0.5, -0.25] : tensor<4xf64>
  %m = fhe.constant [0.0, 0.0, 0.0, 0.0] : tensor<4xf64>
  %v = fhe.constant [1.0, 1.0, 1.0, 1.0] : tensor<4xf64>
  %n = fhe.batchnorm %s, %g, %b, %m, %v {eps = 0.0 : f64} : !fhe.cipher<[4, 8, 8]>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64> -> !fhe.cipher<[4, 8, 8]>
  return %n : !fhe.cipher<[4, 8, 8]>
}
