// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// Round trip of every fhe op with shapes the verifiers accept.

// CHECK-LABEL: func @classifier
func.func @classifier(%x: !fhe.cipher<[64]>) -> !fhe.cipher<[10]> {
  // CHECK: fhe.weight "digits.safetensors"["fc1.weight"] : tensor<32x64xf64>
  %w1 = fhe.weight "digits.safetensors"["fc1.weight"] : tensor<32x64xf64>
  %b1 = fhe.weight "digits.safetensors"["fc1.bias"] : tensor<32xf64>
  %w2 = fhe.weight "digits.safetensors"["fc2.weight"] : tensor<10x32xf64>
  // CHECK: fhe.linear %{{.*}}, %{{.*}}, %{{.*}} : !fhe.cipher<[64]>, tensor<32x64xf64>, tensor<32xf64> -> !fhe.cipher<[32]>
  %h = fhe.linear %x, %w1, %b1 : !fhe.cipher<[64]>, tensor<32x64xf64>, tensor<32xf64> -> !fhe.cipher<[32]>
  // CHECK: fhe.nonlinear %{{.*}} {function = "relu", range = array<f64: -1.600000e+01, 1.600000e+01>}
  %r = fhe.nonlinear %h {function = "relu", range = array<f64: -16.0, 16.0>} : !fhe.cipher<[32]> -> !fhe.cipher<[32]>
  %y = fhe.linear %r, %w2 : !fhe.cipher<[32]>, tensor<10x32xf64> -> !fhe.cipher<[10]>
  return %y : !fhe.cipher<[10]>
}

// CHECK-LABEL: func @tensor_ops
func.func @tensor_ops(%x: !fhe.cipher<[4, 8]>, %p: tensor<8xf64>, %s: f64) -> !fhe.cipher<[1]> {
  %a = fhe.add %x, %p : (!fhe.cipher<[4, 8]>, tensor<8xf64>) -> !fhe.cipher<[4, 8]>
  %b = fhe.mul %a, %s : (!fhe.cipher<[4, 8]>, f64) -> !fhe.cipher<[4, 8]>
  %c = fhe.div %b, %p : (!fhe.cipher<[4, 8]>, tensor<8xf64>) -> !fhe.cipher<[4, 8]>
  %d = fhe.sub %c, %x : (!fhe.cipher<[4, 8]>, !fhe.cipher<[4, 8]>) -> !fhe.cipher<[4, 8]>
  %e = fhe.neg %d : !fhe.cipher<[4, 8]> -> !fhe.cipher<[4, 8]>
  // CHECK: fhe.roll %{{.*}} {axis = 1 : i64, shift = -1 : i64}
  %f = fhe.roll %e {shift = -1, axis = 1} : !fhe.cipher<[4, 8]> -> !fhe.cipher<[4, 8]>
  %g = fhe.transpose %f {perm = array<i64: 1, 0>} : !fhe.cipher<[4, 8]> -> !fhe.cipher<[8, 4]>
  %h = fhe.reshape %g {shape = array<i64: 2, 16>} : !fhe.cipher<[8, 4]> -> !fhe.cipher<[2, 16]>
  %i = fhe.slice %h {lo = 0, hi = 1} : !fhe.cipher<[2, 16]> -> !fhe.cipher<[1, 16]>
  %j = fhe.index %i {index = 0} : !fhe.cipher<[1, 16]> -> !fhe.cipher<[16]>
  %k = fhe.concat %j, %j {axis = 0} : (!fhe.cipher<[16]>, !fhe.cipher<[16]>) -> !fhe.cipher<[32]>
  %c3 = fhe.constant [1.0, 0.5, -0.25] : tensor<3xf64>
  %l = fhe.poly %k {coefficients = array<f64: 1.0, 0.5, -0.25>, basis = "power", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[32]> -> !fhe.cipher<[32]>
  %m = fhe.mean %l {axis = 0} : !fhe.cipher<[32]> -> !fhe.cipher<[1]>
  // CHECK: fhe.sum %{{.*}} : !fhe.cipher<[1]> -> !fhe.cipher<[1]>
  %n = fhe.sum %m : !fhe.cipher<[1]> -> !fhe.cipher<[1]>
  %o = fhe.bootstrap %n : !fhe.cipher<[1]> -> !fhe.cipher<[1]>
  return %o : !fhe.cipher<[1]>
}

// CHECK-LABEL: func @layers
func.func @layers(%x: !fhe.cipher<[3, 8, 8]>, %w: tensor<4x3x3x3xf64>, %g: tensor<4xf64>, %t: !fhe.cipher<[5, 16]>, %q: tensor<16xf64>) -> !fhe.cipher<[4]> {
  %c = fhe.conv2d %x, %w {stride = 1, padding = 1, groups = 1} : !fhe.cipher<[3, 8, 8]>, tensor<4x3x3x3xf64> -> !fhe.cipher<[4, 8, 8]>
  %b = fhe.batchnorm %c, %g, %g, %g, %g {eps = 1.0e-5} : !fhe.cipher<[4, 8, 8]>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64> -> !fhe.cipher<[4, 8, 8]>
  %p = fhe.avgpool2d %b {kernel = 2, stride = 2} : !fhe.cipher<[4, 8, 8]> -> !fhe.cipher<[4, 4, 4]>
  %a = fhe.global_avgpool %p : !fhe.cipher<[4, 4, 4]> -> !fhe.cipher<[4]>
  %n = fhe.norm "layernorm" %t, %q, %q {eps = 1.0e-5, range = array<f64: 0.1, 10.0>} : !fhe.cipher<[5, 16]>, tensor<16xf64>, tensor<16xf64> -> !fhe.cipher<[5, 16]>
  %r = fhe.norm "rmsnorm" %n, %q {eps = 1.0e-6, range = array<f64: 0.1, 10.0>} : !fhe.cipher<[5, 16]>, tensor<16xf64> -> !fhe.cipher<[5, 16]>
  %s = fhe.softmax %r {axis = -1, range = array<f64: -8.0, 8.0>} : !fhe.cipher<[5, 16]> -> !fhe.cipher<[5, 16]>
  %st = fhe.transpose %s {perm = array<i64>} : !fhe.cipher<[5, 16]> -> !fhe.cipher<[16, 5]>
  // CHECK: fhe.matmul %{{.*}}, %{{.*}} : (!fhe.cipher<[5, 16]>, !fhe.cipher<[16, 5]>) -> !fhe.cipher<[5, 5]>
  %att = fhe.matmul %s, %st : (!fhe.cipher<[5, 16]>, !fhe.cipher<[16, 5]>) -> !fhe.cipher<[5, 5]>
  %mx = fhe.maxmin %a, %a {is_max = true, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[4]>
  return %mx : !fhe.cipher<[4]>
}
