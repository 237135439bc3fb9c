// RUN: cerium-opt %s --fhe-fold-batchnorm -split-input-file | FileCheck %s
// Batch normalization after a convolution becomes the convolution's weights
// and bias: s = gamma / sqrt(var + eps), W' = W s, b' = b s + beta - mean s.

// CHECK-LABEL: func.func @conv
// s = (2 / sqrt(4), 0.5 / sqrt(1)) = (1, 0.5) with eps = 0.
// CHECK: %[[W:.*]] = fhe.constant [1.000000e+00, 2.000000e+00, 1.500000e+00, 2.000000e+00] : tensor<2x1x1x2xf64>
// b' = (1 * 1 + 0 - 1 * 1, 2 * 0.5 + 1 - 2 * 0.5) = (0, 1).
// CHECK: %[[B:.*]] = fhe.constant [0.000000e+00, 1.000000e+00] : tensor<2xf64>
// CHECK: %[[Y:.*]] = fhe.conv2d %{{.*}}, %[[W]], %[[B]]
// CHECK-NOT: fhe.batchnorm
// CHECK: return %[[Y]]
func.func @conv(%x: !fhe.cipher<[1, 2, 2]>) -> !fhe.cipher<[2, 2, 1]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<2x1x1x2xf64>
  %b = fhe.constant [1.0, 2.0] : tensor<2xf64>
  %y = fhe.conv2d %x, %w, %b {stride = 1 : i64, padding = 0 : i64, groups = 1 : i64} : !fhe.cipher<[1, 2, 2]>, tensor<2x1x1x2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 2, 1]>
  %g = fhe.constant [2.0, 0.5] : tensor<2xf64>
  %be = fhe.constant [0.0, 1.0] : tensor<2xf64>
  %m = fhe.constant [1.0, 2.0] : tensor<2xf64>
  %v = fhe.constant [4.0, 1.0] : tensor<2xf64>
  %n = fhe.batchnorm %y, %g, %be, %m, %v {eps = 0.0 : f64} : !fhe.cipher<[2, 2, 1]>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 2, 1]>
  return %n : !fhe.cipher<[2, 2, 1]>
}

// -----

// A linear layer on a batch of rows: axis 0 is the batch, not the layer's
// outputs, so nothing folds; nor does a convolution with another user.
// CHECK-LABEL: func.func @batch
// CHECK: fhe.batchnorm
// CHECK: fhe.batchnorm
func.func @batch(%x: !fhe.cipher<[2, 2]>, %i: !fhe.cipher<[1, 2, 2]>) -> (!fhe.cipher<[2, 2]>, !fhe.cipher<[2, 2, 1]>, !fhe.cipher<[2, 2, 1]>) {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<2x2xf64>
  %y = fhe.linear %x, %w : !fhe.cipher<[2, 2]>, tensor<2x2xf64> -> !fhe.cipher<[2, 2]>
  %g = fhe.constant [2.0, 0.5] : tensor<2xf64>
  %n = fhe.batchnorm %y, %g, %g, %g, %g {eps = 0.0 : f64} : !fhe.cipher<[2, 2]>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 2]>
  %cw = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<2x1x1x2xf64>
  %c = fhe.conv2d %i, %cw {stride = 1 : i64, padding = 0 : i64, groups = 1 : i64} : !fhe.cipher<[1, 2, 2]>, tensor<2x1x1x2xf64> -> !fhe.cipher<[2, 2, 1]>
  %cn = fhe.batchnorm %c, %g, %g, %g, %g {eps = 0.0 : f64} : !fhe.cipher<[2, 2, 1]>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64> -> !fhe.cipher<[2, 2, 1]>
  return %n, %c, %cn : !fhe.cipher<[2, 2]>, !fhe.cipher<[2, 2, 1]>, !fhe.cipher<[2, 2, 1]>
}

// -----

// Without a bias the folded convolution gets one.
// CHECK-LABEL: func.func @nobias
// CHECK: %[[W:.*]] = fhe.constant [2.000000e+00, 4.000000e+00] : tensor<1x1x1x2xf64>
// CHECK: %[[B:.*]] = fhe.constant [-2.000000e+00] : tensor<1xf64>
// CHECK: fhe.conv2d %{{.*}}, %[[W]], %[[B]]
func.func @nobias(%x: !fhe.cipher<[1, 2, 2]>) -> !fhe.cipher<[1, 2, 1]> {
  %w = fhe.constant [1.0, 2.0] : tensor<1x1x1x2xf64>
  %y = fhe.conv2d %x, %w {stride = 1 : i64, padding = 0 : i64, groups = 1 : i64} : !fhe.cipher<[1, 2, 2]>, tensor<1x1x1x2xf64> -> !fhe.cipher<[1, 2, 1]>
  %g = fhe.constant [2.0] : tensor<1xf64>
  %z = fhe.constant [0.0] : tensor<1xf64>
  %m = fhe.constant [1.0] : tensor<1xf64>
  %v = fhe.constant [1.0] : tensor<1xf64>
  %n = fhe.batchnorm %y, %g, %z, %m, %v {eps = 0.0 : f64} : !fhe.cipher<[1, 2, 1]>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64> -> !fhe.cipher<[1, 2, 1]>
  return %n : !fhe.cipher<[1, 2, 1]>
}
