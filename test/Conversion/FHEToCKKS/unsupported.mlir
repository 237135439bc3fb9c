// RUN: cerium-opt %s --fhe-to-ckks -split-input-file -verify-diagnostics
// Lowerings that belong to later work fail with a located, clear error.

func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{not yet supported: 'fhe.softmax' (its lowering to ckks is later work)}}
  %y = fhe.softmax %x {axis = 0, range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[2, 4]>) -> !fhe.cipher<[2, 2, 3]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0] : tensor<2x4x3xf64>
  // expected-error@+1 {{not yet supported: cipher @ plain with a plain operand of rank 3}}
  %z = fhe.matmul %x, %w : (!fhe.cipher<[2, 4]>, tensor<2x4x3xf64>) -> !fhe.cipher<[2, 2, 3]>
  return %z : !fhe.cipher<[2, 2, 3]>
}

// -----

// Its result is laid out like any unsupported op's (compact) while the
// layout assignment prices the sum reading it.
func.func @main(%x: !fhe.cipher<[2, 4]>) -> !fhe.cipher<[1]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<4xf64>
  // expected-error@+1 {{not yet supported: cipher @ plain with a plain operand of rank 1}}
  %z = fhe.matmul %x, %w : (!fhe.cipher<[2, 4]>, tensor<4xf64>) -> !fhe.cipher<[2]>
  %s = fhe.sum %z : !fhe.cipher<[2]> -> !fhe.cipher<[1]>
  return %s : !fhe.cipher<[1]>
}

// -----

// expected-error@+1 {{not yet supported: plain inputs of main (server-side run-time plaintexts)}}
func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) -> !fhe.cipher<[4]> {
  %z = fhe.mul %x, %p : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{cannot approximate log on [-1, 1]: log is undefined or infinite at x <= 0; its range must have lo > 0}}
  %y = fhe.nonlinear %x {function = "log", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}
