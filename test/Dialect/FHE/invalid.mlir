// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// The shape rules, broken once each (messages come from cerium/DSL/Shapes).

func.func @broadcast(%x: !fhe.cipher<[4, 8]>, %p: tensor<3xf64>) {
  // expected-error@+1 {{'fhe.add' op shapes [4, 8] and [3] do not broadcast}}
  %0 = fhe.add %x, %p : (!fhe.cipher<[4, 8]>, tensor<3xf64>) -> !fhe.cipher<[4, 8]>
  return
}

// -----

func.func @wrong_result(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) {
  // expected-error@+1 {{'fhe.mul' op result type should be '!fhe.cipher<[4]>'}}
  %0 = fhe.mul %x, %p : (!fhe.cipher<[4]>, tensor<4xf64>) -> tensor<4xf64>
  return
}

// -----

func.func @cipher_divisor(%x: !fhe.cipher<[4]>) {
  // expected-error@+1 {{'fhe.div' op cannot divide by an encrypted value}}
  %0 = fhe.div %x, %x : (!fhe.cipher<[4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[4]>
  return
}

// -----

func.func @matmul(%x: !fhe.cipher<[4, 8]>, %w: tensor<4x8xf64>) {
  // expected-error@+1 {{'fhe.matmul' op matmul of [4, 8] and [4, 8]: inner dimensions 8 and 4 differ}}
  %0 = fhe.matmul %x, %w : (!fhe.cipher<[4, 8]>, tensor<4x8xf64>) -> !fhe.cipher<[4, 8]>
  return
}

// -----

func.func @linear(%x: !fhe.cipher<[64]>, %w: tensor<32x60xf64>) {
  // expected-error@+1 {{'fhe.linear' op linear of input [64] with weight [32, 60]: the input's last dimension must be 60}}
  %0 = fhe.linear %x, %w : !fhe.cipher<[64]>, tensor<32x60xf64> -> !fhe.cipher<[32]>
  return
}

// -----

func.func @reshape(%x: !fhe.cipher<[4, 8]>) {
  // expected-error@+1 {{'fhe.reshape' op cannot reshape [4, 8] (32 elements) to [5, 6]}}
  %0 = fhe.reshape %x {shape = array<i64: 5, 6>} : !fhe.cipher<[4, 8]> -> !fhe.cipher<[5, 6]>
  return
}

// -----

func.func @roll_axis(%x: !fhe.cipher<[4, 8]>) {
  // expected-error@+1 {{'fhe.roll' op axis 2 is out of range for shape [4, 8]}}
  %0 = fhe.roll %x {shift = 1, axis = 2} : !fhe.cipher<[4, 8]> -> !fhe.cipher<[4, 8]>
  return
}

// -----

func.func @conv(%x: !fhe.cipher<[3, 8, 8]>, %w: tensor<4x2x3x3xf64>) {
  // expected-error@+1 {{'fhe.conv2d' op conv2d weight [4, 2, 3, 3] does not fit input [3, 8, 8] with groups = 1}}
  %0 = fhe.conv2d %x, %w {stride = 1, padding = 0, groups = 1} : !fhe.cipher<[3, 8, 8]>, tensor<4x2x3x3xf64> -> !fhe.cipher<[4, 6, 6]>
  return
}

// -----

func.func @range(%x: !fhe.cipher<[4]>) {
  // expected-error@+1 {{'fhe.nonlinear' op range must have lo < hi}}
  %0 = fhe.nonlinear %x {function = "relu", range = array<f64: 1.0, -1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return
}

// -----

func.func @unknown_function(%x: !fhe.cipher<[4]>) {
  // expected-error@+1 {{'fhe.nonlinear' op unknown function 'cosh'}}
  %0 = fhe.nonlinear %x {function = "cosh", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return
}

// -----

func.func @plain_bootstrap(%x: tensor<4xf64>) {
  // expected-error@+1 {{'fhe.bootstrap' op bootstraps encrypted values only}}
  %0 = fhe.bootstrap %x : tensor<4xf64> -> tensor<4xf64>
  return
}

// -----

func.func @rmsnorm_beta(%x: !fhe.cipher<[2, 4]>, %g: tensor<4xf64>) {
  // expected-error@+1 {{'fhe.norm' op layernorm takes beta, rmsnorm does not}}
  %0 = fhe.norm "rmsnorm" %x, %g, %g {eps = 1.0e-6, range = array<f64: 0.1, 4.0>} : !fhe.cipher<[2, 4]>, tensor<4xf64>, tensor<4xf64> -> !fhe.cipher<[2, 4]>
  return
}

// -----

func.func @constant_count() {
  // expected-error@+1 {{'fhe.constant' op has 2 values for a tensor of 3}}
  %0 = fhe.constant [1.0, 2.0] : tensor<3xf64>
  return
}

// -----

// expected-error@+1 {{cipher dimensions must be positive}}
func.func @zero_dim(%x: !fhe.cipher<[0, 4]>) {
  return
}
